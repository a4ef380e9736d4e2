/**
 * The merged hook tree and DIB's run-parts rules (diskimage-builder lib/common-functions
 * generate_hooks, lib/dib-run-parts):
 * - every subfolder of every selected flavour (except tests/) is merged into one folder per
 *   name under TMP_HOOKS_PATH; the same file name from two flavours is an error;
 * - a phase runs the executable regular files (symlinks followed) whose names match
 *   ^[0-9A-Za-z_-]+$ (so `foo.sh` is skipped), in `LANG=C sort -n` order: the leading number
 *   first (no number counts as 0), then bytewise;
 * - environment.d files matching [0-9A-Za-z_.-]+ are sourced, in the same order, before
 *   every hook.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors.js';
import type { Flavour } from './flavours.js';

export type Where = 'outside' | 'chroot';

/** DIB's phases in the order they run. */
export const PHASES: readonly { name: string; where: Where }[] = [
  { name: 'root.d', where: 'outside' },
  { name: 'extra-data.d', where: 'outside' },
  { name: 'pre-install.d', where: 'chroot' },
  { name: 'install.d', where: 'chroot' },
  { name: 'post-install.d', where: 'chroot' },
  { name: 'post-root.d', where: 'outside' },
  { name: 'block-device.d', where: 'outside' },
  { name: 'pre-finalise.d', where: 'outside' },
  { name: 'finalise.d', where: 'chroot' },
  { name: 'cleanup.d', where: 'outside' },
];

export const HOOK_NAME = /^[0-9A-Za-z_-]+$/;
export const ENV_NAME = /^[0-9A-Za-z_.-]+$/;
const SKIPPED_DIRS = new Set(['tests', 'test-elements', '__pycache__']);

/** The leading-number key of GNU `sort -n` in the C locale (optional '-', digits; none = 0). */
function numericKey(name: string): number {
  const m = /^(-?)(\d+)/.exec(name);
  if (!m) return 0;
  const v = Number(m[2]);
  return m[1] ? -v : v;
}

/** Orders names as `LANG=C sort -n` does: numeric prefix, then bytewise as the last resort. */
export function compareRunParts(a: string, b: string): number {
  const d = numericKey(a) - numericKey(b);
  if (d !== 0) return d;
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return Buffer.compare(ba, bb);
}

function isExecutableFile(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

export interface Selection {
  run: string[];
  /** Files present but not run, with the reason (shown in debug output and --dry-run). */
  skipped: { name: string; why: string }[];
}

/** The hooks of one phase folder that dib-run-parts would run, in order. */
export function selectHooks(dir: string): Selection {
  const run: string[] = [];
  const skipped: { name: string; why: string }[] = [];
  if (!fs.existsSync(dir)) return { run, skipped };
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    if (!HOOK_NAME.test(name)) skipped.push({ name, why: 'name does not match ^[0-9A-Za-z_-]+$' });
    else if (!isExecutableFile(file)) skipped.push({ name, why: 'not an executable file' });
    else run.push(name);
  }
  run.sort(compareRunParts);
  return { run, skipped };
}

/** environment.d files to source, in order. */
export function selectEnvFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir)
    .filter((n) => ENV_NAME.test(n) && fs.statSync(path.join(dir, n)).isFile())
    .sort(compareRunParts);
}

export interface HookTree {
  dir: string;
  /** "phase/name" -> flavour that contributed it. */
  origin: Map<string, string>;
}

function copyFile(src: string, dst: string): void {
  fs.copyFileSync(src, dst);
  fs.chmodSync(dst, fs.statSync(src).mode & 0o7777);
}

/**
 * Copies `src` into `dst` (DIB's copy_hooks_not_overwrite): folders of the same name merge,
 * a regular file that is already there is an error naming the flavour that shipped it first.
 */
function mergeInto(src: string, dst: string, key: string, flavour: string, origin: Map<string, string>): void {
  const isDir = fs.statSync(src).isDirectory();
  const there = fs.statSync(dst, { throwIfNoEntry: false });
  if (there && !(isDir && there.isDirectory())) {
    throw new ConfigError(`flavour ${flavour}`, `hook ${key} is also provided by flavour '${origin.get(key) ?? '?'}' (a duplicated hook)`,
      'hook file names must be unique across the selected flavours (folders of the same name are merged): rename one of them');
  }
  if (!origin.has(key)) origin.set(key, flavour);
  if (!isDir) {
    copyFile(src, dst);
    return;
  }
  if (!there) {
    fs.mkdirSync(dst);
    fs.chmodSync(dst, fs.statSync(src).mode & 0o7777);
  }
  for (const name of fs.readdirSync(src).sort()) mergeInto(path.join(src, name), path.join(dst, name), `${key}/${name}`, flavour, origin);
}

/**
 * Merges the flavours' folders into `dest` (TMP_HOOKS_PATH). Files directly under a
 * flavour (README.md, element-deps, ...) are not copied; each folder's entries are, and
 * folders of the same name in several flavours are merged.
 */
export function mergeHooks(flavours: Flavour[], dest: string): HookTree {
  const origin = new Map<string, string>();
  fs.mkdirSync(dest, { recursive: true });
  for (const f of flavours) {
    for (const sub of fs.readdirSync(f.dir).sort()) {
      const srcDir = path.join(f.dir, sub);
      if (SKIPPED_DIRS.has(sub) || !fs.statSync(srcDir).isDirectory()) continue;
      const dstDir = path.join(dest, sub);
      fs.mkdirSync(dstDir, { recursive: true });
      for (const name of fs.readdirSync(srcDir).sort()) mergeInto(path.join(srcDir, name), path.join(dstDir, name), `${sub}/${name}`, f.name, origin);
    }
  }
  return { dir: dest, origin };
}

