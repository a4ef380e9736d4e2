/**
 * Our C addons (native/, built by node-gyp at install into build/Release/): each loaded once,
 * by name, from the package root, or undefined when it is not built or does not load; the
 * caller then uses its TypeScript twin.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Each addon's exports by name, once looked for (undefined: not built, or does not load). */
const loaded = new Map<string, unknown>();

/** build/Release/NAME.node's exports, or undefined; looked for once per name. */
export function loadAddon<T>(name: string): T | undefined {
  if (!loaded.has(name)) loaded.set(name, find(name));
  return loaded.get(name) as T | undefined;
}

function find(name: string): unknown {
  // The package root: the first folder up from here with binding.gyp (src/binary, dist/binary, dist/bundle/...).
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = path.dirname(dir)) {
    if (!fs.existsSync(path.join(dir, 'binding.gyp'))) continue;
    const addon = path.join(dir, 'build', 'Release', `${name}.node`);
    try {
      return fs.existsSync(addon) ? createRequire(import.meta.url)(addon) : undefined;
    } catch {
      return undefined; // built for another Node, or damaged: the TypeScript twin serves
    }
  }
  return undefined;
}
