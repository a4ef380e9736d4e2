// Test helper: diskimage-builder's element library as Debian packages it
// (python3-diskimage-builder), fetched with `apt-get download` and unpacked with
// `dpkg-deb -x`, never installed (installing would put DIB's own commands on PATH). Cached
// outside the repository under the test cache folder, keyed by the package's version.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { testCacheDir } from './debian-root.js';
import { hasTool } from './tools.js';

const PACKAGE = 'python3-diskimage-builder';
const ELEMENTS = 'usr/lib/python3/dist-packages/diskimage_builder/elements';

/** Why the library cannot be had here, or undefined when it can. */
export function dibLibraryUnavailable(): string | undefined {
  for (const tool of ['apt-get', 'apt-cache', 'dpkg-deb']) if (!hasTool(tool)) return `${tool} is not installed`;
  return candidateVersion() ? undefined : `apt knows no ${PACKAGE} (apt-get update, or enable the main component)`;
}

function candidateVersion(): string | undefined {
  try {
    const out = execFileSync('apt-cache', ['policy', PACKAGE], { encoding: 'utf8' });
    const v = /Candidate:\s*(\S+)/.exec(out)?.[1];
    return v && v !== '(none)' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The library's elements folder (downloaded and unpacked on first use). */
export function dibElementsDir(): string {
  const version = candidateVersion()!;
  const root = path.join(testCacheDir(), 'dib-library');
  fs.mkdirSync(root, { recursive: true });
  const dest = path.join(root, version.replace(/[^0-9A-Za-z.+~-]/g, '_'));
  const elements = path.join(dest, ELEMENTS);
  if (fs.existsSync(elements)) return elements;
  const tmp = fs.mkdtempSync(path.join(root, '.tmp-'));
  try {
    execFileSync('apt-get', ['-o', 'APT::Sandbox::User=root', 'download', `${PACKAGE}=${version}`], { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'] });
    const deb = fs.readdirSync(tmp).find((n) => n.endsWith('.deb'))!;
    execFileSync('dpkg-deb', ['-x', path.join(tmp, deb), path.join(tmp, 'x')]);
    // Two runs at once: the first rename wins, the second finds the folder in place.
    try { fs.renameSync(path.join(tmp, 'x'), dest); } catch (e) { if (!fs.existsSync(elements)) throw e; }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return elements;
}

/** A copy of some of the library's elements in `into` (a folder of the test's own), for a path that holds only those. */
export function copyDibElements(names: string[], into: string): string {
  const lib = dibElementsDir();
  fs.mkdirSync(into, { recursive: true });
  for (const n of names) fs.cpSync(path.join(lib, n), path.join(into, n), { recursive: true });
  return into;
}
