// Boots an image in QEMU (TCG: /dev/kvm hangs guests here) with the serial console in a
// file, polls the file for a marker, and ends the QEMU process it started by its PID.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasTool } from '../helpers/tools.js';

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS.fd';
export const qemuReady = () => hasTool('qemu-system-x86_64');

export interface BootResult {
  found: boolean;
  seconds: number;
  log: string;
}

/** A direct kernel boot (-kernel, -initrd, -append) instead of a disk image. */
export interface KernelBoot {
  kernel: string;
  initrd: string;
  append: string;
}

/** QEMU's name for an image file's format, from its extension (raw otherwise). */
export function qemuFormat(img: string): string {
  const ext = path.extname(img).slice(1);
  return ext === 'qcow2' ? 'qcow2' : ext === 'vhd' ? 'vpc' : ext === 'vmdk' ? 'vmdk' : 'raw';
}

export async function bootUntil(img: string | KernelBoot, marker: string, o: { uefi: boolean; workDir: string; timeoutSec?: number; memory?: number; format?: string }): Promise<BootResult> {
  const name = typeof img === 'string' ? path.basename(img) : path.basename(img.initrd);
  const log = path.join(o.workDir, `serial-${name}-${o.uefi ? 'uefi' : 'bios'}-${Date.now()}.log`);
  fs.writeFileSync(log, '');
  // thread=single: one TCG thread for both vCPUs. With a thread per vCPU, Debian 13's kernel
  // (6.12) hit an int3 oops while patching its own code at boot (text_poke across CPUs).
  const args = ['-accel', 'tcg,thread=single', '-m', String(o.memory ?? 1024), '-smp', '2', '-display', 'none', '-monitor', 'none',
    '-no-reboot', '-serial', `file:${log}`,
    ...(typeof img === 'string' ? ['-drive', `file=${img},format=${o.format ?? qemuFormat(img)},if=virtio,snapshot=on`] : ['-kernel', img.kernel, '-initrd', img.initrd, '-append', img.append])];
  if (o.uefi) {
    const vars = path.join(o.workDir, `vars-${Date.now()}.fd`);
    fs.copyFileSync(OVMF_VARS, vars);
    args.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,unit=1,file=${vars}`);
  }
  const start = Date.now();
  const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  qemu.stderr.on('data', (d) => (stderr += String(d)));
  let exited = false;
  // If the test worker ends first (a test timeout), still end this QEMU, by its PID.
  const killOnExit = () => {
    if (!exited && qemu.pid) process.kill(qemu.pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  qemu.on('exit', () => {
    exited = true;
    process.removeListener('exit', killOnExit);
  });
  const limit = (o.timeoutSec ?? 180) * 1000;
  try {
    for (;;) {
      const text = fs.readFileSync(log, 'latin1');
      if (text.includes(marker)) return { found: true, seconds: (Date.now() - start) / 1000, log: text };
      // A guest that panicked never reaches the marker: end now rather than at the limit.
      if (exited || text.includes('Kernel panic - not syncing') || Date.now() - start > limit) return { found: false, seconds: (Date.now() - start) / 1000, log: text + stderr };
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    if (!exited && qemu.pid) {
      process.kill(qemu.pid, 'SIGKILL');
      await new Promise((r) => qemu.once('exit', r));
    }
  }
}
