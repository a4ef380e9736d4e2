// The ramdisk's /init-func (flavours/ramdisk/ramdisk-lib/init-func): diskimage-builder's
// init-func functions, each run by bash on the host against temporary stand-ins for
// /proc/cmdline, /proc/partitions and /sys/class/net, with stand-in `sleep` and `ip` on PATH.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli-run.js';

const INIT_FUNC = path.join(REPO, 'flavours/ramdisk/ramdisk-lib/init-func');
let dir: string;
let bin: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'init-func-'));
  bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  // sleep returns at once; ip records its arguments and says "no such device" for eth9.
  fs.writeFileSync(path.join(bin, 'sleep'), '#!/bin/sh\necho "sleep $*" >> "$CALLS"\n', { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'ip'), '#!/bin/sh\necho "ip $*" >> "$CALLS"\n[ "$3" != eth9 ]\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'cmdline'), 'BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro troubleshoot disk=sda,vda ip=10.0.0.5:10.0.0.1:10.0.0.254:255.255.255.0\n');
  fs.writeFileSync(path.join(dir, 'partitions'),
    'major minor  #blocks  name\n\n 254        0   10485760 vda\n 254        1   10484719 vda1\n 259        0  2097152 nvme0n1\n');
  const net = path.join(dir, 'sys/class/net');
  for (const [name, addr] of [['lo', '00:00:00:00:00:00'], ['eth0', '52:54:00:ab:cd:ef'],
    ['ib0', '80:00:02:08:fe:80:00:00:00:00:00:00:f4:52:14:03:00:3a:16:b1']]) {
    fs.mkdirSync(path.join(net, name!), { recursive: true });
    fs.writeFileSync(path.join(net, name!, 'address'), `${addr}\n`);
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs SCRIPT in bash after sourcing init-func (not under set -e, as /init runs). */
function bash(script: string, env: Record<string, string> = {}): { out: string; status: number | null; calls: string } {
  const calls = path.join(dir, `calls-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(calls, '');
  const r = spawnSync('bash', ['--norc', '-c', `source "$INIT_FUNC"\n${script}`], {
    encoding: 'utf8',
    env: {
      PATH: `${bin}:/usr/bin:/bin`, INIT_FUNC, CALLS: calls, HOME: dir,
      INIT_FUNC_CMDLINE: path.join(dir, 'cmdline'), INIT_FUNC_PARTITIONS: path.join(dir, 'partitions'),
      INIT_FUNC_SYS: path.join(dir, 'sys'), ...env,
    },
  });
  expect(r.stderr).toBe('');
  return { out: r.stdout, status: r.status, calls: fs.readFileSync(calls, 'utf8') };
}

describe('init-func: kernel parameters', () => {
  it('get_kernel_parameter: a value, a bare flag (empty, status 0), a missing one (empty, status 1)', () => {
    expect(bash('get_kernel_parameter root').out).toBe('/dev/vda1\n');
    expect(bash('get_kernel_parameter disk').out).toBe('sda,vda\n');
    expect(bash('get_kernel_parameter troubleshoot; echo "status $?"').out).toBe('\nstatus 0\n');
    expect(bash('get_kernel_parameter BOOTIF; echo "status $?"').out).toBe('status 1\n');
    // a name that is a prefix of another is not that other
    expect(bash('get_kernel_parameter BOOT; echo "status $?"').out).toBe('status 1\n');
  });

  it('get_kernel_parameter reads parameters.txt of the virtual media when BOOT_METHOD=vmedia', () => {
    const vm = path.join(dir, 'vfloppy');
    fs.mkdirSync(vm, { recursive: true });
    fs.writeFileSync(path.join(vm, 'parameters.txt'), 'deployment_id=42\nboot_server=192.0.2.1\n');
    expect(bash('get_kernel_parameter boot_server', { BOOT_METHOD: 'vmedia', VMEDIA_DIR: vm }).out).toBe('192.0.2.1\n');
    expect(bash('get_kernel_parameter root; echo "status $?"', { BOOT_METHOD: 'vmedia', VMEDIA_DIR: vm }).out).toBe('status 1\n');
  });

  it('find_parameter_from_file: status 1 for an unreadable file', () => {
    expect(bash(`find_parameter_from_file x "${dir}/no-such-file"; echo "status $?"`).out).toBe('status 1\n');
  });
});

describe('init-func: device names', () => {
  it('strip_dev and prepend_dev', () => {
    expect(bash('strip_dev /dev/sda1; strip_dev sda1; prepend_dev sda1; prepend_dev /dev/sda1').out).toBe('sda1\nsda1\n/dev/sda1\n/dev/sda1\n');
  });

  it('whole_disk_name: sd/hd/vd/xvd, cciss, nvme and mmcblk; status 1 for an unknown name', () => {
    const names = ['sda2', '/dev/vda', 'xvdb11', 'cciss/c0d0p1', 'nvme0n1p2', 'nvme0n1', 'mmcblk0p1'];
    expect(bash(names.map((n) => `whole_disk_name ${n}`).join('; ')).out.split('\n'))
      .toEqual(['/dev/sda', '/dev/vda', '/dev/xvdb', '/dev/cciss/c0d0', '/dev/nvme0n1', '/dev/nvme0n1', '/dev/mmcblk0', '']);
    expect(bash('whole_disk_name loop0; echo "status $?"').out).toBe('status 1\n');
  });

  it('partition_name: N after the disk, or pN where the disk name ends in a digit', () => {
    expect(bash('partition_name sda 2; partition_name /dev/cciss/c0d0 1; partition_name nvme0n1 3; partition_name md0 1; echo "status $?"').out)
      .toBe('/dev/sda2\n/dev/cciss/c0d0p1\n/dev/nvme0n1p3\nstatus 1\n');
  });

  it('partition_exists matches whole names in /proc/partitions only', () => {
    expect(bash('for d in vda /dev/vda1 vd vda2 nvme0n1; do partition_exists $d; echo "$d $?"; done').out)
      .toBe('vda 0\n/dev/vda1 0\nvd 1\nvda2 1\nnvme0n1 0\n');
  });

  it('find_disk: the first listed disk the kernel has, a partition standing for its disk', () => {
    expect(bash('find_disk sda,vda').out).toBe('/dev/vda\n');
    expect(bash('find_disk sdb,vda1').out).toBe('/dev/vda\n');
    expect(bash('find_disk sda,sdb; echo "status $?"').out).toBe('status 1\n');
  });
});

describe('init-func: network', () => {
  it('find_interface: by MAC in any letter case, an InfiniBand GUID by its outer bytes, status 1 otherwise', () => {
    expect(bash('find_interface 52:54:00:ab:cd:ef; find_interface 52:54:00:AB:CD:EF').out).toBe('eth0\neth0\n');
    expect(bash('find_interface F4:52:14:3A:16:B1').out).toBe('ib0\n');
    expect(bash('find_interface 52:54:00:00:00:01; echo "status $?"').out).toBe('status 1\n');
  });

  it('set_mac and swap_ifname call ip as DIB documents', () => {
    expect(bash('set_mac eth0 52:54:00:00:00:02').calls).toBe('ip link set eth0 address 52:54:00:00:00:02\n');
    expect(bash('swap_ifname eth0 eth1').calls).toBe('ip link show eth1\nip link set eth0 name _eth0\nip link set eth1 name eth0\nip link set _eth0 name eth1\n');
    expect(bash('swap_ifname eth0 eth9').calls).toBe('ip link show eth9\nip link set eth0 name eth9\n');
    expect(bash('swap_ifname eth0 eth0').calls).toBe('');
  });
});

describe('init-func: control', () => {
  it('wait_for: tries LOOPS times, SECONDS apart, and reports success or failure', () => {
    const ok = bash(`n=0; wait_for 5 2 'n=$((n + 1)); [ $n -ge 3 ]'; echo "status $? after $n"`);
    expect(ok.out).toBe('status 0 after 3\n');
    expect(ok.calls).toBe('sleep 2\nsleep 2\n');
    const never = bash('wait_for 3 1 false; echo "status $?"');
    expect(never.out).toBe('status 1\n');
    expect(never.calls).toBe('sleep 1\nsleep 1\n');
  });

  it('string_contains', () => {
    expect(bash('string_contains "a b c" "b c"; echo $?; string_contains abc x; echo $?; string_contains "a*" "*"; echo $?').out).toBe('0\n1\n0\n');
  });

  it('safe_url_encode keeps letters, digits, . - _, turns spaces into +, drops the rest', () => {
    expect(bash(`safe_url_encode 'Disk /dev/sda: not found (x_y-1.2)!'`).out).toBe('Disk+devsda+not+found+x_y-1.2\n');
  });

  it('err_msg prints every message and keeps the first one, URL-safe', () => {
    expect(bash('err_msg "first: one"; err_msg second; echo "$FIRST_ERR_MSG"').out).toBe('first: one\nsecond\nfirst+one\n');
  });

  it('troubleshoot without TROUBLESHOOT=1 asks for t for 10 seconds, then returns; with it, starts bash', () => {
    const asked = bash('troubleshoot < /dev/null; echo "status $?"');
    expect(asked.out).toBe('Troubleshooting required, press t to launch shell...........\nstatus 0\n');
    const shell = spawnSync('bash', ['--norc', '-c', 'source "$INIT_FUNC"; TROUBLESHOOT=1; troubleshoot; echo "back $?"'], {
      encoding: 'utf8', input: 'echo in-the-shell\nexit 3\n', env: { PATH: '/usr/bin:/bin', INIT_FUNC, HOME: dir },
    });
    expect(shell.stdout).toBe('Starting troubleshooting shell.\nin-the-shell\nback 0\n');
  });

  it('t pressed within the wait sets and exports TROUBLESHOOT', () => {
    const r = spawnSync('bash', ['--norc', '-c', 'source "$INIT_FUNC"; troubleshoot; bash -c \'echo "exported $TROUBLESHOOT"\''], {
      encoding: 'utf8', input: 'techo in-the-shell\n', env: { PATH: '/usr/bin:/bin', INIT_FUNC, HOME: dir },
    });
    expect(r.stdout).toBe('Troubleshooting required, press t to launch shell.\nStarting troubleshooting shell.\nin-the-shell\nexported 1\n');
  });
});
