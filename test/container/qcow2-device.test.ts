// The qcow2 block device the assembler writes into directly: random, partial and repeated
// writes, zeros over nothing and over data, reads before the end; the finished file must pass
// qemu-img check and compare identical to a raw file that got the same writes.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSink } from '../../src/binary/file-sink.js';
import { Qcow2WriteDevice } from '../../src/container/qcow2/device.js';
import { hasTool } from '../helpers/tools.js';
import { expectCleanAndIdentical } from './images.js';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qcow2-dev-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasTool('qemu-img'))('Qcow2WriteDevice (needs qemu-img: apt-get install qemu-utils)', () => {
  it('takes writes in any order and finishes into a clean qcow2 equal to the raw', () => {
    const size = 40 * 65536 + 3 * 512;
    const raw = new Uint8Array(size);
    const file = path.join(dir, 'dev.qcow2');
    const sink = FileSink.create(file);
    const dev = new Qcow2WriteDevice(sink, size);
    const write = (at: number, d: Uint8Array) => { raw.set(d, at); dev.writeAt(at, d); };
    write(5 * 65536 + 100, randomBytes(200_000)); // spans clusters, unaligned
    write(0, randomBytes(512));
    write(20 * 65536, new Uint8Array(3 * 65536)); // zeros over nothing: not stored
    write(6 * 65536 + 10, new Uint8Array(1000)); // zeros over data: stored
    write(39 * 65536, randomBytes(65536 + 3 * 512)); // the partial tail
    write(2 * 65536, randomBytes(70_000));
    write(5 * 65536 + 50, randomBytes(100)); // rewrite inside allocated data
    expect(Buffer.from(dev.readAt(5 * 65536, 300_000)).equals(Buffer.from(raw.subarray(5 * 65536, 5 * 65536 + 300_000)))).toBe(true);
    const before = dev.dataClusters;
    const { length } = dev.finish();
    sink.finish(length);
    sink.close();
    expect(before).toBe(1 + 4 + 2 + 2); // cluster 0, 5-8, 2-3, 39-40
    const rawFile = path.join(dir, 'dev.raw');
    fs.writeFileSync(rawFile, raw);
    expectCleanAndIdentical(rawFile, file, 'qcow2');
    expect(() => dev.writeAt(0, new Uint8Array(1))).toThrow(/already finished/);
  });
});
