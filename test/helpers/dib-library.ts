/**
 * diskimage-builder's element library, as Debian packages it (python3-diskimage-builder), for
 * tests that run DIB's own elements. Fetched with `apt-get download` and unpacked with
 * `dpkg-deb -x` (installing it would put DIB's own commands on PATH), once, into the test
 * cache OUTSIDE the repository, under the package's file name (its version), and shared by
 * concurrent test processes under a flock. Tests treat the unpacked tree as read-only and copy
 * the elements they need.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { testCacheDir } from './debian-root.js';
import { hasTool } from './tools.js';

export const DIB_PACKAGE = 'python3-diskimage-builder';
const ELEMENTS = 'usr/lib/python3/dist-packages/diskimage_builder/elements';

/** Why the library cannot be fetched here, or undefined when it can. */
export function dibLibraryUnavailable(): string | undefined {
  for (const tool of ['apt-get', 'dpkg-deb', 'flock']) {
    if (!hasTool(tool)) return `${tool} is not installed`;
  }
  return undefined;
}

/** The `elements` folder of DIB's library (downloaded and unpacked on first use). */
export function dibElementsDir(): string {
  const dir = path.join(testCacheDir(), 'dib-library');
  fs.mkdirSync(dir, { recursive: true });
  const done = fs.readdirSync(dir).find((n) => n.endsWith('.unpacked'));
  if (!done) {
    // apt-get download writes NAME_VERSION_ARCH.deb into the working folder; it is unpacked
    // next to it into a folder of the same name, then stamped.
    execFileSync('flock', [path.join(dir, '.lock'), 'sh', '-c', [
      'set -e; cd "$1"; ls ./*.unpacked >/dev/null 2>&1 && exit 0',
      'rm -rf ./*.deb ./*.tmp; apt-get download -q "$2"',
      'deb=$(ls ./*.deb); rm -rf "${deb%.deb}"; dpkg-deb -x "$deb" "${deb%.deb}.tmp"',
      'mv "${deb%.deb}.tmp" "${deb%.deb}"; touch "${deb%.deb}.unpacked"',
    ].join('\n'), 'sh', dir, DIB_PACKAGE], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const stamp = fs.readdirSync(dir).find((n) => n.endsWith('.unpacked'))!;
  return path.join(dir, stamp.replace(/\.unpacked$/, ''), ELEMENTS);
}

/** A temporary element folder holding copies of just the named DIB elements (for ELEMENTS_PATH). */
export function copyDibElements(names: string[], into: string): string {
  const lib = dibElementsDir();
  fs.mkdirSync(into, { recursive: true });
  for (const n of names) fs.cpSync(path.join(lib, n), path.join(into, n), { recursive: true });
  return into;
}
