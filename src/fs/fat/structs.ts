/**
 * FAT on-disk structures, each declared once (Microsoft "FAT: General Overview of On-Disk
 * Format", v1.03, sections 3-7; long names per the VFAT LFN layout). Offsets are the spec's.
 */
import { ascii, bytes, defineStruct, u8, u16, u32 } from '../../binary/struct.js';

export const SECTOR = 512;
export const DIR_ENTRY_SIZE = 32;

/** BPB fields shared by FAT12/16/32 (spec section 3.1), offsets 0x00-0x23. */
const commonBpb = {
  BS_jmpBoot: [0x00, bytes(3)],
  BS_OEMName: [0x03, ascii(8)],
  BPB_BytsPerSec: [0x0b, u16],
  BPB_SecPerClus: [0x0d, u8],
  BPB_RsvdSecCnt: [0x0e, u16],
  BPB_NumFATs: [0x10, u8],
  BPB_RootEntCnt: [0x11, u16],
  BPB_TotSec16: [0x13, u16],
  BPB_Media: [0x15, u8],
  BPB_FATSz16: [0x16, u16],
  BPB_SecPerTrk: [0x18, u16],
  BPB_NumHeads: [0x1a, u16],
  BPB_HiddSec: [0x1c, u32],
  BPB_TotSec32: [0x20, u32],
} as const;

/** FAT12/16 boot sector (spec section 3.2). */
export const Fat16BootSector = defineStruct('FAT16 boot sector', SECTOR, {
  ...commonBpb,
  BS_DrvNum: [0x24, u8],
  BS_Reserved1: [0x25, u8],
  BS_BootSig: [0x26, u8],
  BS_VolID: [0x27, u32],
  BS_VolLab: [0x2b, bytes(11)],
  BS_FilSysType: [0x36, ascii(8)],
  BootCode: [0x3e, bytes(448)],
  Signature_word: [0x1fe, u16],
});

/** FAT32 boot sector (spec section 3.3). */
export const Fat32BootSector = defineStruct('FAT32 boot sector', SECTOR, {
  ...commonBpb,
  BPB_FATSz32: [0x24, u32],
  BPB_ExtFlags: [0x28, u16],
  BPB_FSVer: [0x2a, u16],
  BPB_RootClus: [0x2c, u32],
  BPB_FSInfo: [0x30, u16],
  BPB_BkBootSec: [0x32, u16],
  BPB_Reserved: [0x34, bytes(12)],
  BS_DrvNum: [0x40, u8],
  BS_Reserved1: [0x41, u8],
  BS_BootSig: [0x42, u8],
  BS_VolID: [0x43, u32],
  BS_VolLab: [0x47, bytes(11)],
  BS_FilSysType: [0x52, ascii(8)],
  BootCode: [0x5a, bytes(420)],
  Signature_word: [0x1fe, u16],
});

/** FAT32 FSInfo sector (spec section 5). */
export const FsInfo = defineStruct('FAT32 FSInfo', SECTOR, {
  FSI_LeadSig: [0x000, u32],
  FSI_StrucSig: [0x1e4, u32],
  FSI_Free_Count: [0x1e8, u32],
  FSI_Nxt_Free: [0x1ec, u32],
  FSI_TrailSig: [0x1fc, u32],
});
export const FSI_LEAD_SIG = 0x41615252;
export const FSI_STRUC_SIG = 0x61417272;
export const FSI_TRAIL_SIG = 0xaa550000;

/** A short (8.3) directory entry (spec section 6). */
export const DirEntry = defineStruct('FAT directory entry', DIR_ENTRY_SIZE, {
  DIR_Name: [0x00, bytes(11)],
  DIR_Attr: [0x0b, u8],
  DIR_NTRes: [0x0c, u8],
  DIR_CrtTimeTenth: [0x0d, u8],
  DIR_CrtTime: [0x0e, u16],
  DIR_CrtDate: [0x10, u16],
  DIR_LstAccDate: [0x12, u16],
  DIR_FstClusHI: [0x14, u16],
  DIR_WrtTime: [0x16, u16],
  DIR_WrtDate: [0x18, u16],
  DIR_FstClusLO: [0x1a, u16],
  DIR_FileSize: [0x1c, u32],
});

/** A VFAT long-name entry (spec section 7): 13 UTF-16 code units in three pieces. */
export const LfnEntry = defineStruct('FAT long-name entry', DIR_ENTRY_SIZE, {
  LDIR_Ord: [0x00, u8],
  LDIR_Name1: [0x01, bytes(10)],
  LDIR_Attr: [0x0b, u8],
  LDIR_Type: [0x0c, u8],
  LDIR_Chksum: [0x0d, u8],
  LDIR_Name2: [0x0e, bytes(12)],
  LDIR_FstClusLO: [0x1a, u16],
  LDIR_Name3: [0x1c, bytes(4)],
});

export const ATTR_READ_ONLY = 0x01;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
export const ATTR_LONG_NAME = 0x0f;
export const LAST_LONG_ENTRY = 0x40;
