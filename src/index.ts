/**
 * The public typed API of diskimage-ts (`import { ... } from 'diskimage-ts'`): the stable
 * surface, one name per thing a program does with it. Build an image from flavours as the
 * command does (runPipeline), assemble an image from a file tree (assembleImage), plan a
 * block-device layout (loadLayout, planLayout), write and read ext4 (writeExt4, openExt4), read
 * and write partition tables (readPartitionTable, writePartitionTable), make file trees (dirTree,
 * tarTree, memoryTree), on block devices (FileBlockDevice, MemoryBlockDevice, SliceBlockDevice),
 * look inside an image without mounting it (inspectImage, selectKernel).
 * Every error thrown is one of the DiskImageError family, with a stable `code` and a `hint`.
 * Modules under dist/ other than this one are internal and may change without notice.
 */

// Build an image from flavours: the disk-image-create pipeline.
export { runPipeline, type PipelineIO, type PipelineResult } from './pipeline/pipeline.js';
export type { BuildOptions } from './pipeline/options.js';
/** BuildOptions from disk-image-create's arguments and environment, with DIB's defaults. */
export { parseOptions as parseBuildOptions } from './pipeline/parse-options.js';

// Assemble an image from a tree.
export { assembleImage, type AssembleOptions, type AssembleProgress, type AssembleResult } from './assemble/assemble.js';

// Plan a layout (diskimage-builder's block-device YAML).
export {
  loadLayout, planLayout, minimumDiskSize, parseLayout,
  type LayoutConfig, type LayoutPlan, type PlanOptions, type PlannedFilesystem, type PlannedPartition,
} from './layout/plan.js';
export { planToJson, renderPlan, type LayoutJson } from './layout/render.js';
export { SHIPPED_LAYOUTS } from './layout/shipped/index.js';

// ext4: write a tree as a filesystem, read one back.
export { writeExt4, ext4SizeFor, minimumSize as ext4MinimumSize, parseMkfsOptions, type Ext4Options, type Ext4Result } from './fs/ext4/index.js';
export { openExt4, type Ext4Reader, type Ext4DirEntry, type Ext4FileContent, type Ext4Info, type Ext4Stat } from './fs/ext4/reader.js';
// FAT: read one back (the EFI system partition); both readers behind one interface.
export { openFat, type FatReader } from './fs/fat/reader.js';
export { resolvePath, type ReadableFs, type FsStat, type FsDirEntry, type FsFileContent } from './fs/readable.js';

// Look inside an image without mounting it (disk-image-get-kernel, disk-image-ls, disk-image-cat).
export {
  inspectImage, volumeFs, openContainer, findVolumes, selectKernel, listBootFiles, compareVersions,
  type InspectedImage, type ImageFs, type Volume, type DiskLayout, type KernelChoice, type BootFile, type SelectOptions,
} from './inspect/index.js';

// Partition tables (MBR, GPT).
export {
  readPartitionTable, writePartitionTable, readGpt, writeGpt, readMbr, writeMbr, resolveGptType, GPT_TYPES,
  type PartitionTable, type PartitionEntry, type TableLabel, type ReadPartitionTableResult, type WritePartitionTableOptions,
  type GptReadResult, type MbrReadResult,
} from './partition/index.js';

// File trees: the model every writer consumes, and its sources.
export type { FileTree, TreeEntry, FileContent, EntryType, Timestamp } from './tree/model.js';
export { bufferContent } from './tree/model.js';
export { dirTree, readXattrs, type DirTreeOptions } from './tree/dir-source.js';
export { tarTree, type TarTreeOptions } from './tree/tar-source.js';
export { overlayTree, type OverlayOptions } from './tree/overlay.js';
export { memoryTree, type MemoryFile } from './boot/memory-tree.js';

// Block devices: where images are read and written.
export { MemoryBlockDevice, SliceBlockDevice, type BlockDevice } from './binary/block-device.js';
export { FileBlockDevice, publishFile } from './binary/file-device.js';

// Errors.
export {
  DiskImageError, FormatError, ConfigError, LayoutError, UsageError, HookError, MissingToolError, NoSpaceError, InputError,
  InternalError, serialiseError, reviveError, type ErrorCode, type FormatErrorDetails, type SerialisedError,
} from './errors.js';
