/**
 * The image writer runs in a child process (src/assemble/writer-child.ts), so that a signal
 * to the build reaches the pipeline at once and the writer can be stopped and cleaned up
 * after; this side starts it, relays its progress and turns its result or error back into
 * ours.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DiskImageError, type ErrorCode } from '../errors.js';
import type { WriterJob, WriterMessage } from '../assemble/writer-child.js';
import type { CleanupStack } from './cleanup.js';
import type { PipelineIO } from './pipeline.js';

/** The writer child's module: the .js next to this file (dist), or the .ts (run through tsx). */
function writerModule(): string {
  const js = fileURLToPath(new URL('../assemble/writer-child.js', import.meta.url));
  return fs.existsSync(js) ? js : js.replace(/\.js$/, '.ts');
}

/** Runs the assembler in a child process (see writer-child.ts). */
export function assembleInChild(job: WriterJob, cleanup: CleanupStack, io: PipelineIO): Promise<{ path: string; size: number }> {
  return new Promise((resolve, reject) => {
    const stdin = 'tar' in job.tree && job.tree.tar === '-' ? 'inherit' : 'ignore';
    const child = fork(writerModule(), [], { serialization: 'advanced', detached: true, stdio: [stdin, 'inherit', 'inherit', 'ipc'] });
    cleanup.track(child);
    let settled = false;
    child.on('message', (m: WriterMessage) => {
      if (m.type === 'progress') io.progress?.({ stage: 'assemble', detail: m.stage, done: m.done, total: m.total });
      else if (m.type === 'done') { settled = true; resolve({ path: m.path, size: m.size }); }
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
