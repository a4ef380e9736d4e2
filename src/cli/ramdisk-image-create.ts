/**
 * `ramdisk-image-create`: reserved. The command is part of the product (see README) and arrives with its
 * own issue; until then it says so clearly instead of pretending to work.
 */
import { DiskImageError } from '../errors.js';
import { runMain } from './run.js';

runMain('ramdisk-image-create', async () => {
  throw new DiskImageError('UNSUPPORTED', 'ramdisk-image-create is not implemented yet in this version of diskimage-ts',
    'see README.md, "What is here", for what works today');
});
