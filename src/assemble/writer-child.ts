/**
 * The image assembler run in a child process. Assembly is long, synchronous work; in a
 * child, the build's own process stays free to react to SIGINT/SIGTERM at once: it kills
 * this child, deletes what the child wrote, and exits. The child gets a plain job over IPC
 * (where the tree is, the layout, the options), builds the tree itself and reports progress
 * and the result (or the error, serialised with its class, code, hint and fields) back.
 * If the build process disappears (SIGKILL), nobody would ever link or delete what this child
 * writes: it notices (IPC 'disconnect' when idle, a changed parent pid between progress
 * reports while writing), removes its files and exits. SIGTERM keeps its default action (the
 * child ends at once, even inside synchronous writing); the parent then deletes the files.
 */
import * as fs from 'node:fs';
import { type SerialisedError, serialiseError } from '../errors.js';
import { removeTempOutputs } from '../binary/file-device.js';
import type { LayoutConfig } from '../layout/plan.js';
import type { AssembleOptions, AssembleResult } from './assemble.js';

export interface WriterJob {
  /** devicePlaceholders: an unprivileged build's tree (see DirTreeOptions.devicePlaceholders). */
  tree: { dir: string; devicePlaceholders?: boolean } | { tar: string };
  options: Omit<AssembleOptions, 'tree' | 'progress' | 'layout'> & { layout: LayoutConfig | null };
}

export type WriterMessage =
  | { type: 'progress'; stage: string; done: number; total: number }
  | { type: 'done'; path: string; size: number; outputs?: AssembleResult['outputs'] }
  | ({ type: 'error' } & SerialisedError);

/** The live parent pid (/proc/self/stat field 4; process.ppid is fixed at start). */
function parentPid(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

class ParentGone extends Error {}

let orphaned: () => never = () => process.exit(1);

async function runJob(job: WriterJob): Promise<void> {
  const parent = parentPid();
  orphaned = (): never => {
    for (const f of [job.options.output, ...(job.options.containers ?? []).map((c) => c.path)]) removeTempOutputs(f);
    process.exit(1);
  };
  const send = (m: WriterMessage): void => {
    if (!process.connected) orphaned();
    process.send?.(m);
  };
  try {
    const { assembleImage } = await preloaded;
    const tree = 'dir' in job.tree
      ? (await preloadedDirSource).dirTree(job.tree.dir, { exclude: (p) => p === '/tmp/in_target.d', devicePlaceholders: job.tree.devicePlaceholders === true })
      : await (await import('../tree/tar-source.js')).tarTree(job.tree.tar === '-' ? process.stdin : job.tree.tar);
    try {
      let last = 0;
      const r = await assembleImage({
        ...job.options, tree,
        progress: (ev) => {
          const now = Date.now();
          if (now - last > 200 || ev.done === ev.total || ev.done === 0) {
            last = now;
            if (parentPid() !== parent) throw new ParentGone('the build process is gone');
            send({ type: 'progress', ...ev });
          }
        },
      });
      send({ type: 'done', path: r.path, size: r.size, ...(r.outputs ? { outputs: r.outputs } : {}) });
    } finally {
      tree.close();
    }
  } catch (e) {
    if (e instanceof ParentGone || !process.connected) orphaned();
    send({ type: 'error', ...serialiseError(e) });
  }
}

// The child is started before its job is ready (src/pipeline/writer-process.ts): load the
// writers now (in the bundle, dist/bundle, they are part of this file already).
const preloaded = import('./assemble.js');
const preloadedDirSource = import('../tree/dir-source.js');

const onDisconnect = (): void => { orphaned(); };
process.once('disconnect', onDisconnect);
process.once('message', (job: WriterJob) => {
  void runJob(job).finally(() => {
    process.off('disconnect', onDisconnect);
    process.disconnect?.();
  });
});
