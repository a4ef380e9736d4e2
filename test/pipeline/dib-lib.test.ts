// Our lib/ (what DIB's elements find at $_LIB and on the host hooks' PATH): the sudo stand-in,
// get_image_element_array, select_boot_kernel_initrd, run against temporary folders.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addDibVariables, dibLibDir, hookFunctionsFile, sudoShimDir } from '../../src/pipeline/dib-env.js';

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'diblib-')); });
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

const bash = (script: string, env: NodeJS.ProcessEnv = {}) =>
  spawnSync('bash', ['-eu', '-o', 'pipefail', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, ...env } });

describe('the sudo stand-in', () => {
  const sudo = path.join(sudoShimDir(), 'sudo');
  it('runs the command with the caller\'s environment, its options dropped, VAR=value honoured', () => {
    const r = spawnSync(sudo, ['-E', '-H', '-n', 'X=2', 'sh', '-c', 'echo "$X $Y"'], { encoding: 'utf8', env: { PATH: process.env.PATH, Y: '3' } });
    expect(r.stdout).toBe('2 3\n');
    expect(r.status).toBe(0);
  });
  it('passes the command\'s exit status through and refuses unknown options', () => {
    expect(spawnSync(sudo, ['sh', '-c', 'exit 7']).status).toBe(7);
    const r = spawnSync(sudo, ['--frobnicate', 'true'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('unsupported option --frobnicate');
  });
  it('comes first on the hook PATH, once, with _LIB, ELEMENTS_PATH and DIB_OFFLINE set', () => {
    const env = addDibVariables(addDibVariables({ PATH: '/usr/bin:/bin' }, ['/a', '/b']), ['/a', '/b']);
    expect(env.PATH).toBe(`${sudoShimDir()}:/usr/bin:/bin`);
    expect(env._LIB).toBe(dibLibDir());
    expect(env.ELEMENTS_PATH).toBe('/a:/b');
    expect(env.DIB_OFFLINE).toBe('');
    expect(addDibVariables({ DIB_OFFLINE: '1' }, []).DIB_OFFLINE).toBe('1');
  });
});

describe('$_LIB functions', () => {
  it('get_image_element_array gives DIB\'s name -> folder array (exported to every host hook)', () => {
    const r = bash(`. "$1"; eval declare -A image_elements=($(get_image_element_array)); for k in "\${!image_elements[@]}"; do echo "$k=\${image_elements[$k]}"; done | sort`.replace('"$1"', `"${hookFunctionsFile()}"`),
      { IMAGE_ELEMENT_YAML: 'growroot: /lib/elements/growroot\nmy el: /x y/z' });
    expect(r.stdout).toBe('growroot=/lib/elements/growroot\nmy el=/x y/z\n');
  });
  it('select_boot_kernel_initrd picks the newest Debian kernel and initrd, or the DIB_BAREMETAL patterns', () => {
    fs.mkdirSync(path.join(tmp, 'boot'));
    fs.mkdirSync(path.join(tmp, 'etc'));
    fs.writeFileSync(path.join(tmp, 'etc/debian_version'), '13.0\n');
    for (const f of ['vmlinuz-6.1.0-9-amd64', 'vmlinuz-6.12.0-1-amd64', 'initrd.img-6.1.0-9-amd64', 'initrd.img-6.12.0-1-amd64']) fs.writeFileSync(path.join(tmp, 'boot', f), '');
    const lib = path.join(dibLibDir(), 'img-functions');
    expect(bash(`. ${lib}; select_boot_kernel_initrd ${tmp}; echo "$KERNEL:$RAMDISK"`).stdout).toBe('vmlinuz-6.12.0-1-amd64:initrd.img-6.12.0-1-amd64\n');
    expect(bash(`. ${lib}; select_boot_kernel_initrd ${tmp}; echo "$KERNEL:$RAMDISK"`, { DIB_BAREMETAL_KERNEL_PATTERN: 'vmlinuz-6.1.*', DIB_BAREMETAL_INITRD_PATTERN: 'initrd.img-6.1.*' }).stdout)
      .toBe('vmlinuz-6.1.0-9-amd64:initrd.img-6.1.0-9-amd64\n');
    fs.rmSync(path.join(tmp, 'boot', 'vmlinuz-6.1.0-9-amd64'));
    fs.rmSync(path.join(tmp, 'boot', 'vmlinuz-6.12.0-1-amd64'));
    const r = bash(`. ${lib}; select_boot_kernel_initrd ${tmp}`);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('no kernel found');
  });
  it('common-functions defines die and brings get_image_element_array', () => {
    const r = bash(`. ${path.join(dibLibDir(), 'common-functions')}; declare -F get_image_element_array; die "gone wrong"`);
    expect(r.stdout).toBe('get_image_element_array\n');
    expect(r.stderr).toBe('gone wrong\n');
    expect(r.status).toBe(1);
  });
  it('the lib files pass shellcheck', () => {
    const files = ['img-functions', 'common-functions', 'hook-functions', 'img-defaults', 'common-defaults', 'host-bin/sudo'].map((f) => path.join(dibLibDir(), f));
    execFileSync('shellcheck', ['-x', '-s', 'bash', ...files], { cwd: path.dirname(dibLibDir()) });
  });
});
