export * from './struct.js';
export * from './cursor.js';
export * from './crc32.js';
export * from './align.js';
export * from './guid.js';
export * from './block-device.js';
