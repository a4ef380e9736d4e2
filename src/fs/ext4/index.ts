/** The ext4 writer's public surface (the reader lives in reader.ts). */
export { writeExt4, type Ext4Result } from './writer.js';
export { type Ext4Options, parseMkfsOptions } from './options.js';
export { ext4SizeFor, minimumSize, treeNeeds } from './sizing.js';
