// @ts-check
/**
 * The entry of a worker thread that runs one of our worker modules from its TypeScript source
 * (worker-module.ts starts it where no compiled .js exists: the sources under tsx or vitest).
 * On Node 20 a worker inherits no module loader, and a loader named in its execArgv does not
 * reach its entry module, so this plain module registers tsx's loader first and then imports
 * the source, whose path is the worker's last argument. JavaScript, because it must load
 * before any loader does; checked all the same (tsconfig.json: checkJs).
 */
import { register } from 'tsx/esm/api';

register();
// worker-module.ts always names it; without it import() fails, and the worker reports that.
await import(/** @type {string} */ (process.argv.at(-1)));
