/**
 * The partition-table model shared by the layout planner (which produces it), the MBR and
 * GPT writers (which write it) and readers (which return it). Sector numbers are bigint,
 * in units of the table's sector size; ranges are inclusive, as sfdisk and sgdisk print them.
 */

export type TableLabel = 'mbr' | 'gpt';

export interface PartitionEntry {
  /**
   * 1-based; MBR logical partitions are numbered from 5. An MBR table with logical
   * partitions also lists its ONE extended partition as an ordinary entry (number 1-4,
   * type '0x0f', '0x05' or '0x85') spanning all the logicals and their EBRs.
   */
  number: number;
  firstLba: bigint;
  /** Inclusive. */
  lastLba: bigint;
  /** MBR: the type byte as '0x83'; GPT: the type GUID in lower case. */
  type: string;
  /** GPT: the unique partition GUID. */
  guid?: string;
  /** GPT: the partition name (up to 36 UTF-16 code units). */
  name?: string;
  /** MBR: the active flag; GPT: attribute bit 2 (legacy BIOS bootable). */
  bootable: boolean;
  /** GPT: all attribute bits (bit 0 required, bit 1 no block-IO protocol, bit 2 legacy BIOS bootable, bit 63 no-automount). */
  attributes?: bigint;
  /**
   * MBR logical partitions only: the sector of the EBR that describes this partition.
   * Default: the extended partition's first sector for the first logical; for the others,
   * the same distance before the partition as the first logical has from its EBR (the
   * alignment pad: what sfdisk and DIB both do), or the sector after the previous logical
   * when that would overlap it.
   */
  ebrLba?: bigint;
}

export interface PartitionTable {
  label: TableLabel;
  sectorSize: 512 | 4096;
  /** Size of the whole disk in bytes. */
  diskSize: number;
  /** MBR: the 32-bit disk signature as '0x1234abcd'; GPT: the disk GUID. */
  diskId: string;
  partitions: PartitionEntry[];
}
