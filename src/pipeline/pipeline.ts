/**
 * `disk-image-create` as a pipeline, in diskimage-builder's phase order
 * (diskimage_builder/lib/disk-image-create): resolve flavours, merge their hooks, make the
 * root tree (root.d, or a copy of --root-dir/--root-tar), run extra-data.d, the chroot phases
 * pre-install.d/install.d/post-install.d, post-root.d, block-device.d (a hook may print the
 * layout), pre-finalise.d, finalise.d in the chroot, cleanup.d, then hand the final tree to
 * the assembler, which writes the image under a temporary name and renames it.
 * Everything the build sets up is undone by one CleanupStack: on success, on a failing hook,
 * on an exception and on SIGINT/SIGTERM.
 */
import { fork, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, DiskImageError, InputError, type ErrorCode } from '../errors.js';
import { runSync, runTracked, runTrackedOk } from './exec.js';
import { publishFile } from '../binary/file-device.js';
import type { BuildOptions } from './options.js';
import { loadLayout, parseLayout, type LayoutConfig } from '../layout/plan.js';
import { Chroot, mountsUnder } from './chroot.js';
import { CleanupStack, type Logger } from './cleanup.js';
import { flavourSearchPath, indexFlavours, resolveFlavours, type Resolved } from './flavours.js';
import { mergeHooks, PHASES, selectEnvFiles, selectHooks, type HookTree } from './hooks.js';
import { runPhase, timingTable, type HookTiming, type PhaseContext } from './run-phase.js';
import type { WriterJob, WriterMessage } from '../assemble/writer-child.js';

type WriterDone = Extract<WriterMessage, { type: 'done' }>;

export interface PipelineIO {
  log: Logger;
  output: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Phase/hook/assembly progress for a terminal display. */
  progress?: (ev: { stage: string; detail: string; done?: number; total?: number }) => void;
  /**
   * Called after SIGINT/SIGTERM/SIGHUP stopped the build and cleanup ran; the command decides
   * how to end (the CLI exits 128 + signal number). Without it the build fails with an error.
   */
  onSignal?: (sig: NodeJS.Signals) => void;
}

export interface PipelineResult {
  output: string | null;
  size: number;
  timings: HookTiming[];
  buildDir?: string;
}

/**
 * Where the layout comes from, first match wins: --block-device-config / DIB_BLOCK_DEVICE_CONFIG,
 * a block-device.d hook's printed layout (the caller puts it in blockDeviceConfig when the first
 * is unset), a flavour's block-device-ARCH.yaml / block-device-default.yaml, DIB_BLOCK_DEVICE
 * (a built-in layout name), else none (a bare ext4 filesystem).
 */
export function chooseLayout(opts: BuildOptions, resolved: Resolved, env: NodeJS.ProcessEnv): { config: LayoutConfig | null; source: string } {
  if (opts.blockDeviceConfig !== undefined) {
    return { config: parseLayout(opts.blockDeviceConfig), source: 'DIB_BLOCK_DEVICE_CONFIG / --block-device-config' };
  }
  for (const f of resolved.flavours) {
    for (const name of [`block-device-${opts.arch}.yaml`, 'block-device-default.yaml']) {
      const file = path.join(f.dir, name);
      if (fs.existsSync(file)) return { config: parseLayout(fs.readFileSync(file, 'utf8')), source: `flavour ${f.name} (${name})` };
    }
  }
  if (env.DIB_BLOCK_DEVICE) return { config: loadLayout(env.DIB_BLOCK_DEVICE), source: `DIB_BLOCK_DEVICE=${env.DIB_BLOCK_DEVICE}` };
  return { config: null, source: 'none: a bare ext4 filesystem image (no vm flavour)' };
}

