// The tar writer: an archive of the every-type tree (owners, modes, times to the nanosecond,
// xattrs incl. security.capability and POSIX ACLs, devices with big numbers, hard links,
// long names, sparse files), extracted by GNU tar and compared field by field with the
// source; our own tar reader reads it back equal too.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSink } from '../../src/binary/file-sink.js';
import { dirTree } from '../../src/tree/dir-source.js';
import { tarTree } from '../../src/tree/tar-source.js';
import { writeTar } from '../../src/tree/tar-writer.js';
import { compareFileTrees, compareTrees, everyTypeTreeUnavailable, formatDifferences, makeEveryTypeTree } from '../helpers/compare-tree.js';

const why = everyTypeTreeUnavailable();
let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tar-writer-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(why !== undefined)(`tar writer${why ? ` (skipped: ${why})` : ''}`, () => {
  it('GNU tar extracts what the tree holds, field by field; sockets are left out', async () => {
    const src = makeEveryTypeTree(path.join(dir, 'src'));
    const long = path.join(src, 'a'.repeat(90), 'b'.repeat(90));
    fs.mkdirSync(long, { recursive: true });
    fs.writeFileSync(path.join(long, 'c'.repeat(120)), 'long name\n');
    const tree = dirTree(src);
    const file = path.join(dir, 'out.tar');
    try {
      const sink = FileSink.create(file);
      const r = writeTar(tree, sink);
      sink.finish(r.length);
      sink.close();
      expect(r.skipped).toEqual(['/dev/socket']);
      expect(r.length % 10240).toBe(0);
      const out = path.join(dir, 'x');
      fs.mkdirSync(out);
      execFileSync('tar', ['-x', '-f', file, '-C', out, '--numeric-owner', '-p', '--xattrs', "--xattrs-include=*", '--acls'], { stdio: 'pipe' });
      const diffs = compareTrees(tree, out, { dirMtimes: false }).filter((d) => d.path !== '/dev/socket');
      expect(diffs, formatDifferences(diffs)).toEqual([]);
      // GNU tar lists it without complaint, and our reader reads it back the same
      execFileSync('tar', ['-t', '-f', file], { stdio: 'pipe' });
      const back = await tarTree(file);
      try {
        const d2 = compareFileTrees(tree, back).filter((d) => d.path !== '/dev/socket');
        expect(d2, formatDifferences(d2)).toEqual([]);
      } finally {
        back.close();
      }
    } finally {
      tree.close();
    }
  }, 120_000);
});
