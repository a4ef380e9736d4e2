/**
 * What a disk-image-create build is asked to do: diskimage-builder's options
 * (diskimage_builder/lib/disk-image-create) after parsing. The build layer owns this shape;
 * parse-options.ts fills it from the command line and the environment.
 */
import type { ContainerSettings } from '../assemble/containers.js';

/** The output types written in-process (src/assemble/containers.ts); the file extension is the type. */
export const IMAGE_TYPES = ['qcow2', 'raw', 'vhd', 'vmdk', 'tar', 'tgz'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];
import type { RamdiskOptions } from './ramdisk.js';

export interface BuildOptions {
  flavours: string[];
  imageName: string;
  /** Output types in -t order, each written from one build (DIB's IMAGE_TYPES; default qcow2). */
  types: ImageType[];
  /** --qemu-img-options / QEMU_IMG_OPTIONS, as the container writers take them. */
  containerSettings: ContainerSettings;
  arch: 'amd64';
  trace: number;
  uncompressed: boolean;
  clearEnv: boolean;
  skipBase: boolean;
  packages: string[];
  checksum: ('md5' | 'sha256')[];
  /** Bytes (from GB as DIB: GiB, float). */
  imageSize?: number;
  /** Bytes (from MB as DIB's docs: MiB). */
  extraSize?: number;
  imageCache: string;
  rootLabel?: string;
  mkfsOptions: string[];
  journalSizeMiB?: number;
  noTmpfs: boolean;
  offline: boolean;
  logfile?: string;
  rootDir?: string;
  rootTar?: string;
  /** Layout YAML text (inline, or read from file://). */
  blockDeviceConfig?: string;
  dryRun: boolean;
  keepBuildDir: boolean;
  /** Run the hooks in a user namespace even as root (it is the mode of every other user). */
  unprivileged?: boolean;
  overwrite: boolean;
  release?: string;
  mirror?: string;
  /** GUID/UUID seed (derived from SOURCE_DATE_EPOCH). */
  seed?: string;
  /** SOURCE_DATE_EPOCH: seconds stamped on the filesystems' own times (reproducible builds). */
  sourceDateEpoch?: number;
  grubTimeout?: number;
  /** Set by ramdisk-image-create: build a kernel + initramfs pair instead of a disk image. */
  ramdisk?: RamdiskOptions;
  help: boolean;
  version: boolean;
}
