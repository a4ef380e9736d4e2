/**
 * The image assembler run in a child process. Assembly is long, synchronous work; in a
 * child, the build's own process stays free to react to SIGINT/SIGTERM at once: it kills
 * this child, deletes what the child wrote, and exits. The child gets a plain job over IPC
 * (where the tree is, the layout, the options), builds the tree itself and reports progress
 * and the result (or the error, with its code and hint) back.
 */
import type { LayoutConfig } from '../partition/plan.js';
import type { AssembleOptions } from './assemble.js';

export interface WriterJob {
  tree: { dir: string } | { tar: string };
  options: Omit<AssembleOptions, 'tree' | 'progress' | 'layout'> & { layout: LayoutConfig | null };
}

export type WriterMessage =
  | { type: 'progress'; stage: string; done: number; total: number }
  | { type: 'done'; path: string; size: number }
  | { type: 'error'; name: string; code?: string; message: string; hint?: string; stack?: string };

async function runJob(job: WriterJob): Promise<void> {
  const send = (m: WriterMessage): void => { process.send?.(m); };
  try {
    const { assembleImage } = await import('./assemble.js');
    const tree = 'dir' in job.tree
      ? (await import('../tree/dir-source.js')).dirTree(job.tree.dir, { exclude: (p) => p === '/tmp/in_target.d' })
      : await (await import('../tree/tar-source.js')).tarTree(job.tree.tar === '-' ? process.stdin : job.tree.tar);
    try {
      let last = 0;
      const r = await assembleImage({
        ...job.options, tree,
        progress: (ev) => {
          const now = Date.now();
          if (now - last > 200 || ev.done === ev.total || ev.done === 0) {
            last = now;
            send({ type: 'progress', ...ev });
          }
        },
      });
      send({ type: 'done', path: r.path, size: r.size });
    } finally {
      tree.close();
    }
  } catch (e) {
    const err = e as Error & { code?: string; hint?: string };
    send({
      type: 'error', name: err.name ?? 'Error', message: err.message ?? String(e),
      ...(err.code !== undefined ? { code: err.code } : {}), ...(err.hint !== undefined ? { hint: err.hint } : {}),
      ...(err.stack !== undefined ? { stack: err.stack } : {}),
    });
  }
}

process.once('message', (job: WriterJob) => {
  void runJob(job).finally(() => process.disconnect?.());
});
