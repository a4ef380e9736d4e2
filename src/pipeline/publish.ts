/**
 * DIB's rule for an output file that already exists (diskimage-builder's `finish_image` in
 * lib/img-functions): a build never refuses to start because NAME.EXT exists. At the end of a
 * successful build the old file is renamed NAME-YYYY.MM.DD-HH.MM.SS.EXT (its .md5 and .sha256
 * files follow it) and the new file takes the name; with OVERWRITE_OLD_IMAGE=1 the old file and
 * its checksums are replaced instead. A build that fails never gets here, so the old file stays
 * exactly as it was.
 *
 * Unlike DIB's `mv`, nothing is ever lost: the old file is hard-linked to its new name before
 * the new file is renamed over the old name (so the name never disappears), a dated name that
 * is taken gets a `-2`, `-3`, ... suffix rather than being replaced, and a failure part way
 * puts back what was moved.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileError } from '../binary/file-device.js';
import { DiskImageError, InputError } from '../errors.js';
import type { Build } from './setup.js';
import type { WriterResult } from './write-image.js';

/** The checksum kinds DIB writes next to an image (`--checksum`). */
export const CHECKSUM_KINDS = ['md5', 'sha256'] as const;
export type ChecksumKind = (typeof CHECKSUM_KINDS)[number];

export interface FinishOptions {
  /** OVERWRITE_OLD_IMAGE=1: replace an existing file instead of renaming it. */
  overwrite: boolean;
  /** The time in the renamed file's name (default: now, local time, as DIB's `date`). */
  now?: Date;
  /** Finished checksum files, written under temporary names: published next to `dest` as DEST.KIND. */
  sums?: Partial<Record<ChecksumKind, string>>;
  log?: (line: string) => void;
}

export interface FinishResult {
  /** Where the old file went, when there was one and it was kept. */
  renamedTo?: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** DIB's `date +%Y.%m.%d-%H.%M.%S`. */
export function dibTimestamp(d: Date): string {
  return `${d.getFullYear()}.${pad(d.getMonth() + 1)}.${pad(d.getDate())}-${pad(d.getHours())}.${pad(d.getMinutes())}.${pad(d.getSeconds())}`;
}

/**
 * The name an old `file` is kept under: DIB's `${1%.*}-DATE.${1##*.}` (the stamp goes before
 * the last extension; a name without one gets the stamp at the end).
 */
export function oldImageName(file: string, now: Date): string {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const dot = base.lastIndexOf('.');
  const stamp = dibTimestamp(now);
  return path.join(dir, dot > 0 ? `${base.slice(0, dot)}-${stamp}${base.slice(dot)}` : `${base}-${stamp}`);
}

/** link(from, to) under the first free name of `to`, `to` with -2, -3 ... before its extension. */
function linkToFreeName(from: string, to: string): string {
  const dot = path.basename(to).lastIndexOf('.');
  const cut = dot > 0 ? to.length - (path.basename(to).length - dot) : to.length;
  for (let n = 1; ; n++) {
    const name = n === 1 ? to : `${to.slice(0, cut)}-${n}${to.slice(cut)}`;
    try {
      fs.linkSync(from, name);
      return name;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 1000) throw fileError(e, name, `keeping the old ${from} as`);
    }
  }
}

/** Moves a finished temporary file to `dest`, which must not exist; never replaces one that appeared. */
function linkNew(tmp: string, dest: string): void {
  try {
    fs.linkSync(tmp, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new InputError(`${dest} appeared while it was being written; it was left alone`, 'remove or rename it, then run the command again');
    }
    throw fileError(e, dest, 'linking the finished file to');
  }
  fs.rmSync(tmp, { force: true });
}

function renameNew(tmp: string, dest: string): void {
  try {
    fs.renameSync(tmp, dest);
  } catch (e) {
    throw fileError(e, dest, 'renaming the finished file to');
  }
}

/**
 * Puts the finished image `tmp` (and its finished checksum files) at `dest` under DIB's rule.
 * On failure what was moved is put back and the temporary files are left for the caller's
 * cleanup.
 */
