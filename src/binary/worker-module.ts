/**
 * Starts a worker thread from a module of ours, wherever the code runs: the compiled .js next
 * to the caller (dist/, or dist/bundle/ where scripts/bundle.mjs emits each worker as an entry
 * of its own), else the TypeScript source, run through tsx's require hook (the sources run
 * under tsx or vitest, whose loaders a worker thread does not inherit on Node 20).
 * `url`: the module's .js URL relative to the caller, written so that it resolves in src/,
 * dist/ and dist/bundle/ alike (e.g. new URL('../tree/read-ahead-worker.js', import.meta.url)).
 */
import * as fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The module's file: the .js when there is one, else its .ts twin. */
export function workerFile(url: URL): string {
  const js = fileURLToPath(url);
  return fs.existsSync(js) ? js : js.replace(/\.js$/, '.ts');
}

/**
 * A worker running the module at `url`: its .js, or its .ts through ts-worker.mjs, which
 * loads tsx (a development dependency, present wherever the sources are) first. A worker that
 * cannot start reports it through its 'error' event, as any failed worker does.
 */
export function startWorker(url: URL, options: WorkerOptions = {}): Worker {
  const file = workerFile(url);
  if (file.endsWith('.js')) return new Worker(file, options);
  return new Worker(new URL('./ts-worker.mjs', import.meta.url), { ...options, execArgv: [], argv: [pathToFileURL(file).href] });
}
