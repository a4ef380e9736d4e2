// grub-mkimage from the image tree's own modules (only the module closure extracted) gives
// the same core.img / BOOTX64.EFI as grub-mkimage run on the full host directory.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryTree } from '../../src/boot/memory-tree.js';
import { BIOS_MODULES, EFI_MODULES, findGrubModules, grubMkimage, moduleClosure } from '../../src/assemble/grub-mkimage.js';
import { hasTool } from '../helpers/tools.js';

const ready = hasTool('grub-mkimage') && fs.existsSync('/usr/lib/grub/i386-pc/moddep.lst') && fs.existsSync('/usr/lib/grub/x86_64-efi/moddep.lst');

describe.skipIf(!ready)('grub-mkimage with the tree\'s modules', () => {
  for (const [platform, list] of [['i386-pc', BIOS_MODULES], ['x86_64-efi', EFI_MODULES]] as const) {
    it(`${platform}: same bytes as grub-mkimage -d /usr/lib/grub/${platform}`, async () => {
      const host = `/usr/lib/grub/${platform}`;
      const tree = memoryTree(fs.readdirSync(host).filter((n) => fs.statSync(path.join(host, n)).isFile())
        .map((n) => ({ path: `/usr/lib/grub/${platform}/${n}`, data: new Uint8Array(fs.readFileSync(path.join(host, n))) })));
      const modules = findGrubModules(tree, platform, '/nonexistent');
      expect(modules.source).toBe('tree');
      const early = 'search --no-floppy --fs-uuid --set=root 11111111-2222-3333-4444-555555555555\nset prefix=($root)/boot/grub\n';
      const ours = await grubMkimage({ modules, earlyConfig: early, prefix: '/boot/grub' });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkimage-'));
      try {
        fs.writeFileSync(path.join(dir, 'early.cfg'), early);
        execFileSync('grub-mkimage', ['-d', host, '-O', platform, '-c', path.join(dir, 'early.cfg'), '-p', '/boot/grub', '-o', path.join(dir, 'ref.img'), ...list]);
        expect(Buffer.from(ours).equals(fs.readFileSync(path.join(dir, 'ref.img')))).toBe(true);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      // The closure names real modules only, and includes the dependencies (ext2 needs fshelp).
      const closure = moduleClosure(fs.readFileSync(`${host}/moddep.lst`, 'utf8'), list);
      for (const m of closure) expect(fs.existsSync(`${host}/${m}.mod`), m).toBe(true);
      expect(closure.has('fshelp')).toBe(true);
    });
  }
});
