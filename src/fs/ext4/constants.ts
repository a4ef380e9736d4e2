/**
 * ext4 constants: feature bits, inode flags, reserved inode numbers, magic numbers
 * (kernel Documentation/filesystems/ext4/, "Data Structures and Algorithms": super.rst,
 * inodes.rst, ifork.rst, directory.rst, attributes.rst, journal.rst).
 */

export const EXT4_SUPER_MAGIC = 0xef53;
export const SUPERBLOCK_OFFSET = 1024;
export const SUPERBLOCK_SIZE = 1024;
export const BLOCK_SIZE = 4096;
export const LOG_BLOCK_SIZE = 2; // 1024 << 2
export const INODE_SIZE = 256;
export const GOOD_OLD_INODE_SIZE = 128;
export const EXTRA_ISIZE = 32;
export const DESC_SIZE = 64;
export const BLOCKS_PER_GROUP = 8 * BLOCK_SIZE;
export const LOG_GROUPS_PER_FLEX = 4;

export const COMPAT = {
  DIR_PREALLOC: 0x1,
  HAS_JOURNAL: 0x4,
  EXT_ATTR: 0x8,
  RESIZE_INODE: 0x10,
  DIR_INDEX: 0x20,
  SPARSE_SUPER2: 0x200,
} as const;

export const INCOMPAT = {
  COMPRESSION: 0x1,
  FILETYPE: 0x2,
  RECOVER: 0x4,
  JOURNAL_DEV: 0x8,
  META_BG: 0x10,
  EXTENTS: 0x40,
  BIT64: 0x80,
  MMP: 0x100,
  FLEX_BG: 0x200,
  EA_INODE: 0x400,
  DIRDATA: 0x1000,
  CSUM_SEED: 0x2000,
  LARGEDIR: 0x4000,
  INLINE_DATA: 0x8000,
  ENCRYPT: 0x10000,
  CASEFOLD: 0x20000,
} as const;

export const RO_COMPAT = {
  SPARSE_SUPER: 0x1,
  LARGE_FILE: 0x2,
  BTREE_DIR: 0x4,
  HUGE_FILE: 0x8,
  GDT_CSUM: 0x10,
  DIR_NLINK: 0x20,
  EXTRA_ISIZE: 0x40,
  QUOTA: 0x100,
  BIGALLOC: 0x200,
  METADATA_CSUM: 0x400,
  ORPHAN_PRESENT: 0x10000,
} as const;

/** s_flags */
export const SB_FLAGS = { SIGNED_HASH: 0x1, UNSIGNED_HASH: 0x2, TEST_FILESYS: 0x4 } as const;
/** s_default_mount_opts */
export const DEFM = { XATTR_USER: 0x4, ACL: 0x8 } as const;
/** s_state */
export const STATE_CLEAN = 0x1;
/** s_errors */
export const ERRORS_CONTINUE = 1;
/** s_def_hash_version and dx_root_info.hash_version */
export const DX_HASH = { LEGACY: 0, HALF_MD4: 1, TEA: 2 } as const;
/** s_checksum_type */
export const CHECKSUM_CRC32C = 1;

/** bg_flags */
export const BG = { INODE_UNINIT: 0x1, BLOCK_UNINIT: 0x2, INODE_ZEROED: 0x4 } as const;

/** i_flags */
export const INODE_FLAGS = {
  SECRM: 0x1,
  IMMUTABLE: 0x10,
  APPEND: 0x20,
  NODUMP: 0x40,
  /** The inode's content is encrypted (fscrypt). */
  ENCRYPT: 0x800,
  INDEX: 0x1000,
  HUGE_FILE: 0x40000,
  EXTENTS: 0x80000,
  EA_INODE: 0x200000,
  INLINE_DATA: 0x10000000,
} as const;

/** Reserved inode numbers. */
export const INO = {
  BAD: 1,
  ROOT: 2,
  USR_QUOTA: 3,
  GRP_QUOTA: 4,
  BOOT_LOADER: 5,
  UNDEL_DIR: 6,
  RESIZE: 7,
  JOURNAL: 8,
  EXCLUDE: 9,
  REPLICA: 10,
  FIRST: 11,
} as const;

/** Directory entry file_type values. */
export const FT = {
  UNKNOWN: 0,
  REG_FILE: 1,
  DIR: 2,
  CHRDEV: 3,
  BLKDEV: 4,
  FIFO: 5,
  SOCK: 6,
  SYMLINK: 7,
  /** The fake entry that holds a leaf block's checksum. */
  DIR_CSUM: 0xde,
} as const;

/** ext2/ext3 block map in i_block (ifork.rst): 12 direct pointers, then single, double and triple indirect. */
export const BLOCK_MAP = { DIRECT: 12, IND: 12, DIND: 13, TIND: 14 } as const;
/** Deepest extent tree the kernel accepts (ext4_ext_check: depth <= EXT4_MAX_EXTENT_DEPTH). */
export const EXTENT_MAX_DEPTH = 5;
/** Longest symlink target (PATH_MAX). */
export const SYMLINK_MAX = 4096;

export const EXTENT_MAGIC = 0xf30a;
/** Longest initialized extent, in blocks. */
export const EXTENT_MAX_LEN = 32768;
export const XATTR_MAGIC = 0xea020000;
export const JBD2_MAGIC = 0xc03b3998;
/** The longest name a directory entry holds. */
export const NAME_MAX = 255;
/** A link count of 1 on a directory means "too many to count" (dir_nlink). */
export const LINK_MAX = 65000;
