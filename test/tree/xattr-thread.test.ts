/**
 * The extended-attribute helper thread (src/tree/xattr-thread.ts): what it reads equals what
 * the same function reads on the calling thread, for files with attributes, without, a
 * symlink (its own attributes, not its target's) and a path that does not exist (the same
 * failure); it answers every path itself, and a helper that never starts leaves every path
 * to be read on the calling thread with the same result.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XattrThread, xattrOutcome } from '../../src/tree/xattr-thread.js';

const require = createRequire(import.meta.url);
const xattr = require('@napi-rs/xattr') as typeof import('@napi-rs/xattr');

let dir: string;
let files: string[];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-xattr-thread-'));
  files = [];
  for (let i = 0; i < 1500; i++) {
    const f = path.join(dir, `f${i}`);
    fs.writeFileSync(f, `${i}\n`);
    if (i % 100 === 7) {
      xattr.setAttributeSync(f, 'user.b', Buffer.from(`value ${i}`));
      xattr.setAttributeSync(f, 'user.a', Buffer.from([0, 1, 2, i & 0xff]));
    }
    files.push(f);
  }
  const link = path.join(dir, 'link');
  fs.symlinkSync(files[7]!, link);
  files.push(link, path.join(dir, 'missing'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What the calling thread reads for each path that has attributes or fails, by number. */
function expected(): Map<number, unknown> {
  const out = new Map<number, unknown>();
  files.forEach((f, n) => {
    const o = xattrOutcome(xattr.listAttributesSync, xattr.getAttributeSync, f);
    if ('failed' in o || o.names.length > 0) out.set(n, o);
  });
  return out;
}

describe('XattrThread', () => {
  it('answers every path itself, as the calling thread would read them', () => {
    const t = new XattrThread(require.resolve('@napi-rs/xattr'), xattr.listAttributesSync, xattr.getAttributeSync);
    files.forEach((f, n) => expect(t.add(f)).toBe(n));
    const got = t.finish();
    expect(t.readHere).toBe(0);
    const want = expected();
    expect([...got.keys()]).toEqual([...want.keys()]); // increasing numbers
    expect(got).toEqual(want);
    expect(got.size).toBe(16); // 15 files with attributes and the missing path
    expect(got.get(7)).toEqual({ names: ['user.a', 'user.b'], values: [Uint8Array.from([0, 1, 2, 7]), new Uint8Array(Buffer.from('value 7'))] });
    expect(got.has(files.length - 2)).toBe(false); // the symlink's own attributes: none
    expect(got.get(files.length - 1)).toMatchObject({ failed: 'list', message: expect.stringMatching(/No such file|os error 2\b/) });
  });

  it('reads everything on the calling thread when the helper cannot start', () => {
    const t = new XattrThread(path.join(dir, 'no-such-module.js'), xattr.listAttributesSync, xattr.getAttributeSync);
    for (const f of files) t.add(f);
    const got = t.finish();
    expect(t.readHere).toBe(files.length);
    expect(got).toEqual(expected());
  });
});
