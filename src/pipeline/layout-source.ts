/**
 * Which block-device layout a build uses, in diskimage-builder's order of sources.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadLayout, parseLayout, type LayoutConfig } from '../layout/plan.js';
import type { Resolved } from './flavours.js';
import type { BuildOptions } from './options.js';

/**
 * Where the layout comes from, first match wins: --block-device-config / DIB_BLOCK_DEVICE_CONFIG,
 * a block-device.d hook's printed layout (the caller puts it in blockDeviceConfig when the first
 * is unset), a flavour's block-device-ARCH.yaml / block-device-default.yaml, DIB_BLOCK_DEVICE
 * (a built-in layout name), else none (a bare ext4 filesystem).
 */
export function chooseLayout(opts: BuildOptions, resolved: Resolved, env: NodeJS.ProcessEnv): { config: LayoutConfig | null; source: string } {
  if (opts.blockDeviceConfig !== undefined) {
    return { config: parseLayout(opts.blockDeviceConfig), source: 'DIB_BLOCK_DEVICE_CONFIG / --block-device-config' };
  }
  for (const f of resolved.flavours) {
    for (const name of [`block-device-${opts.arch}.yaml`, 'block-device-default.yaml']) {
      const file = path.join(f.dir, name);
      if (fs.existsSync(file)) return { config: parseLayout(fs.readFileSync(file, 'utf8')), source: `flavour ${f.name} (${name})` };
    }
  }
  if (env.DIB_BLOCK_DEVICE) return { config: loadLayout(env.DIB_BLOCK_DEVICE), source: `DIB_BLOCK_DEVICE=${env.DIB_BLOCK_DEVICE}` };
  return { config: null, source: 'none: a bare ext4 filesystem image (no vm flavour)' };
}
