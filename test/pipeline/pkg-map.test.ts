// pkg-map's rules, one table of cases held against both implementations: the pipeline's
// (src/pipeline/pkg-map.ts, used for package-installs) and the one in the image
// (flavours/pkg-map/bin/pkg-map, Python 3, run here on the host against a temporary folder).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapPackages } from '../../src/pipeline/pkg-map.js';
import { hasTool } from '../helpers/tools.js';

const MAP = {
  release: { debian: { trixie: { a: 'a-trixie' } } },
  distro: { debian: { a: 'a-debian', b: 'b-debian' } },
  family: { debian: { a: 'a-family', b: 'b-family', c: 'c-family', gone: '' }, redhat: { c: 'c-redhat' } },
  default: { a: 'a-default', b: 'b-default', c: 'c-default', d: 'd-default' },
};

// [what, distro, release, names, missingOk, expected output, expected exit]
const CASES: [string, string, string, string[], boolean, string[], number][] = [
  ['release beats distro', 'debian', 'trixie', ['a'], false, ['a-trixie'], 0],
  ['distro beats family (another release)', 'debian', 'bookworm', ['a', 'b'], false, ['a-debian', 'b-debian'], 0],
  ['family beats default', 'ubuntu', 'noble', ['b', 'c'], false, ['b-family', 'c-family'], 0],
  ['default when nothing more specific', 'fedora', '40', ['c', 'd'], false, ['c-redhat', 'd-default'], 0],
  ['"" drops the package', 'debian', 'trixie', ['gone', 'd'], false, ['d-default'], 0],
  ['no mapping is an error (exit 1)', 'debian', 'trixie', ['zzz'], false, [], 1],
  ['--missing-ok passes unmapped names through', 'debian', 'trixie', ['zzz', 'a'], true, ['zzz', 'a-trixie'], 0],
];

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pkgmap-'));
  fs.writeFileSync(path.join(tmp, 'el'), JSON.stringify(MAP));
  fs.writeFileSync(path.join(tmp, 'broken'), '{"default": ');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const script = new URL('../../flavours/pkg-map/bin/pkg-map', import.meta.url).pathname;
function pkgMap(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(script, args, { encoding: 'utf8', env: { PATH: process.env.PATH!, PKG_MAP_DIR: tmp, ...env } });
  return { out: r.stdout.split('\n').filter(Boolean), code: r.status };
}

describe('pkg-map (pipeline)', () => {
  for (const [what, distro, release, names, ok, out, code] of CASES) {
    it(what, () => {
      const r = mapPackages(MAP, distro, release, names, ok);
      if (code === 0) expect(r.packages).toEqual(out);
      else expect(r.unmapped.length).toBeGreaterThan(0);
    });
  }
});

describe.skipIf(!hasTool('python3'))('pkg-map (in the image)', () => {
  for (const [what, distro, release, names, ok, out, code] of CASES) {
    it(what, () => {
      const r = pkgMap(['--element', 'el', ...(ok ? ['--missing-ok'] : []), ...names], { DISTRO_NAME: distro, DIB_RELEASE: release });
      expect(r.code).toBe(code);
      if (code === 0) expect(r.out).toEqual(out);
    });
  }
  it('--prefix marks each output line; --distro/--release override the environment', () => {
    expect(pkgMap(['--element', 'el', '--prefix', '-', '--distro', 'debian', '--release', 'trixie', 'a', 'd'], { DISTRO_NAME: 'fedora' }).out).toEqual(['-a-trixie', '-d-default']);
  });
  it('exit 2 for an element without a map; with --missing-ok the names pass through', () => {
    expect(pkgMap(['--element', 'none', 'x'], { DISTRO_NAME: 'debian' }).code).toBe(2);
    expect(pkgMap(['--element', 'none', '--missing-ok', 'x'], { DISTRO_NAME: 'debian' })).toEqual({ out: ['x'], code: 0 });
  });
  it('exit 1 without --element, without a distro, or for a map that is not JSON', () => {
    expect(pkgMap(['x'], { DISTRO_NAME: 'debian' }).code).toBe(1);
    expect(pkgMap(['--element', 'el', 'a']).code).toBe(1);
    expect(pkgMap(['--element', 'broken', 'a'], { DISTRO_NAME: 'debian' }).code).toBe(1);
  });
});
