// Splitting a tree by mount point (longest prefix wins; the mount point stays as an empty
// directory in its parent filesystem and is the root of its own).
import { describe, expect, it } from 'vitest';
import { memoryTree } from '../../src/boot/memory-tree.js';
import { owningMount, splitTree } from '../../src/assemble/split.js';

describe('splitTree', () => {
  it('puts each entry on the filesystem of its longest mount point', () => {
    const t = memoryTree([{ path: '/boot/vmlinuz', data: 'k' }, { path: '/boot/efi/EFI/x', data: 'e' }, { path: '/etc/a', data: 'a' },
      { path: '/var/log/l', data: 'l' }, { path: '/bootx', data: 'not boot' }]);
    const parts = splitTree(t, ['/', '/boot', '/boot/efi', '/var/log', '/home']);
    const paths = (mp: string) => parts.get(mp)!.entries.map((e) => e.path);
    expect(paths('/')).toEqual(['/', '/boot', '/bootx', '/etc', '/etc/a', '/var', '/var/log']);
    expect(paths('/boot')).toEqual(['/', '/efi', '/vmlinuz']);
    expect(paths('/boot/efi')).toEqual(['/', '/EFI', '/EFI/x']);
    expect(paths('/var/log')).toEqual(['/', '/l']);
    expect(paths('/home')).toEqual(['/']);
    expect(parts.get('/boot')!.get('/vmlinuz')!.content).toBe(t.get('/boot/vmlinuz')!.content);
    expect(owningMount('/bootx', ['/', '/boot'])).toBe('/');
  });
});
