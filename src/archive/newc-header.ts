/**
 * The cpio "new ASCII" (newc, magic 070701) header, and its "crc" twin (070702), as the Linux
 * kernel's initramfs unpacker reads them (Documentation/driver-api/early-userspace/
 * buffer-format.rst) and GNU cpio writes them: 110 bytes, a 6-byte magic and 13 fields of
 * 8 uppercase hexadecimal digits, then the NUL-terminated name padded so that the data
 * starts on a 4-byte boundary, then the data padded to 4 bytes. An archive ends with an
 * entry named TRAILER!!!.
 */
import { alignUp } from '../binary/align.js';
import { FormatError, InternalError } from '../errors.js';
import { ascii, defineStruct, type Codec, type StructValue } from '../binary/struct.js';

/** An unsigned 32-bit number as 8 hexadecimal ASCII digits (uppercase on write, either on read). */
const hex8: Codec<number> = {
  size: 8,
  name: 'hex8',
  read(buf, off) {
    let v = 0;
    for (let i = 0; i < 8; i++) {
      const c = buf[off + i]!;
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
      if (d < 0) throw new FormatError({ struct: 'cpio newc header', offset: off + i, expected: 'a hexadecimal digit', actual: `byte 0x${c.toString(16)}` });
      v = v * 16 + d;
    }
    return v;
  },
  write(buf, off, value) {
    // The writer's plan keeps every value below 2^32; the struct names the field.
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new InternalError(`hex8: value ${value} does not fit 32 bits`);
    for (let i = 7; i >= 0; i--) {
      const d = value % 16;
      buf[off + i] = d < 10 ? 0x30 + d : 0x37 + d;
      value = Math.floor(value / 16);
    }
  },
};

export const NEWC_MAGIC = '070701';
export const NEWC_CRC_MAGIC = '070702';
export const NEWC_TRAILER = 'TRAILER!!!';
export const NEWC_HEADER_SIZE = 110;

export const NewcHeader = defineStruct('cpio newc header', NEWC_HEADER_SIZE, {
  c_magic: [0x00, ascii(6)],
  c_ino: [0x06, hex8],
  c_mode: [0x0e, hex8],
  c_uid: [0x16, hex8],
  c_gid: [0x1e, hex8],
  c_nlink: [0x26, hex8],
  c_mtime: [0x2e, hex8],
  c_filesize: [0x36, hex8],
  c_devmajor: [0x3e, hex8],
  c_devminor: [0x46, hex8],
  c_rdevmajor: [0x4e, hex8],
  c_rdevminor: [0x56, hex8],
  c_namesize: [0x5e, hex8],
  c_check: [0x66, hex8],
});

export type NewcHeaderValue = StructValue<typeof NewcHeader.fields>;

/** Bytes of padding after `n` bytes so that the next item starts on a 4-byte boundary. */
export function pad4(n: number): number {
  return alignUp(n, 4) - n;
}
