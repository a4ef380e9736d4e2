/**
 * One run of the in-process ext4 writer, for bench/ext4.ts (run in its own process so its peak
 * RSS can be measured): reads the directory SRC (or the tar archive SRC, if it ends in .tar),
 * writes IMG of SIZE bytes, fsyncs, prints the elapsed milliseconds of scan + write as JSON.
 * Usage: node --import tsx bench/ext4-run.ts SRC IMG SIZE
 */
import { FileBlockDevice } from '../src/binary/file-device.js';
import { writeExt4 } from '../src/fs/ext4/index.js';
import { dirTree } from '../src/tree/dir-source.js';
import { tarTree } from '../src/tree/tar-source.js';

const [src, img, size] = process.argv.slice(2);
if (!src || !img || !size) throw new Error('usage: ext4-run.ts SRC IMG SIZE');
const t0 = performance.now();
const tree = src.endsWith('.tar') ? await tarTree(src) : dirTree(src);
const dev = FileBlockDevice.create(img, Number(size));
writeExt4(dev, tree, { seed: 'bench', timestamp: 1_700_000_000, inodeRatio: 4096, journalSize: 64 << 20 });
dev.sync();
dev.close();
tree.close();
console.log(JSON.stringify({ ms: performance.now() - t0 }));
