/**
 * Write-behind flushing of created files (src/binary/flush-behind.ts via FileBlockDevice):
 * the helper thread starts only once `flushEvery` bytes are written (it holds its own
 * descriptor of the file, which /proc/self/fd shows), is gone after close(), and the file
 * holds exactly the bytes written, with holes where nothing was.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlockDevice } from '../../src/binary/file-device.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-flush-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Descriptors of this process open on `file`. */
function openOn(file: string): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** Waits until `cond` holds (the test's timeout is the only bound: no assertion about time). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}

describe('FileBlockDevice flush-behind', () => {
  it('starts its helper after flushEvery bytes, stops it on close, and leaves the bytes written', async () => {
    const file = path.join(dir, 'img');
    const mib = 1 << 20;
    const dev = FileBlockDevice.create(file, 16 * mib, { flushEvery: 2 * mib });
    const chunk = new Uint8Array(mib).fill(0xa5);
    dev.writeAt(0, chunk);
    expect(dev.flushBehind!.started).toBe(false); // 1 MiB written: no helper
    expect(openOn(file)).toBe(1);
    dev.writeAt(4 * mib, chunk);
    dev.writeAt(5 * mib, chunk);
    expect(dev.flushBehind!.started).toBe(true);
    await until(() => openOn(file) === 2); // the helper opened its own descriptor
    dev.writeAt(10 * mib, chunk);
    dev.sync();
    dev.close();
    await dev.flushBehind!.ended(); // the helper thread's exit event
    expect(openOn(file)).toBe(0);
    const back = fs.readFileSync(file);
    for (const at of [0, 4, 5, 10]) expect(back.subarray(at * mib, (at + 1) * mib).every((b) => b === 0xa5), `MiB ${at}`).toBe(true);
    expect(back.subarray(mib, 4 * mib).every((b) => b === 0)).toBe(true);
    expect(fs.statSync(file).blocks * 512).toBeLessThanOrEqual(4 * mib + 64 * 1024);
  });

  it('never starts a helper with flushEvery 0, and survives its file being removed', async () => {
    const file = path.join(dir, 'off');
    const dev = FileBlockDevice.create(file, 8 << 20, { flushEvery: 0 });
    dev.writeAt(0, new Uint8Array(4 << 20).fill(1));
    expect(dev.flushBehind).toBeUndefined();
    expect(openOn(file)).toBe(1);
    dev.close();

    const gone = path.join(dir, 'gone');
    const dev2 = FileBlockDevice.create(gone, 8 << 20, { flushEvery: 1 << 20 });
    fs.rmSync(gone);
    dev2.writeAt(0, new Uint8Array(4 << 20).fill(1)); // the helper cannot open it: no error here
    expect(dev2.flushBehind!.started).toBe(true);
    dev2.close();
    await dev2.flushBehind!.ended();
  });
});
