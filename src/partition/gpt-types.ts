/**
 * GPT partition type GUIDs, by name and by the 4-hex-digit codes of sgdisk (gdisk 1.0.9
 * `sgdisk -L`). Root-partition types are those of the UAPI Discoverable Partitions
 * Specification. Each code -> GUID pair here is checked against sgdisk in
 * test/partition/gpt-types.test.ts.
 */
import { isGuid } from '../binary/guid.js';
import { LayoutError } from '../errors.js';

export interface GptType {
  name: string;
  code: string;
  guid: string;
  description: string;
}

export const GPT_TYPES: readonly GptType[] = [
  { name: 'linux', code: '8300', guid: '0fc63daf-8483-4772-8e79-3d69d8477de4', description: 'Linux filesystem' },
  { name: 'esp', code: 'EF00', guid: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', description: 'EFI system partition' },
  { name: 'bios-boot', code: 'EF02', guid: '21686148-6449-6e6f-744e-656564454649', description: 'BIOS boot partition' },
  { name: 'swap', code: '8200', guid: '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f', description: 'Linux swap' },
  { name: 'lvm', code: '8E00', guid: 'e6d6d379-f507-44c2-a23c-238f2a3df928', description: 'Linux LVM' },
  { name: 'raid', code: 'FD00', guid: 'a19d880f-05fc-4d3b-a006-743f0f84911e', description: 'Linux RAID' },
  { name: 'prep', code: '4100', guid: '9e1a2d38-c612-4316-aa26-8b49521e5a8b', description: 'PowerPC PReP boot' },
  { name: 'root-x86', code: '8303', guid: '44479540-f297-41b2-9af7-d131d5f0458a', description: 'Linux x86 root (/)' },
  { name: 'root-x86-64', code: '8304', guid: '4f68bce3-e8cd-4db1-96e7-fbcaf984b709', description: 'Linux x86-64 root (/)' },
  { name: 'root-arm64', code: '8305', guid: 'b921b045-1df0-41c3-af44-4c6f280d3fae', description: 'Linux ARM64 (aarch64) root (/)' },
  { name: 'home', code: '8302', guid: '933ac7e1-2eb4-4f13-b844-0e14e2aef915', description: 'Linux /home' },
  { name: 'srv', code: '8306', guid: '3b8f8425-20e0-4f3b-907f-1a25a76f98e8', description: 'Linux /srv' },
  { name: 'var', code: '8310', guid: '4d21b016-b534-45c2-a9fb-5c16e091fd2d', description: 'Linux /var' },
  { name: 'var-tmp', code: '8311', guid: '7ec6f557-3bc5-4aca-b293-16ef5df639d1', description: 'Linux /var/tmp' },
  { name: 'xbootldr', code: 'EA00', guid: 'bc13c2ff-59e6-4262-a352-b275fd6f7172', description: 'XBOOTLDR (/boot)' },
  { name: 'msdata', code: '0700', guid: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7', description: 'Microsoft basic data' },
];

/** Aliases accepted for names (Discoverable Partitions Specification spellings). */
const ALIASES: Record<string, string> = {
  'linux-filesystem': 'linux',
  efi: 'esp',
  'efi-system': 'esp',
  bios: 'bios-boot',
  'linux-swap': 'swap',
  'root-x86_64': 'root-x86-64',
  'root-amd64': 'root-x86-64',
  'root-aarch64': 'root-arm64',
};

const BY_NAME = new Map(GPT_TYPES.map((t) => [t.name, t]));
const BY_CODE = new Map(GPT_TYPES.map((t) => [t.code, t]));
const BY_GUID = new Map(GPT_TYPES.map((t) => [t.guid, t]));

/**
 * A type given as a GUID, an sgdisk code ('8300', 'EF00', or '0x4100' as one DIB layout
 * writes it) or a name ('linux', 'esp', 'bios-boot', 'root-x86-64', ...) -> lower-case GUID.
 */
export function resolveGptType(type: string, where = 'partition'): string {
  const t = type.trim();
  if (isGuid(t)) return t.toLowerCase();
  const code = /^(?:0x)?([0-9a-f]{4})$/i.exec(t)?.[1]?.toUpperCase();
  const byCode = code ? BY_CODE.get(code) : undefined;
  if (byCode) return byCode.guid;
  const lower = t.toLowerCase();
  const byName = BY_NAME.get(ALIASES[lower] ?? lower);
  if (byName) return byName.guid;
  throw new LayoutError(where, `GPT partition type '${type}' is not a GUID, a known sgdisk code or a known name`,
    `use a GUID or one of: ${GPT_TYPES.map((x) => `${x.code} (${x.name})`).join(', ')}`);
}

/** The known type for a GUID, if any (for display). */
export function gptTypeByGuid(guid: string): GptType | undefined {
  return BY_GUID.get(guid.toLowerCase());
}

/** GPT partition attribute bits (UEFI 2.10 table 5.8, plus the Microsoft/systemd bit 63). */
export const GPT_ATTR = {
  REQUIRED: 1n << 0n,
  NO_BLOCK_IO_PROTOCOL: 1n << 1n,
  LEGACY_BIOS_BOOTABLE: 1n << 2n,
  NO_AUTOMOUNT: 1n << 63n,
} as const;