/** The variables every hook sees (DIB's names). */
export function hookEnvironment(opts: BuildOptions, resolved: Resolved, dirs: { build: string; hooks: string; mnt: string }, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = opts.clearEnv
    ? { PATH: base.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: base.HOME ?? '/root', ...(base.TERM ? { TERM: base.TERM } : {}) }
    : { ...base };
  Object.assign(env, {
    LC_ALL: 'C',
    ARCH: opts.arch,
    IMAGE_NAME: opts.imageName,
    IMAGE_ELEMENT: resolved.flavours.map((f) => f.name).join(' '),
    IMAGE_ELEMENT_YAML: resolved.flavours.map((f) => `${f.name}: ${f.dir}`).join('\n'),
    TMP_BUILD_DIR: dirs.build,
    TMP_HOOKS_PATH: dirs.hooks,
    TMP_MOUNT_PATH: dirs.mnt,
    TARGET_ROOT: dirs.mnt,
    DIB_IMAGE_CACHE: opts.imageCache,
    DIB_ROOT_LABEL: opts.rootLabel ?? 'cloudimg-rootfs',
    DIB_ROOT_FSTYPE: 'ext4',
    FS_TYPE: 'ext4',
    DIB_INIT_SYSTEM: 'systemd',
    DIB_DEBUG_TRACE: String(opts.trace),
    DIB_NO_TMPFS: opts.noTmpfs ? '1' : '0',
  });
  if (opts.offline) env.DIB_OFFLINE = '1';
  else delete env.DIB_OFFLINE;
  if (opts.rootLabel) env.ROOT_LABEL = opts.rootLabel;
  if (opts.imageSize !== undefined) env.DIB_IMAGE_SIZE = String(opts.imageSize / 2 ** 30);
  if (opts.release) env.DIB_RELEASE = opts.release;
  if (opts.mirror) env.DIB_DISTRIBUTION_MIRROR = opts.mirror;
  if (opts.grubTimeout !== undefined) env.DIB_GRUB_TIMEOUT = String(opts.grubTimeout);
  if (opts.packages.length) env.INSTALL_PACKAGES = opts.packages.join(' ');
  return env;
}

