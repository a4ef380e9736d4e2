/**
 * `disk-image-get-kernel`: reserved. The command is part of the product (see README) and arrives with its
 * own issue; until then it says so clearly instead of pretending to work.
 */
import { DiskImageError } from '../errors.js';
import { runMain } from './run.js';

runMain('disk-image-get-kernel', async () => {
  throw new DiskImageError('UNSUPPORTED', 'disk-image-get-kernel is not implemented yet in this version of diskimage-ts',
    'see README.md, "What is here", for what works today');
});
