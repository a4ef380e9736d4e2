/**
 * Looking inside a disk image without mounting it: open the image (open-image.ts), find its
 * volumes (volumes.ts), put the filesystems together as the guest mounts them (mounts.ts),
 * then list, read, or pick the kernel (kernel.ts). Used by disk-image-get-kernel,
 * disk-image-ls and disk-image-cat.
 */
import { InputError } from '../errors.js';
import { ImageFs, mountOf } from './image-fs.js';
import { type OpenedImage, openImage } from './open-image.js';
import { type Assembled, assemble } from './mounts.js';
import { type DiskLayout, describeVolumes, findVolumes } from './volumes.js';

export interface InspectedImage {
  image: OpenedImage;
  layout: DiskLayout;
  /** Throws (no ext2/3/4 filesystem) only when first asked for. */
  mounted(): Assembled;
  close(): void;
}

export function inspectImage(path: string): InspectedImage {
  const image = openImage(path);
  try {
    const layout = findVolumes(image.dev);
    let asm: Assembled | undefined;
    return { image, layout, mounted: () => (asm ??= assemble(layout)), close: () => image.close() };
  } catch (e) {
    image.close();
    throw e;
  }
}

/**
 * The filesystem of one volume on its own, mounted at '/' ('1' for partition 1, 'disk' for a
 * bare filesystem): any filesystem the volumes can open, ext2/3/4 or FAT (the EFI system partition).
 */
export function volumeFs(layout: DiskLayout, name: string): ImageFs {
  const v = layout.volumes.find((x) => x.name === name);
  if (!v) {
    throw new InputError(`the image has no partition ${name}: ${describeVolumes(layout)}`,
      `give one of: ${layout.volumes.map((x) => x.name).join(', ') || 'none'}`);
  }
  if (v.error) throw v.error;
  if (!v.fs) {
    throw new InputError(`partition ${name} holds ${v.fsType}, which this command does not read`, 'it reads ext2, ext3, ext4 and FAT (vfat)');
  }
  return new ImageFs([mountOf('/', v, v.fs)]);
}

export { openImage, openContainer, detectFormat, type ImageFormat, type OpenedImage } from './open-image.js';
export { findVolumes, describeVolumes, type DiskLayout, type Volume, type FsType } from './volumes.js';
export { assemble, parseFstab, type Assembled } from './mounts.js';
export { ImageFs, type Mount } from './image-fs.js';
export { resolvePath, type ReadableFs, type FsStat, type FsDirEntry, type FsFileContent } from '../fs/readable.js';
export { selectKernel, listBootFiles, type KernelChoice, type BootFile, type SelectOptions } from './kernel.js';
export { compareVersions } from './version-order.js';
