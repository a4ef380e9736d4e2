/**
 * The error family crossing a process boundary: serialiseError then reviveError (through the
 * structured clone that IPC with serialization 'advanced' uses) gives back an error of the same
 * class with the same message, code, hint, fields and stack, for every class of the family;
 * errors from outside the family come back as plain Errors keeping name, message and code.
 * And the real boundary: the image writer child's error reaches the parent as its class.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { types } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError, DiskImageError, FormatError, HookError, InputError, InternalError, LayoutError, MissingToolError, NoSpaceError,
  UsageError, reviveError, serialiseError, type SerialisedError,
} from '../src/errors.js';
import type { WriterJob, WriterMessage } from '../src/assemble/writer-job.js';
import { REPO, TSX } from './helpers/cli-run.js';

/** Through the structured clone, as child.send/process.send with serialization 'advanced'. */
const overIpc = (e: unknown): Error => reviveError(deserialize(serialize(serialiseError(e))) as SerialisedError);

const family: Array<[string, DiskImageError, Record<string, unknown>]> = [
  ['DiskImageError', new DiskImageError('IO', 'reading /x failed', 'check /x'), {}],
  ['FormatError', new FormatError({ struct: 'GPT header', field: 'HeaderCRC32', offset: 528, expected: '0x1', actual: '0x2', hint: 'h' }),
    { struct: 'GPT header', field: 'HeaderCRC32', offset: 528, expected: '0x1', actual: '0x2' }],
  ['ConfigError', new ConfigError('--image-size', 'is not a number', 'give GB'), { where: '--image-size' }],
  ['LayoutError', new LayoutError('root', 'does not fit', 'make it larger'), { node: 'root' }],
  ['UsageError', new UsageError('unknown option --x', 'see --help'), {}],
  ['HookError', new HookError('vm', 'install.d', '10-x', 3, 'see above'), { flavour: 'vm', phase: 'install.d', script: '10-x', exitCode: 3 }],
  ['MissingToolError', new MissingToolError('grub-mkimage', 'make core.img', 'grub-common'), { tool: 'grub-mkimage' }],
  ['NoSpaceError', new NoSpaceError('the tree needs 9 bytes', 9, 'make the image larger'), { needed: 9 }],
  ['InputError', new InputError('bad tar', 'use GNU tar'), {}],
  ['InternalError', new InternalError('planning bug'), {}],
];

describe('serialiseError / reviveError', () => {
  for (const [name, err, fields] of family) {
    it(`${name} keeps its class, code, hint, fields, message and stack`, () => {
      const back = overIpc(err);
      expect(back.constructor).toBe(err.constructor);
      expect(back).toBeInstanceOf(DiskImageError);
      expect(types.isNativeError(back)).toBe(true);
      const b = back as DiskImageError;
      expect([b.name, b.code, b.hint, b.message, b.stack]).toEqual([name, err.code, err.hint, err.message, err.stack]);
      expect(b).toMatchObject(fields);
    });
  }

  it('an error from outside the family comes back as a plain Error with its name, message and code', () => {
    const errno = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const back = overIpc(errno) as Error & { code?: string };
    expect(back).not.toBeInstanceOf(DiskImageError);
    expect([back.name, back.message, back.code, back.stack]).toEqual(['Error', errno.message, 'ENOSPC', errno.stack]);
    const bug = overIpc(new TypeError('x is undefined'));
    expect([bug.name, bug.message, bug instanceof DiskImageError]).toEqual(['TypeError', 'x is undefined', false]);
    expect(overIpc('a string').message).toBe('a string');
  });

  it('FormatError: one kind of offset, or none', () => {
    const known = new FormatError({ struct: 'MBR', field: 'Signature', offset: 510, expected: '0xaa55', actual: '0x0' });
    expect(known.message).toBe('MBR Signature at offset 510 (0x1fe): expected 0xaa55 but it was 0x0');
    const unknown = new FormatError({ struct: 'grub boot.img', field: 'Signature', expected: '0xaa55', actual: '0x0' });
    expect(unknown.offset).toBeUndefined();
    expect(unknown.message).toBe('grub boot.img Signature: expected 0xaa55 but it was 0x0');
  });
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'errors-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the image writer child', () => {
  it('reports a NoSpaceError that reaches the parent as a NoSpaceError with its hint and needed bytes', async () => {
    const tree = path.join(tmp, 'tree');
    fs.mkdirSync(tree);
    fs.writeFileSync(path.join(tree, 'big'), Buffer.alloc(8 << 20, 1));
    const job: WriterJob = {
      tree: { dir: tree },
      options: { output: path.join(tmp, 'out.raw'), layout: null, imageSize: 4 << 20, bootloader: false, format: 'raw', seed: 's' },
    };
    const child = fork(path.join(REPO, 'src/assemble/writer-child.ts'), [], {
      serialization: 'advanced', execArgv: ['--import', TSX], cwd: tmp, stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const m = await new Promise<WriterMessage>((resolve) => {
      child.on('message', (msg: WriterMessage) => { if (msg.type !== 'progress') resolve(msg); });
      child.send(job);
    });
    await new Promise((r) => child.on('exit', r));
    expect(m.type).toBe('error');
    const e = reviveError(m as SerialisedError);
    expect(e).toBeInstanceOf(NoSpaceError);
    expect((e as NoSpaceError).code).toBe('NO_SPACE');
    expect((e as NoSpaceError).needed).toBeGreaterThan(4 << 20);
    expect((e as NoSpaceError).hint).toBeTruthy();
    expect(fs.readdirSync(tmp)).toEqual(['tree']);
  }, 60_000);
});