/** The environment after sourcing every environment.d file (what the flavours set for assembly). */
export function sourcedEnvironment(hooksDir: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const envDir = path.join(hooksDir, 'environment.d');
  const files = selectEnvFiles(envDir).map((f) => path.join(envDir, f));
  let stdout: string;
  try {
    stdout = runSync('bash', ['-eu', '-c', 'for f; do . "$f"; done; env -0', 'dib-env', ...files], "source the flavours' environment.d files", { env, pkg: 'bash' });
  } catch (e) {
    if (e instanceof InputError) throw new ConfigError('environment.d', e.message, 'fix the named file');
    throw e;
  }
  const out: NodeJS.ProcessEnv = {};
  for (const kv of stdout.split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

function hasRootContent(mnt: string): boolean {
  return fs.readdirSync(mnt).some((n) => !['lost+found', 'tmp', 'proc', 'sys', 'dev'].includes(n));
}

/** Removes the build folder, refusing while anything is still mounted below it. */
function removeBuildDir(dir: string, log: Logger): void {
  const left = mountsUnder(dir);
  if (left.length > 0) {
    log(`NOT removing ${dir}: still mounted below it: ${left.join(', ')}`);
    return;
  }
  spawnSync('rm', ['-rf', '--one-file-system', dir]);
  if (fs.existsSync(dir)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Deletes the private output and the assembler's temporary files next to it (OUTPUT.tmp-XXXX). */
function removeTempOutputs(privateOutput: string): void {
  const dir = path.dirname(privateOutput);
  const prefix = path.basename(privateOutput);
  for (const n of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (n === prefix || n.startsWith(prefix + '.tmp')) fs.rmSync(path.join(dir, n), { force: true });
  }
}

/** The writer child's module: the .js next to this file (dist), or the .ts (run through tsx). */
function writerModule(): string {
  const js = fileURLToPath(new URL('../assemble/writer-child.js', import.meta.url));
  return fs.existsSync(js) ? js : js.replace(/\.js$/, '.ts');
}

/** Runs the assembler in a child process (see writer-child.ts). */
function assembleInChild(job: WriterJob, cleanup: CleanupStack, io: PipelineIO): Promise<{ path: string; size: number; outputs?: WriterDone['outputs'] }> {
  return new Promise((resolve, reject) => {
    const stdin = 'tar' in job.tree && job.tree.tar === '-' ? 'inherit' : 'ignore';
    const child = fork(writerModule(), [], { serialization: 'advanced', detached: true, stdio: [stdin, 'inherit', 'inherit', 'ipc'] });
    cleanup.track(child);
    let settled = false;
    child.on('message', (m: WriterMessage) => {
      if (m.type === 'progress') io.progress?.({ stage: 'assemble', detail: m.stage, done: m.done, total: m.total });
      else if (m.type === 'done') { settled = true; resolve(m); }
      else {
        settled = true;
        if (m.code && m.code !== 'ERR_MODULE_NOT_FOUND' && /Error$/.test(m.name) && m.name !== 'Error' && m.name !== 'TypeError') {
          reject(Object.assign(new DiskImageError(m.code as ErrorCode, m.message, m.hint), { name: m.name }));
        } else if (m.code && /^E[A-Z0-9]+$/.test(m.code)) {
          // An operating-system error (errno) while reading the tree or writing: not a bug.
          const full = m.code === 'ENOSPC' || m.code === 'EDQUOT';
          reject(new DiskImageError(full ? 'NO_SPACE' : 'IO', `the image writer failed: ${m.message}`,
            full ? 'free space where the image is written, or choose another -o' : 'check the named file or folder'));
        } else if (m.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test(m.message)) {
          reject(new DiskImageError('UNSUPPORTED', `image assembly is not available in this build of diskimage-ts: ${m.message.split('\n')[0]}`,
            'the hooks ran; use --keep-build-dir to keep the built tree'));
        } else {
          const e = new Error(`${m.message} (in the image writer process)`);
          if (m.stack) e.stack = m.stack;
          reject(e);
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      if (!settled) reject(new DiskImageError('IO', `the image writer process ended without a result (exit ${code ?? sig})`, 'see its output above'));
    });
    child.send(job);
  });
}

const CHECKSUM_KINDS = ['md5', 'sha256'] as const;

/**
 * Puts one finished output at its name. With overwrite, the old image's checksum files go
 * first (they would describe other bytes); without, link() fails if the name was taken meanwhile.
 */
function publishOutput(privatePath: string, dest: string, overwrite: boolean): void {
  if (overwrite) for (const k of CHECKSUM_KINDS) fs.rmSync(`${dest}.${k}`, { force: true });
  publishFile(privatePath, dest, { overwrite });
}

/**
 * Writes FILE.md5 / FILE.sha256 from the sums the writer computed, recording each in `created`
 * as soon as it exists. Under the image's rule: replaced when overwriting, else never over an
 * existing file ('wx').
 */
function writeChecksums(file: string, sums: Partial<Record<'md5' | 'sha256', string>>, overwrite: boolean, created: string[]): void {
  for (const k of CHECKSUM_KINDS) {
    const hex = sums[k];
    if (hex === undefined) continue;
    const sum = `${file}.${k}`;
    try {
      fs.writeFileSync(sum, `${hex}  ${path.basename(file)}\n`, { flag: overwrite ? 'w' : 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ConfigError('--checksum', `${sum} appeared during the build; it was left alone`, 'remove it and build again');
      throw e;
    }
    created.push(sum);
  }
}

/** Creates and removes a file in `dir`, so that an unwritable output folder fails before any hook runs. */
function probeWritable(dir: string): void {
  const probe = path.join(dir, `.dib-ts-probe-${process.pid}`);
  try {
    fs.closeSync(fs.openSync(probe, 'wx'));
    fs.rmSync(probe, { force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError('-o', `cannot create files in the output folder ${dir} (${code}: ${(e as Error).message})`,
      code === 'EROFS' ? 'the folder is on a read-only filesystem: choose another -o' : 'choose a writable folder with -o, or fix its permissions');
  }
}

/** `output` is the first of `outputs` (NAME.TYPE for each -t type, in order). */
export interface Prepared { resolved: Resolved; output: string; outputs: string[]; }

/** Resolves flavours and checks the output name; nothing is created. */
export function prepare(opts: BuildOptions, env: NodeJS.ProcessEnv, log: Logger): Prepared {
  const index = indexFlavours(flavourSearchPath(env));
  const resolved = resolveFlavours(opts.flavours, index, { skipBase: opts.skipBase, externalRoot: !!(opts.rootDir || opts.rootTar) });
  for (const w of resolved.warnings) log(`warning: ${w}`);
  const outputs = opts.types.map((t) => path.resolve(`${opts.imageName}.${t}`));
  const output = outputs[0]!;
  if (!opts.dryRun && !opts.overwrite) {
    for (const f of outputs.flatMap((o) => [o, ...opts.checksum.map((k) => `${o}.${k}`)])) {
      if (fs.existsSync(f)) throw new ConfigError('-o', `the output ${f} already exists`, 'remove or rename it, choose another -o NAME, or set OVERWRITE_OLD_IMAGE=1 to replace it');
    }
  }
  if (!fs.existsSync(path.dirname(output))) throw new ConfigError('-o', `the output folder ${path.dirname(output)} does not exist`, 'create it first');
  if (!opts.dryRun) probeWritable(path.dirname(output));
  if (opts.rootDir && !fs.statSync(opts.rootDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new InputError(`--root-dir ${opts.rootDir} is not a directory`, 'give the folder holding the root tree');
  }
  if (opts.rootTar && opts.rootTar !== '-' && !fs.existsSync(opts.rootTar)) throw new InputError(`--root-tar ${opts.rootTar} does not exist`);
  return { resolved, output, outputs };
}

const CHROOT_GROUPS = [['pre-install.d', 'install.d', 'post-install.d'], ['finalise.d']];

/** Runs the whole build. */
export async function runPipeline(opts: BuildOptions, env: NodeJS.ProcessEnv, io: PipelineIO): Promise<PipelineResult> {
  const { resolved, outputs } = prepare(opts, env, io.log);
  const cleanup = new CleanupStack(io.log);
  cleanup.installSignalHandlers(io.onSignal);
  // The assembler writes private names next to the outputs; only success links them into place.
  const privateName = (f: string) => path.join(path.dirname(f), `.${path.basename(f)}.dib-ts-${process.pid}`);
  const privateOutput = privateName(`${path.resolve(opts.imageName)}.raw`);
  let succeeded = false;
  const published: string[] = [];
  const createdSums: string[] = [];
  cleanup.push('remove unfinished output', () => {
    for (const f of [privateOutput, ...outputs.map(privateName)]) removeTempOutputs(f);
    if (!succeeded) {
      // Only what this run wrote: never an older image's checksum files.
      for (const f of [...published, ...createdSums]) fs.rmSync(f, { force: true });
    }
  });
  const timings: HookTiming[] = [];
  const buildParent = env.TMPDIR && fs.existsSync(env.TMPDIR) ? env.TMPDIR : os.tmpdir();
  const build = fs.mkdtempSync(path.join(buildParent, 'dib_build.'));
  cleanup.push('remove the build folder', () => {
    if (opts.keepBuildDir) io.log(`keeping the build folder ${build} (--keep-build-dir)`);
    else removeBuildDir(build, io.log);
  });
  io.log(`build folder ${build}; flavours: ${resolved.flavours.map((f) => f.name).join(' ')}`);
  let treeSource: WriterJob['tree'] | undefined;
  let blockDeviceLayout: string | undefined;
  try {
    const dirs = { build, hooks: path.join(build, 'hooks'), mnt: path.join(build, 'mnt') };
    const hooks: HookTree = mergeHooks(resolved.flavours, dirs.hooks);
    const hookPhases = new Set(PHASES.map((p) => p.name).filter((p) => selectHooks(path.join(hooks.dir, p)).run.length > 0));
    const needsTree = hookPhases.size > 0 || opts.packages.length > 0;
    const hookEnv = hookEnvironment(opts, resolved, dirs, env);

    if (!needsTree && (opts.rootDir || opts.rootTar)) {
      io.log('no flavour has hooks: the given root tree goes straight to the assembler');
      treeSource = opts.rootDir ? { dir: opts.rootDir } : { tar: opts.rootTar! };
    } else {
      fs.mkdirSync(dirs.mnt, { mode: 0o755 });
      if (opts.rootDir) {
        io.progress?.({ stage: 'copy', detail: opts.rootDir });
        io.log(`copying --root-dir ${opts.rootDir} into the build folder (flavours have hooks)`);
        await runTrackedOk('cp', ['-a', '--one-file-system', `${opts.rootDir}/.`, dirs.mnt], {}, cleanup, `copy --root-dir ${opts.rootDir} into the build folder`);
      } else if (opts.rootTar) {
        io.progress?.({ stage: 'unpack', detail: opts.rootTar });
        io.log(`unpacking --root-tar ${opts.rootTar} into the build folder (flavours have hooks)`);
        await runTrackedOk('tar', ['-x', '--xattrs', "--xattrs-include=*", '--numeric-owner', '-p', '-f', opts.rootTar, '-C', dirs.mnt],
          { stdin: opts.rootTar === '-' ? 'inherit' : 'ignore' }, cleanup, `unpack --root-tar ${opts.rootTar}`);
      }
      const ctx: PhaseContext = {
        hooks, root: dirs.mnt, env: hookEnv, cleanup, timings, output: io.output,
        onHookStart: (phase, hook) => {
          io.progress?.({ stage: phase, detail: hook });
          io.log(`running ${phase}/${hook} (${hooks.origin.get(`${phase}/${hook}`)})`);
        },
      };
      let chroot: Chroot | null = null;
      for (const phase of PHASES) {
        if (cleanup.interrupted) break;
        const group = CHROOT_GROUPS.find((g) => g[0] === phase.name);
        if (group && (group.some((p) => hookPhases.has(p)) || (phase.name === 'pre-install.d' && opts.packages.length > 0))) {
          chroot = new Chroot(dirs.mnt, cleanup, io.log);
          chroot.enter(dirs.hooks);
        }
        if (hookPhases.has(phase.name)) {
          const out = await runPhase(phase.name, phase.where, ctx);
          if (phase.name === 'block-device.d' && out.trimStart().startsWith('- ')) blockDeviceLayout = out;
        }
        if (phase.name === 'install.d' && opts.packages.length > 0) await installPackages(opts.packages, ctx);
        if (phase.name === 'root.d' && !opts.rootDir && !opts.rootTar && !hasRootContent(dirs.mnt)) {
          throw new DiskImageError('INPUT', 'root.d did not populate the root tree (it holds nothing but lost+found/tmp)',
            'the operating-system flavour failed to deploy its root: check its root.d output above');
        }
        if (chroot && (phase.name === 'post-install.d' || phase.name === 'finalise.d')) {
          chroot.leave();
          chroot = null;
        }
      }
      if (cleanup.interrupted) throw new DiskImageError('IO', `interrupted by ${cleanup.interrupted}`);
      // The command line (or DIB_BLOCK_DEVICE_CONFIG) wins over a hook's printed layout.
      if (blockDeviceLayout && opts.blockDeviceConfig !== undefined) {
        io.log('a block-device.d hook printed a layout; --block-device-config / DIB_BLOCK_DEVICE_CONFIG wins');
        blockDeviceLayout = undefined;
      }
      if (blockDeviceLayout) opts = { ...opts, blockDeviceConfig: blockDeviceLayout };
      treeSource = { dir: dirs.mnt };
    }

    const finalEnv = sourcedEnvironment(hooks.dir, hookEnv);
    const { config, source } = chooseLayout(opts, resolved, finalEnv);
    io.log(`layout: ${blockDeviceLayout ? 'printed by a block-device.d hook' : source}`);
    const bootloader = resolved.flavours.some((f) => f.name === 'bootloader');
    const mkfsOptions = [...opts.mkfsOptions, ...(opts.journalSizeMiB !== undefined ? ['-J', `size=${opts.journalSizeMiB}`] : [])];
    const grubTimeout = finalEnv.DIB_GRUB_TIMEOUT !== undefined && finalEnv.DIB_GRUB_TIMEOUT !== '' ? Number(finalEnv.DIB_GRUB_TIMEOUT) : undefined;
    const job: WriterJob = {
      tree: treeSource!,
      options: {
        output: privateOutput, layout: config, bootloader, format: 'raw', overwrite: false, scratchDir: build,
        containers: opts.types.map((type, i) => ({ type, path: privateName(outputs[i]!), name: path.basename(outputs[i]!) })),
        compress: !opts.uncompressed, checksums: opts.checksum,
        ...(opts.compressionType ? { compressionType: opts.compressionType } : {}),
        ...(opts.imageSize !== undefined ? { imageSize: opts.imageSize } : {}),
        ...(opts.extraSize !== undefined ? { extraSize: opts.extraSize } : {}),
        ...(opts.rootLabel !== undefined ? { rootLabel: opts.rootLabel } : {}),
        ...(mkfsOptions.length ? { mkfsOptions } : {}),
        ...(grubTimeout !== undefined && Number.isFinite(grubTimeout) ? { grubTimeout } : {}),
        ...(finalEnv.DIB_BOOTLOADER_DEFAULT_CMDLINE ? { kernelCmdline: finalEnv.DIB_BOOTLOADER_DEFAULT_CMDLINE } : {}),
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
      },
    };
    const result = await assembleInChild(job, cleanup, io);
    if (cleanup.interrupted) throw new DiskImageError('IO', `interrupted by ${cleanup.interrupted}`);
    // Every output is finished: the final names appear only now, in this process.
    for (const [i, out] of (result.outputs ?? []).entries()) {
      publishOutput(privateName(outputs[i]!), outputs[i]!, opts.overwrite);
      published.push(outputs[i]!);
      writeChecksums(outputs[i]!, out.checksums, opts.overwrite, createdSums);
      if (opts.checksum.length) io.log(`${opts.checksum.join(' and ')} of ${outputs[i]} computed ${out.checksumMode}`);
      io.log(`wrote ${outputs[i]} (${out.size} bytes)`);
    }
    if (cleanup.interrupted) throw new DiskImageError('IO', `interrupted by ${cleanup.interrupted}`);
    const table = timingTable(timings);
    if (table) io.log(table.trimEnd());
    succeeded = true;
    return { output: outputs[0]!, size: result.outputs?.[0]?.size ?? result.size, timings, ...(opts.keepBuildDir ? { buildDir: build } : {}) };
  } finally {
    cleanup.run();
  }
}

/** `-p`: DIB installs these with install-packages right after install.d; here apt-get in the chroot. */
async function installPackages(pkgs: string[], ctx: PhaseContext): Promise<void> {
  const dir = path.join(ctx.root, 'tmp');
  const name = 'dib-ts-install-packages';
  const script = path.join(dir, name);
  fs.writeFileSync(script, [
    '#!/bin/sh', 'set -eu', 'export DEBIAN_FRONTEND=noninteractive',
    `if command -v install-packages >/dev/null; then exec install-packages ${pkgs.join(' ')}; fi`,
    // bootstrap tools drop the package lists; fetch them once when there are none
    'if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name \'*_Packages*\' 2>/dev/null | head -n 1)" ]; then apt-get -q update; fi',
    `apt-get -y -q install --no-install-recommends ${pkgs.join(' ')}`, '',
  ].join('\n'), { mode: 0o755 });
  try {
    const { code } = await runTracked('chroot', [ctx.root, `/tmp/${name}`], {
      env: { ...ctx.env, PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' }, output: ctx.output,
    }, ctx.cleanup, 'install the -p packages');
    if (code !== 0) throw new DiskImageError('HOOK', `installing the -p packages (${pkgs.join(', ')}) failed with exit code ${code}`, 'check the package names and the mirror (output above)');
  } finally {
    fs.rmSync(script, { force: true });
  }
}
