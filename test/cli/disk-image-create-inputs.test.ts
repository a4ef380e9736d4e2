// disk-image-create given bad input through --root-tar / --root-dir: each gets a clear error
// naming the problem, exit code 1, and nothing is left behind (no output, no temporary file,
// no build folder). Archives are made by GNU tar, the reference tool.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-run.js';

let work: string;
let env: NodeJS.ProcessEnv;
let src: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dic-inputs-'));
  env = { PATH: process.env.PATH, HOME: work, TMPDIR: work };
  src = path.join(work, 'src');
  fs.mkdirSync(path.join(src, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(src, 'etc/hostname'), 'inputs\n');
  // 24 MiB of incompressible data: larger than a 16 MiB image can hold.
  execFileSync('dd', ['if=/dev/urandom', `of=${path.join(src, 'big')}`, 'bs=1M', 'count=24', 'status=none']);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Everything in `work` except the inputs the test made: must stay empty. */
function leftovers(): string[] {
  return fs.readdirSync(work).filter((n) => !n.startsWith('tsx-') && !['src', 'in.tar', 'evil.tar', 'abs.tar', 'outside'].includes(n));
}

async function expectCleanFailure(args: string[], message: RegExp): Promise<void> {
  const out = path.join(work, 'out');
  const r = await runCli(['-t', 'raw', '-n', '-o', out, ...args], env);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(fs.existsSync(`${out}.raw`)).toBe(false);
  expect(leftovers()).toEqual([]);
}

describe('disk-image-create with bad input', () => {
  it('a truncated tar archive', async () => {
    const tar = path.join(work, 'in.tar');
    execFileSync('tar', ['-C', src, '-cf', tar, '.']);
    fs.truncateSync(tar, Math.floor(fs.statSync(tar).size / 2) + 100);
    await expectCleanFailure(['--root-tar', tar], /truncat|ends|unexpected end/i);
  });

  it('a tar archive with a ../ member', async () => {
    const outside = path.join(work, 'outside');
    fs.writeFileSync(outside, 'x');
    const tar = path.join(work, 'evil.tar');
    // -P keeps the leading ../ that GNU tar would otherwise strip.
    execFileSync('tar', ['-C', src, '-P', '-cf', tar, '../outside']);
    await expectCleanFailure(['--root-tar', tar], /\.\.\//);
  });

  it('a tar archive with an absolute member path', async () => {
    const tar = path.join(work, 'abs.tar');
    execFileSync('tar', ['-P', '-cf', tar, path.join(src, 'etc/hostname')]);
    await expectCleanFailure(['--root-tar', tar], /absolute/i);
  });

  it('a tree larger than the requested image size names the size it needs', async () => {
    // 0.015 GB (GiB, as DIB) is about 15 MiB: too small for 24 MiB of content.
    await expectCleanFailure(['--root-dir', src, '--image-size', '0.015'], /need|needs/i);
  });

  it('a root directory that does not exist', async () => {
    await expectCleanFailure(['--root-dir', path.join(work, 'nope')], /nope/);
  });
});
