/**
 * GUIDs as GPT stores them: the first three groups little-endian, the last two as bytes
 * ("mixed-endian"). Random ones come from the system's CSPRNG; seeded ones are a SHA-256
 * of the seed and a purpose string shaped as a version-4 GUID, so a build with a seed
 * is reproducible.
 */
import { InternalError } from '../errors.js';
import { createHash, randomBytes } from 'node:crypto';

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(s: string): boolean {
  return GUID_RE.test(s);
}

/** Encodes "01234567-89ab-cdef-0123-456789abcdef" into 16 bytes, mixed-endian. */
export function encodeGuid(s: string): Uint8Array {
  if (!isGuid(s)) throw new InternalError(`'${s}' is not a GUID (expected 8-4-4-4-12 hex digits)`);
  const hex = s.replace(/-/g, '');
  const b = Buffer.from(hex, 'hex');
  const out = new Uint8Array(16);
  out.set([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!], 0);
  out.set(b.subarray(8, 16), 8);
  return out;
}

export function decodeGuid(b: Uint8Array, off = 0): string {
  const x = (i: number) => b[off + i]!.toString(16).padStart(2, '0');
  const r = (idx: number[]) => idx.map(x).join('');
  return `${r([3, 2, 1, 0])}-${r([5, 4])}-${r([7, 6])}-${r([8, 9])}-${r([10, 11, 12, 13, 14, 15])}`;
}

/** Big-endian (RFC 4122 byte order) encoding, as ext4 and FAT volume ids store UUIDs. */
export function uuidToBytes(s: string): Uint8Array {
  if (!isGuid(s)) throw new InternalError(`'${s}' is not a UUID (expected 8-4-4-4-12 hex digits)`);
  return new Uint8Array(Buffer.from(s.replace(/-/g, ''), 'hex'));
}

export function bytesToUuid(b: Uint8Array, off = 0): string {
  const h = Buffer.from(b.subarray(off, off + 16)).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function shapeV4(b: Uint8Array): string {
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return bytesToUuid(b);
}

export function randomGuid(): string {
  return shapeV4(new Uint8Array(randomBytes(16)));
}

/** A version-4-shaped GUID derived from a seed and a purpose ("disk", "partition:root", ...). */
export function seededGuid(seed: string, purpose: string): string {
  const h = createHash('sha256').update(seed).update('\0').update(purpose).digest();
  return shapeV4(new Uint8Array(h.subarray(0, 16)));
}

/** Seeded when a seed is given, random otherwise. */
export function makeGuid(seed: string | undefined, purpose: string): string {
  return seed === undefined ? randomGuid() : seededGuid(seed, purpose);
}
