import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Cursor } from '../../src/binary/cursor.js';
import { crc32, crc32Table } from '../../src/binary/crc32.js';
import { decodeGuid, encodeGuid, seededGuid, randomGuid } from '../../src/binary/guid.js';
import { MemoryBlockDevice, SliceBlockDevice } from '../../src/binary/block-device.js';
import { FileBlockDevice } from '../../src/binary/file-device.js';
import { u16, u32 } from '../../src/binary/struct.js';

describe('crc32', () => {
  it('matches the check value and its table twin', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Table(check)).toBe(0xcbf43926);
    const data = new Uint8Array(10000).map((_, i) => (i * 7) & 0xff);
    expect(crc32(data)).toBe(crc32Table(data));
    expect(crc32(data.subarray(5000), crc32(data.subarray(0, 5000)))).toBe(crc32(data));
  });
});

describe('guid', () => {
  it('encodes mixed-endian as GPT stores it', () => {
    // The EFI system partition type GUID and its on-disk bytes (UEFI spec, table 5.x).
    const b = encodeGuid('c12a7328-f81f-11d2-ba4b-00a0c93ec93b');
    expect(Buffer.from(b).toString('hex')).toBe('28732ac11ff8d211ba4b00a0c93ec93b');
    expect(decodeGuid(b)).toBe('c12a7328-f81f-11d2-ba4b-00a0c93ec93b');
  });
  it('derives the same GUID from the same seed, a different one per purpose', () => {
    expect(seededGuid('s', 'disk')).toBe(seededGuid('s', 'disk'));
    expect(seededGuid('s', 'disk')).not.toBe(seededGuid('s', 'root'));
    expect(seededGuid('s', 'disk')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(randomGuid()).not.toBe(randomGuid());
  });
  it('rejects malformed strings', () => {
    expect(() => encodeGuid('not-a-guid')).toThrow(/not a GUID/);
  });
});

describe('cursor', () => {
  it('reads and writes in sequence and reports short buffers', () => {
    const c = new Cursor(new Uint8Array(8));
    c.write(u16, 0x1234).align(4).write(u32, 7);
    expect(c.pos).toBe(8);
    const r = new Cursor(c.buf);
    expect(r.read(u16)).toBe(0x1234);
    r.align(4);
    expect(r.read(u32)).toBe(7);
    expect(() => r.read(u16)).toThrow(/need 2 bytes at offset 8/);
  });
});

describe('block devices', () => {
  it('slices a window and refuses access outside it', () => {
    const mem = new MemoryBlockDevice(1024);
    const part = new SliceBlockDevice(mem, 512, 256);
    part.writeAt(0, new Uint8Array([1, 2, 3]));
    expect(Array.from(mem.readAt(512, 3))).toEqual([1, 2, 3]);
    expect(() => part.writeAt(255, new Uint8Array(2))).toThrow(/outside/);
  });

  it('keeps a created file sparse: zero runs are never written', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-'));
    const file = path.join(dir, 'img');
    const dev = FileBlockDevice.create(file, 64 << 20);
    const data = new Uint8Array(8 << 20); // 8 MiB, only two grains non-zero
    data[100] = 1;
    data[(6 << 20) + 5] = 2;
    dev.writeAt(1 << 20, data);
    dev.close();
    const st = fs.statSync(file);
    expect(st.size).toBe(64 << 20);
    expect(st.blocks * 512).toBeLessThanOrEqual(64 * 1024);
    const back = FileBlockDevice.open(file);
    expect(back.readAt((1 << 20) + 100, 1)[0]).toBe(1);
    expect(back.readAt((7 << 20) + 5, 1)[0]).toBe(2);
    back.close();
    expect(() => FileBlockDevice.create(file, 10)).toThrow(/EEXIST/);
    // Reported by du too, the tool a person would use: at most 64 KiB allocated.
    const du = /^(\d+)\s/.exec(execFileSync('du', ['-k', file]).toString());
    expect(du, 'du -k output').not.toBeNull();
    expect(Number(du![1])).toBeLessThanOrEqual(64);
    fs.rmSync(dir, { recursive: true });
  });

  it('writes zeros into an existing file opened for update', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-'));
    const file = path.join(dir, 'img');
    fs.writeFileSync(file, Buffer.alloc(8192, 0xff));
    const dev = FileBlockDevice.open(file, 'r+');
    dev.writeAt(0, new Uint8Array(8192));
    dev.close();
    expect(fs.readFileSync(file).every((b) => b === 0)).toBe(true);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('FileBlockDevice.writtenRanges', () => {
  it('records the 64 KiB grains that got non-zero bytes, merged, and nothing for zeros', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'written-'));
    try {
      const dev = FileBlockDevice.create(path.join(dir, 'x'), 10 * 65536 + 1000, { flushEvery: 0 });
      dev.writeAt(65536 * 2 + 10, new Uint8Array(65536).fill(1)); // grains 2 and 3
      dev.writeAt(65536 * 4, new Uint8Array(65536)); // zeros: nothing
      dev.writeAt(65536 * 10 + 5, new Uint8Array([7])); // the partial last grain
      expect(dev.writtenRanges()).toEqual([[2 * 65536, 4 * 65536], [10 * 65536, 10 * 65536 + 1000]]);
      dev.close();
      expect(FileBlockDevice.open(path.join(dir, 'x')).writtenRanges()).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
