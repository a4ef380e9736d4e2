/**
 * One image-writing job, as the image writer runs it on its thread (writer-thread.ts) or in
 * its child process (writer-child.ts): the build sends a plain job (where the tree is, the
 * layout, the options); the writer walks the tree (or reads the tar) itself, assembles the
 * image, reports progress at most every 200 ms, and sends back the result or the error,
 * serialised with its class, code, hint and fields. The build can stop it between two
 * progress reports (`check` throws WriterStopped), and a stopped job sends nothing more.
 */
import { type SerialisedError, serialiseError } from '../errors.js';
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

/** Thrown by a link's check(): the build wants the writer to stop (or is gone). */
export class WriterStopped extends Error {}

/** How a job talks to the build. */
export interface JobLink {
  send(m: WriterMessage): void;
  /** Called before each progress report; throws WriterStopped to stop the job there. */
  check(): void;
}

// The writer is started before its job is ready (src/pipeline/writer-process.ts): its modules
// load while it waits (in the bundle, dist/bundle, they are part of its file already).
const preloaded = import('./assemble.js');
const preloadedDirSource = import('../tree/dir-source.js');

/** Runs `job`; WriterStopped is thrown on, every other error is sent as the job's result. */
export async function runWriterJob(job: WriterJob, link: JobLink): Promise<void> {
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
            link.check();
            link.send({ type: 'progress', ...ev });
          }
        },
      });
      link.send({ type: 'done', path: r.path, size: r.size, ...(r.outputs ? { outputs: r.outputs } : {}) });
    } finally {
      tree.close();
    }
  } catch (e) {
    if (e instanceof WriterStopped) throw e;
    link.send({ type: 'error', ...serialiseError(e) });
  }
}
