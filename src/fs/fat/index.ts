/** FAT16/FAT32 writer for the EFI system partition. */
export { planFat, planGeometry, fatVolumeId, formatFatVolumeId, checkLabel, FAT32_MIN_SECTORS } from './plan.js';
export type { FatOptions, FatPlan, FatGeometry, FatType } from './plan.js';
export { writeFat, writeFatPlan, fatDateTime } from './writer.js';
export { makeShortName, shortNameChecksum, longNameEntries } from './names.js';
