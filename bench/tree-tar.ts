/**
 * Benchmark and real-world check: the cached Debian 12 test root as a tar (mmdebstrap
 * --format=tar) read by the tar source, against its GNU tar extraction read by the directory
 * source. Prints the time of each and the differences (every field the tree model has,
 * content by sha256; atime and ctime are not compared as extraction sets them).
 * Usage: node --import tsx bench/tree-tar.ts   (root: the Debian root is built with mmdebstrap)
 */
import * as fs from 'node:fs';
import { dirTree } from '../src/tree/dir-source.js';
import { tarTree } from '../src/tree/tar-source.js';
import { debianRootDir, debianRootTar } from '../test/helpers/debian-root.js';
import { compareFileTrees, formatDifferences } from '../test/helpers/compare-tree.js';

const tarPath = debianRootTar();
const dir = debianRootDir();
let t0 = performance.now();
const fromTar = await tarTree(tarPath);
const tTar = performance.now() - t0;
t0 = performance.now();
const fromDir = dirTree(dir);
const tDir = performance.now() - t0;
const size = fs.statSync(tarPath).size;
console.log(`tar source, plain file read in place: ${fromTar.entries.length} entries from ${(size / 2 ** 20).toFixed(0)} MiB in ${tTar.toFixed(0)} ms`);
t0 = performance.now();
const spooled = await tarTree(fs.createReadStream(tarPath));
const tSpool = performance.now() - t0;
spooled.close();
console.log(`tar source, same file as a stream (spooled): ${(tSpool).toFixed(0)} ms (${(size / 2 ** 20 / (tSpool / 1000)).toFixed(0)} MiB/s)`);
console.log(`dir source: ${fromDir.entries.length} entries in ${tDir.toFixed(0)} ms (metadata and xattrs; content is read later)`);
t0 = performance.now();
const diffs = compareFileTrees(fromDir, fromTar);
console.log(`compared every field incl. sha256 of all content in ${(performance.now() - t0).toFixed(0)} ms: ${diffs.length} differences`);
if (diffs.length) console.log(formatDifferences(diffs));
fromTar.close();
fromDir.close();
