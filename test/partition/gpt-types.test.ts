/**
 * Every sgdisk code in gpt-types.ts gives the GUID that sgdisk itself writes for it (read
 * back with sfdisk --json and with our reader), and names/aliases/DIB's '0x4100' resolve.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FileBlockDevice } from '../../src/binary/file-device.js';
import { LayoutError } from '../../src/errors.js';
import { readGpt } from '../../src/partition/gpt.js';
import { GPT_TYPES, gptTypeByGuid, resolveGptType } from '../../src/partition/gpt-types.js';
import { cleanupTmp, freshImage, haveSfdisk, haveSgdisk, sfdiskJson } from './helpers.js';
import { mustRun } from '../helpers/tools.js';

afterAll(cleanupTmp);

describe.skipIf(!haveSgdisk || !haveSfdisk)('GPT type codes agree with sgdisk', () => {
  it('sgdisk -t N:CODE writes the GUID we map CODE to, for every known code', () => {
    const { path, dev } = freshImage(64 * 1024 * 1024, 'types');
    dev.close();
    const args = GPT_TYPES.flatMap((t, i) => ['-n', `${i + 1}:0:+1M`, '-t', `${i + 1}:${t.code}`]);
    mustRun('sgdisk', [...args, path]);
    const ref = sfdiskJson(path).partitions.map((p) => p.type.toLowerCase());
    expect(ref).toEqual(GPT_TYPES.map((t) => resolveGptType(t.code)));
    const ours = FileBlockDevice.open(path);
    expect(readGpt(ours).table.partitions.map((p) => p.type)).toEqual(ref);
    ours.close();
  });
});

describe('resolveGptType', () => {
  it('takes GUIDs, codes in any case, DIB\'s 0x-prefixed codes, names and aliases', () => {
    const linux = '0fc63daf-8483-4772-8e79-3d69d8477de4';
    expect(resolveGptType('0FC63DAF-8483-4772-8E79-3D69D8477DE4')).toBe(linux);
    expect(resolveGptType('8300')).toBe(linux);
    expect(resolveGptType('linux')).toBe(linux);
    expect(resolveGptType('ef00')).toBe(resolveGptType('esp'));
    expect(resolveGptType('0x4100')).toBe(resolveGptType('prep'));
    expect(resolveGptType('root-aarch64')).toBe(resolveGptType('8305'));
    expect(resolveGptType('root-x86_64')).toBe(resolveGptType('8304'));
    expect(gptTypeByGuid(resolveGptType('EF02'))?.name).toBe('bios-boot');
  });

  it('names the partition and lists the known codes when a type is unknown', () => {
    expect(() => resolveGptType('9999', 'partition root')).toThrow(LayoutError);
    expect(() => resolveGptType('9999', 'partition root')).toThrow(/partition root.*'9999'/);
  });

  it('has no code, name or GUID twice', () => {
    for (const key of ['code', 'name', 'guid'] as const) {
      expect(new Set(GPT_TYPES.map((t) => t[key])).size).toBe(GPT_TYPES.length);
    }
  });
});
