// finishImage: DIB's finish_image rule for an existing output, on plain files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dibTimestamp, finishImage, oldImageName } from '../../src/pipeline/publish.js';

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'publish-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const NOW = new Date(2026, 0, 2, 3, 4, 5); // local time, as DIB's `date`
const dir = () => fs.mkdtempSync(path.join(work, 'd-'));
const write = (f: string, text: string) => { fs.writeFileSync(f, text); return f; };
const read = (f: string) => fs.readFileSync(f, 'utf8');

describe('finishImage', () => {
  it('names old images as DIB does: NAME-YYYY.MM.DD-HH.MM.SS.EXT', () => {
    expect(dibTimestamp(NOW)).toBe('2026.01.02-03.04.05');
    expect(oldImageName('/x/debian.qcow2', NOW)).toBe('/x/debian-2026.01.02-03.04.05.qcow2');
    expect(oldImageName('/x/my.image.raw', NOW)).toBe('/x/my.image-2026.01.02-03.04.05.raw');
    expect(oldImageName('/x/noext', NOW)).toBe('/x/noext-2026.01.02-03.04.05');
  });

  it('no old file: the new one and its sums take the names', () => {
    const d = dir();
    const r = finishImage(write(path.join(d, '.tmp'), 'new'), path.join(d, 'a.raw'), { overwrite: false, now: NOW, sums: { md5: write(path.join(d, '.tmp.md5'), 'sum') } });
    expect(r).toEqual({});
    expect(fs.readdirSync(d).sort()).toEqual(['a.raw', 'a.raw.md5']);
    expect(read(path.join(d, 'a.raw.md5'))).toBe('sum');
  });

  it('an old file and its sums move to the dated name; a dated name that is taken gets -2', () => {
    const d = dir();
    const dest = path.join(d, 'a.raw');
    write(dest, 'old');
    write(`${dest}.sha256`, 'old sha');
    write(path.join(d, 'a-2026.01.02-03.04.05.raw'), 'older, same second');
    const lines: string[] = [];
    const r = finishImage(write(path.join(d, '.tmp'), 'new'), dest, { overwrite: false, now: NOW, log: (l) => lines.push(l) });
    expect(r.renamedTo).toBe(path.join(d, 'a-2026.01.02-03.04.05-2.raw'));
    expect(read(r.renamedTo!)).toBe('old');
    expect(read(`${r.renamedTo}.sha256`)).toBe('old sha');
    expect(read(path.join(d, 'a-2026.01.02-03.04.05.raw'))).toBe('older, same second');
    expect(read(dest)).toBe('new');
    expect(fs.existsSync(`${dest}.sha256`)).toBe(false); // it described the old bytes
    expect(lines).toEqual([`Old image found. Renamed it to ${r.renamedTo}`]);
  });

  it('overwrite: the old file and its sums are replaced, nothing kept', () => {
    const d = dir();
    const dest = path.join(d, 'a.raw');
    write(dest, 'old');
    write(`${dest}.md5`, 'old md5');
    write(`${dest}.sha256`, 'old sha');
    finishImage(write(path.join(d, '.tmp'), 'new'), dest, { overwrite: true, now: NOW, sums: { md5: write(path.join(d, '.tmp.md5'), 'new md5') } });
    expect(fs.readdirSync(d).sort()).toEqual(['a.raw', 'a.raw.md5']);
    expect([read(dest), read(`${dest}.md5`)]).toEqual(['new', 'new md5']);
  });

  it('an output name that is a folder is refused, and nothing moves', () => {
    const d = dir();
    fs.mkdirSync(path.join(d, 'a.raw'));
    const tmp = write(path.join(d, '.tmp'), 'new');
    expect(() => finishImage(tmp, path.join(d, 'a.raw'), { overwrite: false, now: NOW })).toThrow(/exists and is not a regular file/);
    expect(read(tmp)).toBe('new');
  });

  it('a failure part way puts the old names back (the finished file is missing)', () => {
    const d = dir();
    const dest = path.join(d, 'a.raw');
    write(dest, 'old');
    write(`${dest}.md5`, 'old md5');
    expect(() => finishImage(path.join(d, '.gone'), dest, { overwrite: false, now: NOW })).toThrow(/renaming the finished file/);
    expect(fs.readdirSync(d).sort()).toEqual(['a.raw', 'a.raw.md5']);
    expect([read(dest), read(`${dest}.md5`)]).toEqual(['old', 'old md5']);
  });
});
