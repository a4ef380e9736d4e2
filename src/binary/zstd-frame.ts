/**
 * Where zstd frames end (RFC 8878 section 3.1), read from the headers alone: the frame
 * header's size from its descriptor byte, then each block's 3-byte header (last-block flag,
 * type, size), then the optional 4-byte content checksum; skippable frames by their length
 * field. Pure: no decompression, so a codec sees exactly one frame's bytes, and truncated or
 * foreign data is reported the same whichever library decompresses.
 */
import { DiskImageError } from '../errors.js';

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50..0x184D2A5F, then a 4-byte length. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_RLE = 1;
const BLOCK_RESERVED = 3;

/** A frame found in a buffer: its bytes are [start, end); skippable frames carry no data. */
export interface ZstdFrameSpan {
  start: number;
  end: number;
  skippable: boolean;
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

function truncated(data: Uint8Array): DiskImageError {
  return new DiskImageError('FORMAT', `zstd data ends inside a frame (${data.length} bytes read)`);
}

/** Size of the frame header that starts with the descriptor byte `fhd` (magic excluded). */
function frameHeaderSize(fhd: number): number {
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictIdFlag = fhd & 3;
  const fcsSize = [singleSegment, 2, 4, 8][fcsFlag]!;
  return 1 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictIdFlag]! + fcsSize;
}

/** The frame that starts at `start` of `data`: where it ends. Throws FORMAT when it is not one or is cut short. */
export function zstdFrameAt(data: Uint8Array, start: number): ZstdFrameSpan {
  if (start + 4 > data.length) throw truncated(data);
  const magic = u32(data, start);
  if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
    if (start + 8 > data.length) throw truncated(data);
    const end = start + 8 + u32(data, start + 4);
    if (end > data.length) throw truncated(data);
    return { start, end, skippable: true };
  }
  if (magic !== ZSTD_MAGIC) {
    throw new DiskImageError('FORMAT', `zstd data at offset ${start}: not a zstd frame (magic 0x${magic.toString(16).padStart(8, '0')}, expected 0x${ZSTD_MAGIC.toString(16)})`);
  }
  if (start + 5 > data.length) throw truncated(data);
  const fhd = data[start + 4]!;
  let at = start + 4 + frameHeaderSize(fhd);
  for (;;) {
    if (at + 3 > data.length) throw truncated(data);
    const header = data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16);
    const type = (header >> 1) & 3;
    if (type === BLOCK_RESERVED) throw new DiskImageError('FORMAT', `zstd data at offset ${at}: block type 3 is reserved`);
    at += 3 + (type === BLOCK_RLE ? 1 : header >>> 3);
    if (header & 1) break;
  }
  if (fhd & 4) at += 4;
  if (at > data.length) throw truncated(data);
  return { start, end: at, skippable: false };
}

/** Every frame of `data`, in order; throws FORMAT when `data` is not a sequence of whole frames. */
export function zstdFrames(data: Uint8Array): ZstdFrameSpan[] {
  const frames: ZstdFrameSpan[] = [];
  for (let at = 0; at < data.length;) {
    const f = zstdFrameAt(data, at);
    frames.push(f);
    at = f.end;
  }
  return frames;
}
