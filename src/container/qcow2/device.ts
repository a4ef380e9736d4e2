/**
 * A qcow2 image written as the assembler writes: a BlockDevice of the guest's size whose
 * writes go straight into a qcow2 file, so an uncompressed qcow2 build makes no raw
 * intermediate. A guest cluster gets a host cluster the first time non-zero bytes are
 * written into it (host clusters are handed out in write order after the header and L1
 * table; a fresh host cluster reads as zeros, so a partial write needs no read); zeros
 * written where nothing was allocated are dropped, so zero clusters are never stored.
 * `finish` writes the L2 tables, refcounts, L1 table and header (writer.ts's layout for data
 * of unknown extent). Neighbouring guest clusters allocated together stay neighbours on the
 * host, and are written with one call.
 */
import { type BlockDevice, isZero } from '../../binary/block-device.js';
import { InternalError } from '../../errors.js';
import type { ImageSource } from '../source.js';
import { OFLAG_COPIED } from './struct.js';
import { geometry, setEntry, writeMetadataAfter, type Geometry, type Qcow2Options } from './writer.js';

/** The file underneath: positional reads and writes, growing as written. */
export interface HostFile {
  readAt(offset: number, length: number): Uint8Array;
  writeAt(offset: number, data: Uint8Array): void;
}

export class Qcow2WriteDevice implements BlockDevice {
  private readonly g: Geometry;
  /** Host byte offset of each allocated guest cluster, by L1 index then L2 index (0 = none). */
  private readonly map = new Map<number, Float64Array>();
  private next: number;
  private finished = false;
  dataClusters = 0;

  constructor(private readonly host: HostFile, readonly size: number, o: Pick<Qcow2Options, 'compat' | 'clusterBits'> = {}) {
    if (size % 512 !== 0) throw new InternalError(`qcow2 device: size ${size} is not a whole number of 512-byte sectors`);
    this.g = geometry(size, o);
    this.next = (1 + this.g.l1Clusters) * this.g.cs;
  }

  private hostOf(c: number): number {
    return this.map.get(Math.floor(c / this.g.l2Entries))?.[c % this.g.l2Entries] ?? 0;
  }

  private allocate(c: number): number {
    const i = Math.floor(c / this.g.l2Entries);
    let t = this.map.get(i);
    if (!t) this.map.set(i, (t = new Float64Array(this.g.l2Entries)));
    const h = this.next;
    this.next += this.g.cs;
    t[c % this.g.l2Entries] = h;
    this.dataClusters++;
    return h;
  }

  private check(offset: number, length: number): void {
    if (this.finished) throw new InternalError('qcow2 device: already finished');
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new InternalError(`qcow2 device: access of ${length} bytes at offset ${offset} is outside the device of ${this.size} bytes`);
    }
  }

  writeAt(offset: number, data: Uint8Array): void {
    this.check(offset, data.length);
    const { cs } = this.g;
    // Runs of pieces whose host bytes are contiguous go out in one write.
    let runHost = -1;
    let runFrom = 0;
    let runTo = 0;
    const flush = () => {
      if (runHost >= 0 && runTo > runFrom) this.host.writeAt(runHost, data.subarray(runFrom, runTo));
      runHost = -1;
    };
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const c = Math.floor(pos / cs);
      const within = pos - c * cs;
      const n = Math.min(cs - within, data.length - done);
      let h = this.hostOf(c);
      if (h === 0 && !isZero(data, done, done + n)) h = this.allocate(c);
      if (h === 0) {
        flush();
      } else if (runHost >= 0 && runHost + (runTo - runFrom) === h + within) {
        runTo = done + n;
      } else {
        flush();
        runHost = h + within;
        runFrom = done;
        runTo = done + n;
      }
      done += n;
    }
    flush();
  }

  readAt(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    const { cs } = this.g;
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const c = Math.floor(pos / cs);
      const within = pos - c * cs;
      const n = Math.min(cs - within, length - done);
      const h = this.hostOf(c);
      if (h !== 0) out.set(this.host.readAt(h + within, n), done);
      done += n;
    }
    return out;
  }

  /** The data as written, for a second container made from this one. */
  source(): ImageSource {
    const ranges: [number, number][] = [];
    for (const [i, t] of [...this.map.entries()].sort((a, b) => a[0] - b[0])) {
      t.forEach((h, k) => {
        if (h === 0) return;
        const start = (i * this.g.l2Entries + k) * this.g.cs;
        ranges.push([start, Math.min(this.size, start + this.g.cs)]);
      });
    }
    return { size: this.size, readAt: (o, n) => this.readAt(o, n), dataRanges: ranges };
  }

  /** Writes the metadata; returns the file's length. The device takes no more writes. */
  finish(): { length: number } {
    this.check(0, 0);
    const l2 = new Map<number, Uint8Array>();
    for (const [i, t] of this.map) {
      const table = new Uint8Array(this.g.cs);
      t.forEach((h, k) => { if (h !== 0) setEntry(table, k, OFLAG_COPIED | BigInt(h)); });
      l2.set(i, table);
    }
    const length = writeMetadataAfter(this.host, this.g, this.size, this.next, l2, () => 1);
    this.finished = true;
    return { length };
  }
}
