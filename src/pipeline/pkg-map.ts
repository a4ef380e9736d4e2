/**
 * DIB's pkg-map rules (elements/pkg-map/README.rst): an element's `pkg-map` JSON maps the
 * generic package names its package-installs files use to the names of the target's
 * distribution. The most specific level wins: release (release.DISTRO.RELEASE), then
 * distro (distro.DISTRO), then family (family.FAMILY), then default. A name mapped to ""
 * is dropped; a name with no mapping is an error unless missing is ok, when it passes
 * through. The same rules run inside the image as flavours/pkg-map/bin/pkg-map (the
 * tests hold both to one table of cases).
 */
import { ConfigError } from '../errors.js';

export type PkgMap = Record<string, unknown>;

/** DIB's distribution families. */
const FAMILIES: Readonly<Record<string, string>> = {
  fedora: 'redhat', rhel: 'redhat', rhel7: 'redhat', centos: 'redhat', centos7: 'redhat',
  debian: 'debian', ubuntu: 'debian', opensuse: 'suse', gentoo: 'gentoo',
};

export function osFamily(distro: string): string | undefined {
  return FAMILIES[distro];
}

/** Parses a pkg-map file's text; not JSON (or not an object) is a ConfigError naming the file. */
export function parsePkgMap(text: string, file: string, element: string): PkgMap {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`element ${element}`, `${file} is not valid JSON: ${(e as Error).message}`,
      'a pkg-map holds a JSON object with "release", "distro", "family" and/or "default" keys');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`element ${element}`, `${file} holds a JSON ${Array.isArray(data) ? 'array' : typeof data}, expected an object`,
      'a pkg-map holds a JSON object with "release", "distro", "family" and/or "default" keys');
  }
  return data as PkgMap;
}

function level(map: PkgMap, ...keys: string[]): Record<string, string> {
  let at: unknown = map;
  for (const k of keys) {
    if (at === null || typeof at !== 'object') return {};
    at = (at as Record<string, unknown>)[k];
  }
  return at !== null && typeof at === 'object' ? (at as Record<string, string>) : {};
}

/** The name table for a distribution and release: default < family < distro < release. */
export function nameTable(map: PkgMap, distro: string, release: string | undefined): Record<string, string> {
  const family = osFamily(distro);
  return {
    ...level(map, 'default'),
    ...(family ? level(map, 'family', family) : {}),
    ...level(map, 'distro', distro),
    ...(release !== undefined ? level(map, 'release', distro, release === '8-stream' ? '8' : release) : {}),
  };
}

export interface MapResult { packages: string[]; unmapped: string[] }

/** Maps `names`; `unmapped` lists the names without an entry (passed through when missingOk). */
export function mapPackages(map: PkgMap, distro: string, release: string | undefined, names: string[], missingOk: boolean): MapResult {
  const table = nameTable(map, distro, release);
  const packages: string[] = [];
  const unmapped: string[] = [];
  for (const n of names) {
    if (Object.prototype.hasOwnProperty.call(table, n)) {
      if (table[n]) packages.push(String(table[n]));
    } else {
      unmapped.push(n);
      if (missingOk) packages.push(n);
    }
  }
  return { packages, unmapped };
}
