// publishFile: the one "temporary file -> final name" step of the assembler, the build and
// disk-image-layout. Checked on a real filesystem: inode numbers (stat) show link vs rename.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishFile } from '../../src/binary/file-device.js';
import { DiskImageError, InputError } from '../../src/errors.js';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'publish-')); });
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

describe('publishFile', () => {
  it('without overwrite: links into place and removes the temporary', () => {
    const tmp = path.join(dir, 'a.tmp');
    fs.writeFileSync(tmp, 'new');
    const ino = fs.statSync(tmp).ino;
    publishFile(tmp, path.join(dir, 'a'), { overwrite: false });
    expect(fs.statSync(path.join(dir, 'a')).ino).toBe(ino);
    expect(fs.existsSync(tmp)).toBe(false);
  });

  it('without overwrite: a destination that appeared meanwhile is left alone (InputError), the temporary stays for cleanup', () => {
    const tmp = path.join(dir, 'b.tmp');
    const dest = path.join(dir, 'b');
    fs.writeFileSync(tmp, 'new');
    fs.writeFileSync(dest, 'someone else');
    let err: unknown;
    try { publishFile(tmp, dest, { overwrite: false }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(`${dest} appeared while it was being written; it was left alone`);
    expect(fs.readFileSync(dest, 'utf8')).toBe('someone else');
    expect(fs.existsSync(tmp)).toBe(true);
  });

  it('with overwrite: replaces the destination atomically (rename)', () => {
    const tmp = path.join(dir, 'c.tmp');
    const dest = path.join(dir, 'c');
    fs.writeFileSync(tmp, 'new');
    fs.writeFileSync(dest, 'old');
    publishFile(tmp, dest, { overwrite: true });
    expect(fs.readFileSync(dest, 'utf8')).toBe('new');
    expect(fs.existsSync(tmp)).toBe(false);
  });

  it('other failures are DiskImageError IO naming the destination', () => {
    const tmp = path.join(dir, 'd.tmp');
    fs.writeFileSync(tmp, 'new');
    const dest = path.join(dir, 'no-such-dir', 'd');
    let err: unknown;
    try { publishFile(tmp, dest, { overwrite: false }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(DiskImageError);
    expect((err as DiskImageError).code).toBe('IO');
    expect((err as Error).message).toContain(`linking the finished file to ${dest} failed: ENOENT`);
  });
});
