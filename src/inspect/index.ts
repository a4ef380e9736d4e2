/**
 * Looking inside a disk image without mounting it: open the image (open-image.ts), find its
 * volumes (volumes.ts), put the filesystems together as the guest mounts them (mounts.ts),
 * then list, read, or pick the kernel (kernel.ts). Used by disk-image-get-kernel,
 * disk-image-ls and disk-image-cat.
 */
import { type OpenedImage, openImage } from './open-image.js';
import { type Assembled, assemble } from './mounts.js';
import { type DiskLayout, findVolumes } from './volumes.js';

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

export { openImage, openContainer, detectFormat, type ImageFormat, type OpenedImage } from './open-image.js';
export { findVolumes, describeVolumes, type DiskLayout, type Volume, type FsType } from './volumes.js';
export { assemble, parseFstab, type Assembled } from './mounts.js';
export { ImageFs, type Mount } from './image-fs.js';
export { selectKernel, listBootFiles, type KernelChoice, type BootFile, type SelectOptions } from './kernel.js';
export { compareVersions } from './version-order.js';
