/**
 * src/inspect on images made by the reference tools (fixtures/inspect/make.sh): sfdisk/sgdisk
 * tables (MBR with a logical partition, GPT), mke2fs -d filesystems (ext2, ext3, ext4; 1 KiB and
 * 4 KiB blocks; inline data; hashed directories) written at the partition's offset. The volumes
 * agree with `sfdisk --json`, the kernel and initrd picked are the ones make.sh says DIB's rules
 * pick, every entry of the assembled view (root plus /boot) has the type, mode, owner, size,
 * link target and device numbers of the source tree, and every regular file reads back with
 * the source file's sha256.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inspectImage, listBootFiles, selectKernel } from '../../src/inspect/index.js';
import { mustRun } from '../helpers/tools.js';
import { compareWithSource, expected, fixturesUnavailable, IMAGES, inspectFixtures, sourceView } from './fixtures.js';

const why = fixturesUnavailable();
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');


describe.skipIf(why !== undefined)(`inspect on reference-made images (${why ?? 'sfdisk, sgdisk, mke2fs'})`, () => {
  let dir: string;
  beforeAll(() => {
    dir = inspectFixtures();
  }, 120_000);

  for (const name of IMAGES) {
    describe(name, () => {
      it('finds the partitions sfdisk reports', () => {
        const img = inspectImage(path.join(dir, `${name}.img`));
        try {
          if (name === 'bare') {
            expect(img.layout.volumes.map((v) => [v.name, v.fsType])).toEqual([['disk', 'ext4']]);
            return;
          }
          const ref = JSON.parse(mustRun('sfdisk', ['--json', path.join(dir, `${name}.img`)])) as
            { partitiontable: { label: string; partitions: Array<{ node: string; start: number; size: number }> } };
          expect(img.layout.table?.label).toBe(ref.partitiontable.label === 'dos' ? 'mbr' : 'gpt');
          expect(img.layout.volumes.map((v) => [Number(v.name), v.start / 512, v.size / 512])).toEqual(
            ref.partitiontable.partitions.map((p) => [Number(/(\d+)$/.exec(p.node)![1]), p.start, p.size]));
        } finally {
          img.close();
        }
      });

      it("picks the kernel and initrd DIB's rules pick and reads them byte for byte", () => {
        const img = inspectImage(path.join(dir, `${name}.img`));
        try {
          const fsys = img.mounted().fs;
          const c = selectKernel(fsys);
          const want = expected(dir, name);
          expect([c.kernel.realPath, c.initrd.realPath]).toEqual([want.kernel, want.initrd]);
          const view = sourceView(dir, name);
          for (const f of [c.kernel, c.initrd]) {
            const content = fsys.open(f.path);
            expect(sha(content.read(0, content.size)), f.path).toBe(sha(fs.readFileSync(view.get(f.realPath)!)));
          }
          const listed = listBootFiles(fsys);
          expect(listed.kernels.map((k) => k.realPath)).toContain(want.kernel);
        } finally {
          img.close();
        }
      });

      it('lists every entry of the source tree with its type, mode, owner, size and target, and reads every file', () => {
        const img = inspectImage(path.join(dir, `${name}.img`));
        try {
          const r = compareWithSource(img.mounted().fs, sourceView(dir, name));
          expect(r.problems).toEqual([]);
          expect(r.files).toBeGreaterThan(8);
        } finally {
          img.close();
        }
      });
    });
  }

  it('a damaged structure is named with its partition, its offset, and what was expected', () => {
    const src = path.join(dir, 'mbr-label.img');
    const copy = path.join(os.tmpdir(), `dit-damaged-${process.pid}.img`);
    fs.copyFileSync(src, copy);
    try {
      let at: number;
      let ino: number;
      const img = inspectImage(copy);
      try {
        const s = img.mounted().fs.lstat('/boot/vmlinuz-5.14.21-150500.55.7-default');
        ino = s.ino;
        at = s.mount.volume.start + s.mount.volume.ext!.inodeOffset(ino) + 0x28; // i_block: the extent header's magic
      } finally {
        img.close();
      }
      const fd = fs.openSync(copy, 'r+');
      fs.writeSync(fd, new Uint8Array([0x0b]), 0, 1, at);
      fs.closeSync(fd);
      const again = inspectImage(copy);
      try {
        const c = () => selectKernel(again.mounted().fs);
        const kernel = () => { const f = again.mounted().fs.open(c().kernel.path); f.read(0, f.size); };
        expect(kernel).toThrow(new RegExp(`^partition 2: extent header of inode ${ino} \\(i_block\\) eh_magic at offset ${at} \\(0x${at.toString(16)}\\): expected magic 0xf30a but it was 0xf30b$`));
      } finally {
        again.close();
      }
    } finally {
      fs.rmSync(copy, { force: true });
    }
  });
});
