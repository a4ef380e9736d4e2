/**
 * The one place the planner turns a layout's GPT `type` (an sgdisk 4-hex-digit code such as
 * 'EF00', or a GUID) into the type GUID the PartitionTable model stores.
 * Codes and GUIDs: sgdisk(8) type codes; UEFI 2.10 table 5.7 (EFI system); the Discoverable
 * Partitions Specification (Linux root x86-64 / arm64). This table stands in until the
 * partition writers' gpt-types.ts is committed; switch the body of gptTypeGuid to it then.
 */
const CODES: Readonly<Record<string, string>> = {
  '8300': '0fc63daf-8483-4772-8e79-3d69d8477de4', // Linux filesystem
  EF00: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', // EFI system partition
  EF02: '21686148-6449-6e6f-744e-656564454649', // BIOS boot partition
  '8200': '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f', // Linux swap
  '8E00': 'e6d6d379-f507-44c2-a23c-238f2a3df928', // Linux LVM
  '4100': '9e1a2d38-c612-4316-aa26-8b49521e5a8b', // PowerPC PReP boot
  '8302': '933ac7e1-2eb4-4f13-b844-0e14e2aef915', // Linux /home
  '8304': '4f68bce3-e8cd-4db1-96e7-fbcaf984b709', // Linux root (x86-64)
  '8305': 'b921b045-1df0-41c3-af44-4c6f280d3fae', // Linux root (ARM64)
  FD00: 'a19d880f-05fc-4d3b-a006-743f0f84911e', // Linux RAID
  '0700': 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7', // Microsoft basic data
};

/** The type GUID for an sgdisk code ('EF00') or a GUID; undefined when the code is unknown. */
export function gptTypeGuid(codeOrGuid: string): string | undefined {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(codeOrGuid)) return codeOrGuid.toLowerCase();
  return CODES[codeOrGuid.toUpperCase()];
}

export function knownGptCodes(): string[] {
  return Object.keys(CODES);
}