export function finishImage(tmp: string, dest: string, o: FinishOptions): FinishResult {
  const sums = Object.entries(o.sums ?? {}) as [ChecksumKind, string][];
  const old = fs.lstatSync(dest, { throwIfNoEntry: false });
  if (old && !old.isFile()) {
    throw new InputError(`the output ${dest} exists and is not a regular file; it was left alone`, 'remove it or choose another -o NAME');
  }
  if (!old) {
    // The old image's checksum files, if any are left without it, describe nothing: replaced.
    linkNew(tmp, dest);
    for (const [kind, file] of sums) renameNew(file, `${dest}.${kind}`);
    return {};
  }
  if (o.overwrite) {
    o.log?.(`OVERWRITE_OLD_IMAGE is set: replacing ${dest}`);
    for (const kind of CHECKSUM_KINDS) if (!o.sums?.[kind]) fs.rmSync(`${dest}.${kind}`, { force: true });
    renameNew(tmp, dest);
    for (const [kind, file] of sums) renameNew(file, `${dest}.${kind}`);
    return {};
  }
  const kept = linkToFreeName(dest, oldImageName(dest, o.now ?? new Date()));
  const keptSums: string[] = [];
  try {
    for (const kind of CHECKSUM_KINDS) {
      if (fs.existsSync(`${dest}.${kind}`)) keptSums.push(linkToFreeName(`${dest}.${kind}`, `${kept}.${kind}`));
    }
    renameNew(tmp, dest);
  } catch (e) {
    for (const f of [kept, ...keptSums]) fs.rmSync(f, { force: true });
    throw e;
  }
  o.log?.(`Old image found. Renamed it to ${kept}`);
  // The old checksums now live next to the old image; the new ones (or none) take their names.
  for (const kind of CHECKSUM_KINDS) if (!o.sums?.[kind]) fs.rmSync(`${dest}.${kind}`, { force: true });
  for (const [kind, file] of sums) renameNew(file, `${dest}.${kind}`);
  return { renamedTo: kept };
}

/**
 * Writes each KIND's line (the hex sum the writer computed, then the file's final basename) to
 * PRIVATE.KIND, for finishImage to publish with the file.
 */
export function writeChecksumFiles(privatePath: string, finalName: string, sums: Partial<Record<ChecksumKind, string>>): Partial<Record<ChecksumKind, string>> {
  const out: Partial<Record<ChecksumKind, string>> = {};
  for (const kind of CHECKSUM_KINDS) {
    const hex = sums[kind];
    if (hex === undefined) continue;
    fs.writeFileSync(`${privatePath}.${kind}`, `${hex}  ${path.basename(finalName)}\n`);
    out[kind] = `${privatePath}.${kind}`;
  }
  return out;
}

/**
 * Hashes the finished (private) image and writes each KIND's line, naming the file's final
 * basename, to PRIVATE.KIND; finishImage publishes them with the image.
 */
export async function checksumFiles(file: string, finalName: string, kinds: ChecksumKind[]): Promise<Partial<Record<ChecksumKind, string>>> {
  if (kinds.length === 0) return {};
  const hashes = kinds.map((k) => ({ k, h: createHash(k) }));
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 })) {
    for (const { h } of hashes) h.update(chunk as Buffer);
  }
  return writeChecksumFiles(file, finalName, Object.fromEntries(hashes.map(({ k, h }) => [k, h.digest('hex')])));
}

/** The private name a finished output is written under, next to it (only success links it into place). */
export function privateName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.dib-ts-${process.pid}`);
}

/**
 * The publish stage of a build (pipeline.ts). The writers computed the checksums as they
 * wrote; their files are written next to the private outputs first, so that nothing is left
 * to fail once the first name appears. The final names appear only then, every output
 * finished, in one synchronous stretch no signal handler can cut into. Returns the bytes of
 * the first output.
 */
export function publishImages(b: Build, result: WriterResult): number {
  const { opts, outputs, io } = b;
  const written = result.outputs ?? [];
  const sums = written.map((out, i) => writeChecksumFiles(privateName(outputs[i]!), outputs[i]!, out.checksums));
  if (b.cleanup.interrupted) throw new DiskImageError('IO', `interrupted by ${b.cleanup.interrupted}`);
  for (const i of written.keys()) {
    finishImage(privateName(outputs[i]!), outputs[i]!, { overwrite: opts.overwrite, sums: sums[i]!, log: io.log });
  }
  for (const [i, out] of written.entries()) {
    if (opts.checksum.length) io.log(`${opts.checksum.join(' and ')} of ${outputs[i]} computed ${out.checksumMode}`);
    io.log(`wrote ${outputs[i]} (${out.size} bytes)`);
  }
  return written[0]?.size ?? result.size;
}
