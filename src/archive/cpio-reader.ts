/**
 * Reads cpio newc (070701) and crc (070702) archives, several concatenated as the kernel
 * accepts them for an initramfs: NUL bytes between archives are skipped (the kernel skips
 * them too), each TRAILER!!! ends one archive. See newc-header.ts for the format.
 */
import { FormatError } from '../errors.js';
import { entryTypeOfMode, type EntryType } from '../tree/model.js';
import { NEWC_CRC_MAGIC, NEWC_HEADER_SIZE, NEWC_MAGIC, NEWC_TRAILER, NewcHeader, pad4, type NewcHeaderValue } from './newc-header.js';

export interface CpioEntry {
  /** Name as stored (UTF-8 decoded; `nameBytes` holds the raw bytes). */
  name: string;
  nameBytes: Uint8Array;
  type: EntryType;
  /** Permission bits (mask 0o7777). */
  perm: number;
  header: NewcHeaderValue;
  /** The entry's data (a view into the archive): file bytes or a symlink's target. */
  data: Uint8Array;
  /** Offset of the header in the input. */
  offset: number;
}

export interface CpioArchive {
  /** Offset of the first header in the input. */
  offset: number;
  entries: CpioEntry[];
}

const decoder = new TextDecoder();

/** Reads every archive in `data`; throws a FormatError naming the offset of what is wrong. */
export function readCpio(data: Uint8Array): CpioArchive[] {
  const archives: CpioArchive[] = [];
  let at = 0;
  let current: CpioArchive | null = null;
  while (at < data.length) {
    if (current === null) {
      // Between archives: NUL padding (GNU cpio pads to 512-byte blocks), then the next magic.
      while (at < data.length && data[at] === 0) at++;
      if (at >= data.length) break;
      current = { offset: at, entries: [] };
    }
    if (at + NEWC_HEADER_SIZE > data.length) {
      throw new FormatError({ struct: 'cpio newc header', offset: at, expected: `${NEWC_HEADER_SIZE} bytes`, actual: `the input ends after ${data.length - at}` });
    }
    const magic = decoder.decode(data.subarray(at, at + 6));
    if (magic !== NEWC_MAGIC && magic !== NEWC_CRC_MAGIC) {
      throw new FormatError({ struct: 'cpio newc header', field: 'c_magic', offset: at, expected: `${NEWC_MAGIC} or ${NEWC_CRC_MAGIC}`,
        actual: JSON.stringify(magic), hint: 'only the newc format (cpio -H newc) is read' });
    }
    let h: NewcHeaderValue;
    try {
      h = NewcHeader.decode(data, at);
    } catch (e) {
      throw new FormatError({ struct: 'cpio newc header', offset: at, expected: 'hexadecimal fields', actual: (e as Error).message });
    }
    const nameStart = at + NEWC_HEADER_SIZE;
    if (h.c_namesize < 1 || nameStart + h.c_namesize > data.length || data[nameStart + h.c_namesize - 1] !== 0) {
      throw new FormatError({ struct: 'cpio newc name', offset: nameStart, expected: `a NUL-terminated name of ${h.c_namesize} bytes`, actual: 'a name that runs past the input or lacks its NUL' });
    }
    const nameBytes = data.subarray(nameStart, nameStart + h.c_namesize - 1);
    const name = decoder.decode(nameBytes);
    const dataStart = nameStart + h.c_namesize + pad4(NEWC_HEADER_SIZE + h.c_namesize);
    if (dataStart + h.c_filesize > data.length) {
      throw new FormatError({ struct: 'cpio newc data', offset: dataStart, expected: `${h.c_filesize} bytes of data for ${name}`, actual: `${data.length - dataStart} bytes left` });
    }
    if (name === NEWC_TRAILER) {
      archives.push(current);
      current = null;
      at = dataStart + h.c_filesize + pad4(h.c_filesize);
      continue;
    }
    const type = entryTypeOfMode(h.c_mode);
    if (!type) throw new FormatError({ struct: 'cpio newc header', field: 'c_mode', offset: at + NewcHeader.offsetOf('c_mode'), expected: 'a known file type', actual: `mode 0${h.c_mode.toString(8)}` });
    current.entries.push({ name, nameBytes, type, perm: h.c_mode & 0o7777, header: h, data: data.subarray(dataStart, dataStart + h.c_filesize), offset: at });
    at = dataStart + h.c_filesize + pad4(h.c_filesize);
  }
  if (current !== null) {
    throw new FormatError({ struct: 'cpio archive', offset: data.length, expected: `a ${NEWC_TRAILER} entry to end the archive that starts at ${current.offset}`, actual: 'the end of the input' });
  }
  return archives;
}
