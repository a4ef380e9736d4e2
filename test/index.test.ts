/**
 * The package as a user gets it: `npm pack` (which builds dist/ through `prepare`) in a copy
 * of the checkout's tracked files (with its node_modules linked in: `prepare` rewrites dist/
 * and removes dist/bundle, which other tests run meanwhile from the checkout), the tarball
 * unpacked into a fresh project's node_modules/diskimage-ts (its runtime dependencies linked
 * from this checkout, so no registry is needed), then `import ... from 'diskimage-ts'` in a
 * .mjs run by node, and a .ts consumer and the examples of docs/library-api.md typechecked by
 * tsc against the shipped declarations. Internal modules stay closed (the exports map).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './helpers/cli-run.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-api-'));
const app = path.join(tmp, 'app');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The checkout's tracked files as they are in its working tree, copied to `to`, with node_modules linked. */
function copyOfCheckout(to: string): void {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of tracked) {
    if (!fs.existsSync(path.join(REPO, f))) continue; // deleted in the working tree, not yet in git
    fs.mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
    fs.cpSync(path.join(REPO, f), path.join(to, f), { verbatimSymlinks: true });
  }
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(to, 'node_modules'));
}

beforeAll(() => {
  const copy = path.join(tmp, 'checkout');
  copyOfCheckout(copy);
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: copy, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  // The prepare script's own output (tsc, the bundles, node-gyp's make lines) comes first; npm's JSON ends it.
  const [packed] = JSON.parse(out.slice(out.search(/^\[$/m))) as { filename: string }[];
  const pkgDir = path.join(app, 'node_modules/diskimage-ts');
  fs.mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(tmp, packed!.filename), '-C', pkgDir, '--strip-components=1']);
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of [...Object.keys(pkg.dependencies), '@types/node']) {
    const to = path.join(app, 'node_modules', dep);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.symlinkSync(fs.realpathSync(path.join(REPO, 'node_modules', dep)), to);
  }
  fs.writeFileSync(path.join(app, 'package.json'), '{ "name": "app", "type": "module", "private": true }\n');
}, 180_000);

describe('diskimage-ts as a dependency', () => {
  it('the tarball ships the entry module and its declarations', () => {
    const pkgDir = path.join(app, 'node_modules/diskimage-ts');
    expect(fs.existsSync(path.join(pkgDir, 'dist/index.js'))).toBe(true);
    expect(fs.readFileSync(path.join(pkgDir, 'dist/index.d.ts'), 'utf8')).toContain('export { runPipeline');
  });

  it('a .mjs imports it by name: plans a layout, writes and reads a GPT and an ext4 filesystem, assembles an image', () => {
    fs.writeFileSync(path.join(app, 'use.mjs'), `
import * as fs from 'node:fs';
import {
  assembleImage, FileBlockDevice, FormatError, loadLayout, MemoryBlockDevice, memoryTree, openExt4, planLayout,
  readPartitionTable, SliceBlockDevice, writeExt4, writePartitionTable,
} from 'diskimage-ts';
const plan = planLayout(loadLayout('gpt'), { diskSize: 64 * 2 ** 20, seed: 'api' });
const disk = new MemoryBlockDevice(plan.diskSize);
writePartitionTable(disk, plan.table);
const { table } = readPartitionTable(disk);
const root = table.partitions.at(-1);
const part = new SliceBlockDevice(disk, Number(root.firstLba) * 512, Number(root.lastLba - root.firstLba + 1n) * 512);
writeExt4(part, memoryTree([{ path: '/etc/hello', data: 'hi\\n' }]), { seed: 'api', timestamp: 1700000000 });
const hello = new TextDecoder().decode(openExt4(part).readFile('/etc/hello'));
let format = '';
try { readPartitionTable(new MemoryBlockDevice(1 << 20)); } catch (e) { format = e instanceof FormatError ? e.code + ' ' + e.field + ' ' + e.offset : String(e); }
const img = await assembleImage({ tree: memoryTree([{ path: '/x', data: 'x' }]), output: process.argv[2], layout: null, bootloader: false,
  format: 'raw', seed: 'api', sourceDateEpoch: 1700000000 });
const dev = FileBlockDevice.open(img.path);
const x = new TextDecoder().decode(openExt4(dev).readFile('/x'));
dev.close();
let closed = '';
try { await import('diskimage-ts/dist/partition/gpt.js'); } catch (e) { closed = e.code; }
console.log(JSON.stringify({ partitions: table.partitions.length, label: table.label, hello, format, x, size: fs.statSync(img.path).size === img.size, closed }));
`);
    const out = execFileSync(process.execPath, ['use.mjs', path.join(tmp, 'bare.raw')], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({
      partitions: 2, label: 'gpt', hello: 'hi\n', format: 'FORMAT Signature 510', x: 'x', size: true, closed: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
    // The reference checker agrees with the filesystem the library call assembled.
    expect(execFileSync('e2fsck', ['-fn', path.join(tmp, 'bare.raw')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toMatch(/clean|files/);
  }, 60_000);

  it('a .ts consumer and the examples of docs/library-api.md typecheck against the shipped declarations (and a wrong call does not)', () => {
    const page = fs.readFileSync(path.join(REPO, 'docs/library-api.md'), 'utf8');
    const examples = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(examples.length).toBe(6);
    examples.forEach((code, i) => fs.writeFileSync(path.join(app, `readme-${i}.ts`), code));
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'], skipLibCheck: false },
      files: ['use.ts', 'bad.ts', ...examples.map((_, i) => `readme-${i}.ts`)],
    }));
    const good = `
import { dirTree, tarTree, loadLayout, planLayout, runPipeline, parseBuildOptions, readPartitionTable, FileBlockDevice,
  type BuildOptions, type LayoutPlan, type FileTree, type PartitionTable, DiskImageError } from 'diskimage-ts';
export async function build(args: string[]): Promise<string | null> {
  const opts: BuildOptions = parseBuildOptions(args, process.env);
  const r = await runPipeline(opts, process.env, { log: (l: string) => console.error(l), output: (s: string) => process.stderr.write(s) });
  return r.output;
}
export async function trees(dir: string, tar: string): Promise<number> {
  const a: FileTree = dirTree(dir);
  const b: FileTree = await tarTree(tar);
  return a.entries.length + b.entries.length;
}
export function plan(size: number): LayoutPlan { return planLayout(loadLayout('efi'), { diskSize: size }); }
export function table(file: string): PartitionTable {
  try { return readPartitionTable(FileBlockDevice.open(file)).table; } catch (e) { if (e instanceof DiskImageError) console.error(e.code, e.hint); throw e; }
}
`;
    const tsc = path.join(REPO, 'node_modules/typescript/bin/tsc');
    fs.writeFileSync(path.join(app, 'use.ts'), good);
    fs.writeFileSync(path.join(app, 'bad.ts'), "import { planLayout, type LayoutPlan } from 'diskimage-ts';\nexport const bad: LayoutPlan = planLayout('efi');\n");
    let out = '';
    try { execFileSync(process.execPath, [tsc, '-p', '.'], { cwd: app, encoding: 'utf8' }); } catch (e) { out = String((e as { stdout?: string }).stdout); }
    // The one error is the wrong call; use.ts, the docs/library-api.md examples and the shipped declarations (skipLibCheck off) are clean.
    expect(out.trim().split('\n')).toEqual([
      expect.stringMatching(/^bad\.ts\(2,\d+\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'LayoutConfig'/),
    ]);
  }, 60_000);
});
