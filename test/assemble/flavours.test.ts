// The vm/bootloader/block-device-* flavours: their layout YAML must stay the same text as the
// planner's built-in layouts (one source of truth), and they declare what DIB's elements do.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLayout, planLayout } from '../../src/layout/plan.js';
import { SHIPPED_LAYOUTS } from '../../src/layout/shipped/index.js';
import { REPO } from '../helpers/cli-run.js';

const lines = (p: string) => fs.readFileSync(path.join(REPO, p), 'utf8').split('\n').filter((l) => l.trim() !== '');

describe('block-device flavours', () => {
  for (const n of ['mbr', 'gpt', 'efi'] as const) {
    it(`block-device-${n}: layout equals the built-in '${n}', provides block-device, sets DIB_BLOCK_DEVICE=${n}`, () => {
      const dir = `flavours/block-device-${n}`;
      const yaml = fs.readFileSync(path.join(REPO, dir, 'block-device-default.yaml'), 'utf8');
      expect(yaml).toBe(SHIPPED_LAYOUTS[n]);
      expect(planLayout(loadLayout(yaml), { diskSize: 2 * 1024 ** 3, seed: 's' }).table?.label).toBe(n === 'mbr' ? 'mbr' : 'gpt');
      expect(lines(`${dir}/element-provides`)).toEqual(['block-device']);
      expect(fs.readFileSync(path.join(REPO, dir, `environment.d/10-block-device-${n}.bash`), 'utf8')).toMatch(new RegExp(`^export DIB_BLOCK_DEVICE=${n}$`, 'm'));
      expect(fs.existsSync(path.join(REPO, dir, 'README.md'))).toBe(true);
    });
  }
  it('vm depends on block-device and bootloader', () => {
    expect(lines('flavours/vm/element-deps').sort()).toEqual(['block-device', 'bootloader']);
    expect(fs.existsSync(path.join(REPO, 'flavours/bootloader/README.md'))).toBe(true);
  });
});
