// disk-image-create option parsing: DIB's options and variables, precedence, units, errors.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { helpText, OPTION_SPECS, ENV_ONLY, parseOptions } from '../../src/pipeline/parse-options.js';
import { DiskImageError } from '../../src/errors.js';

function err(argv: string[], env: NodeJS.ProcessEnv = {}): DiskImageError {
  try { parseOptions(argv, env); } catch (e) { return e as DiskImageError; }
  throw new Error('expected an error');
}

describe('disk-image-create options', () => {
  it('has the defaults DIB has (qcow2)', () => {
    const o = parseOptions(['vm', 'debian-minimal'], { HOME: '/home/u' });
    expect(o.flavours).toEqual(['vm', 'debian-minimal']);
    expect(o.imageName).toBe('image');
    expect(o.types).toEqual(['qcow2']);
    expect(o.uncompressed).toBe(false);
    expect(o.arch).toBe('amd64');
    expect(o.imageCache).toBe('/home/u/.cache/image-create');
    expect(o.rootLabel).toBeUndefined();
    expect(o.checksum).toEqual([]);
    expect(o.overwrite).toBe(false);
    expect(o.skipBase).toBe(false);
  });

  it('-t takes a comma list (each type once, in order); with one type a trailing .TYPE is stripped from -o, as DIB does', () => {
    expect(parseOptions(['-t', 'raw,qcow2,vhd,raw,vmdk', 'x'], {}).types).toEqual(['raw', 'qcow2', 'vhd', 'vmdk']);
    expect(parseOptions(['-o', 'disk.qcow2', 'x'], {}).imageName).toBe('disk');
    expect(parseOptions(['-o', 'disk.raw', '-t', 'raw', 'x'], {}).imageName).toBe('disk');
    expect(parseOptions(['-o', 'disk.raw', 'x'], {}).imageName).toBe('disk.raw'); // default type qcow2: disk.raw.qcow2
    expect(parseOptions(['-o', 'disk.qcow2', '-t', 'qcow2,raw', 'x'], {}).imageName).toBe('disk.qcow2');
    expect(err(['-t', 'docker', 'x']).message).toBe("output type 'docker' is not supported yet");
    expect(err(['-t', 'qcow3', 'x']).message).toBe("unknown output type 'qcow3'");
    expect(err(['-t', ',', 'x']).message).toBe('-t needs at least one type');
    expect(parseOptions(['-u', 'x'], {}).uncompressed).toBe(true);
    expect(parseOptions(['--qemu-img-options', 'compression_type=zstd,cluster_size=128k', 'x'], {}).containerSettings).toEqual({ compressionType: 'zstd', clusterBits: 17 });
    expect(parseOptions(['x'], { QEMU_IMG_OPTIONS: 'compat=0.10,subformat=fixed' }).containerSettings).toEqual({ qcow2Compat: '0.10', vhdType: 'fixed' });
    expect(parseOptions(['x'], {}).containerSettings).toEqual({});
    expect(err(['x'], { QEMU_IMG_OPTIONS: 'compression_type=lz4' }).message).toBe("QEMU_IMG_OPTIONS: 'compression_type=lz4' is not an option the writers take");
    expect(err(['--qemu-img-options', 'compat=0.10,compression_type=zstd', 'x']).code).toBe('CONFIG');
    expect(err(['--qemu-img-options', 'cluster_size=3000', 'x']).code).toBe('CONFIG');
  });

  it('accepts getopt forms', () => {
    expect(parseOptions(['-odisk', 'x'], {}).imageName).toBe('disk');
    expect(parseOptions(['--image-cache=/c', 'x'], {}).imageCache).toBe('/c');
    const o = parseOptions(['-xxn', 'a', '-p', 'vim,curl', '-p', 'less', '--', '-b'], {});
    expect(o.trace).toBe(2);
    expect(o.skipBase).toBe(true);
    expect(o.packages).toEqual(['vim', 'curl', 'less']);
    expect(o.flavours).toEqual(['a', '-b']);
  });

  it('converts sizes as DIB does: --image-size GB (GiB, float) and --image-extra-size MB (MiB)', () => {
    expect(parseOptions(['--image-size', '2', 'x'], {}).imageSize).toBe(2 * 2 ** 30);
    // 1.5 GiB is a multiple of 64 KiB already; 0.001 GB = 1048 KiB rounds up to 1088 KiB
    expect(parseOptions(['--image-size', '1.5', 'x'], {}).imageSize).toBe(1.5 * 2 ** 30);
    expect(parseOptions(['--image-size', '0.001', 'x'], {}).imageSize).toBe(1088 * 1024);
    // Sizes with units, as disk-image-layout --size reads them (the 2GiB was refused).
    expect(parseOptions(['--image-size', '2GiB', 'x'], {}).imageSize).toBe(2 * 2 ** 30);
    expect(parseOptions(['--image-size', '512MiB', 'x'], {}).imageSize).toBe(512 * 2 ** 20);
    expect(parseOptions(['--image-size', '4G', 'x'], {}).imageSize).toBe(Math.ceil(4e9 / 65536) * 65536); // rounded up to 64 KiB
    expect(parseOptions(['x'], { DIB_IMAGE_SIZE: '1.5 GiB' }).imageSize).toBe(1.5 * 2 ** 30);
    expect(parseOptions(['--image-size', '100000', 'x'], {}).imageSize).toBe(100000 * 2 ** 30); // plain numbers stay GB
    expect(parseOptions(['--image-extra-size', '100', 'x'], {}).extraSize).toBe(100 * 2 ** 20);
    expect(parseOptions(['--mkfs-journal-size', '32', 'x'], {}).journalSizeMiB).toBe(32);
  });

  it('lets the command line win over the environment, and the environment over defaults', () => {
    const env = { DIB_IMAGE_SIZE: '3', DIB_IMAGE_CACHE: '/env-cache', DIB_ROOT_LABEL: 'envlabel', MKFS_OPTS: '-O ^has_journal', DIB_CHECKSUM: 'sha256', DIB_OFFLINE: '1', DIB_JOURNAL_SIZE: '16', DIB_IMAGE_EXTRA_SIZE: '10' };
    const fromEnv = parseOptions(['x'], env);
    expect(fromEnv.imageSize).toBe(3 * 2 ** 30);
    expect(fromEnv.imageCache).toBe('/env-cache');
    expect(fromEnv.rootLabel).toBe('envlabel');
    expect(fromEnv.mkfsOptions).toEqual(['-O', '^has_journal']);
    expect(fromEnv.checksum).toEqual(['sha256']);
    expect(fromEnv.offline).toBe(true);
    expect(fromEnv.journalSizeMiB).toBe(16);
    expect(fromEnv.extraSize).toBe(10 * 2 ** 20);
    const cli = parseOptions(['--image-size', '1', '--image-cache', '/cli', '--root-label', 'clilabel', '--mkfs-options', '-m 0', '--checksum', '--mkfs-journal-size', '8', 'x'], env);
    expect(cli.imageSize).toBe(2 ** 30);
    expect(cli.imageCache).toBe('/cli');
    expect(cli.rootLabel).toBe('clilabel');
    expect(cli.mkfsOptions).toEqual(['-m', '0']);
    expect(cli.checksum).toEqual(['md5', 'sha256']);
    expect(cli.journalSizeMiB).toBe(8);
    expect(parseOptions(['x'], { ROOT_LABEL: 'old' }).rootLabel).toBe('old');
    expect(parseOptions(['x'], { ROOT_LABEL: 'old', DIB_ROOT_LABEL: 'new' }).rootLabel).toBe('new');
    expect(parseOptions(['x'], { OVERWRITE_OLD_IMAGE: '1' }).overwrite).toBe(true);
    expect(parseOptions(['x'], { SOURCE_DATE_EPOCH: '1700000000' }).seed).toBe('SOURCE_DATE_EPOCH=1700000000');
    expect(parseOptions(['x'], { SOURCE_DATE_EPOCH: '1700000000' }).sourceDateEpoch).toBe(1700000000);
    expect(parseOptions(['x'], { DIB_GRUB_TIMEOUT: '0' }).grubTimeout).toBe(0);
  });

  it('reads --block-device-config / DIB_BLOCK_DEVICE_CONFIG inline or from file://', () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bdc-')), 'l.yaml');
    fs.writeFileSync(f, '- local_loop:\n    name: image0\n');
    expect(parseOptions(['x'], { DIB_BLOCK_DEVICE_CONFIG: `file://${f}` }).blockDeviceConfig).toBe('- local_loop:\n    name: image0\n');
    expect(parseOptions(['--block-device-config', '- inline', 'x'], { DIB_BLOCK_DEVICE_CONFIG: `file://${f}` }).blockDeviceConfig).toBe('- inline');
    expect(err(['x'], { DIB_BLOCK_DEVICE_CONFIG: 'file:///nonexistent/l.yaml' }).message).toContain('DIB_BLOCK_DEVICE_CONFIG: cannot read layout file /nonexistent/l.yaml');
  });

  it('rejects what it cannot do, clearly', () => {
    expect(err(['-t', 'squashfs', 'x']).message).toBe("output type 'squashfs' is not supported yet");
    expect(err(['-t', 'qcow3', 'x']).message).toBe("unknown output type 'qcow3'");
    expect(err(['-a', 'arm64', 'x']).message).toBe("architecture 'arm64' is not supported yet");
    expect(parseOptions(['-a', 'x86_64', 'x'], {}).arch).toBe('amd64');
    expect(err(['--image-size', 'big', 'x']).message).toBe("--image-size: expected a size but it was 'big'");
    expect(err(['--image-size', '0', 'x']).message).toBe("--image-size: expected a positive number of GB but it was '0'");
    expect(err(['--image-size', '0GiB', 'x']).message).toBe("--image-size: expected a positive size but it was '0GiB'");
    expect(err(['x'], { DIB_IMAGE_SIZE: '-1' }).message).toBe("DIB_IMAGE_SIZE: expected a positive number of GB but it was '-1'");
    const u = err(['--image-sise', '2', 'x']);
    expect(u.code).toBe('USAGE');
    expect(u.message).toBe('unknown option --image-sise');
    expect(u.hint).toContain('did you mean --image-size?');
    expect(err(['-q', 'x']).message).toBe('unknown option -q');
    expect(err(['-o']).message).toBe('option -o needs a value (NAME)');
    expect(err([]).message).toBe('no flavours given');
    expect(err(['--root-dir', '/a', '--root-tar', '/b']).message).toContain('cannot be used together');
    expect(err(['x'], { SOURCE_DATE_EPOCH: 'yesterday' }).message).toContain('SOURCE_DATE_EPOCH');
    expect(err(['--dry-run=1', 'x']).message).toBe('option --dry-run takes no value');
    expect(err(['-p', 'vim;reboot', 'x']).message).toBe("-p: 'vim;reboot' is not a package name");
  });

  it('documents every option and variable in --help', () => {
    const help = helpText('disk-image-create', '0.1.0');
    for (const o of OPTION_SPECS) {
      if (o.long) expect(help).toContain(`--${o.long}`);
      if (o.short) expect(help).toContain(`-${o.short}`);
      if (o.env) expect(help).toContain(o.env);
    }
    for (const e of ENV_ONLY) expect(help).toContain(e.name);
    for (const v of ['DIB_IMAGE_SIZE', 'DIB_IMAGE_EXTRA_SIZE', 'DIB_IMAGE_CACHE', 'DIB_ROOT_LABEL', 'MKFS_OPTS', 'DIB_JOURNAL_SIZE', 'DIB_CHECKSUM',
      'DIB_OFFLINE', 'DIB_NO_TMPFS', 'ELEMENTS_PATH', 'FLAVOURS_PATH', 'OVERWRITE_OLD_IMAGE', 'DIB_BLOCK_DEVICE_CONFIG', 'DIB_RELEASE',
      'DIB_DISTRIBUTION_MIRROR', 'SOURCE_DATE_EPOCH', 'DIB_GRUB_TIMEOUT', 'DIB_BLOCK_DEVICE ']) expect(help).toContain(v);
  });
});
