/**
 * Flavour discovery and resolution, following diskimage-builder's element rules
 * (diskimage_builder/element_dependencies.py): a colon-separated search path
 * (FLAVOURS_PATH, or DIB's ELEMENTS_PATH) with the built-in flavours/ folder last; every
 * subdirectory of a path entry is a flavour; an earlier entry overrides a later one with a
 * warning. `element-deps` and `element-provides` are newline lists; dependencies are
 * expanded breadth-first, provided (virtual) names such as `operating-system` and
 * `block-device` are satisfied by their provider, a name provided twice is an error, and
 * exactly one operating system must be provided unless the root tree comes from outside.
 * `vm` without any block-device provider pulls in `block-device-mbr` (DIB's
 * _arg_defaults_hack) and `base` is added unless skipped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, UsageError } from '../errors.js';

export interface Flavour {
  name: string;
  dir: string;
  deps: string[];
  provides: string[];
}

export interface FlavourIndex {
  /** Every visible flavour by name (after overrides). */
  flavours: Map<string, Flavour>;
  warnings: string[];
}

export interface Resolved {
  /** Selected flavours, sorted by name (order carries no meaning, as in DIB). */
  flavours: Flavour[];
  /** Virtual name -> the flavour that provides it. */
  provided: Map<string, string>;
  warnings: string[];
}

/** The package's built-in flavours folder, found from this module's location (src/ or dist/). */
export function builtinFlavoursDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'flavours'))) {
      return path.join(dir, 'flavours');
    }
    dir = path.dirname(dir);
  }
  throw new ConfigError('flavours', 'the built-in flavours/ folder was not found next to package.json',
    'reinstall diskimage-ts; the package must ship its flavours/ folder');
}

/** Search path from FLAVOURS_PATH / ELEMENTS_PATH (colon lists, first wins) then the built-ins. */
export function flavourSearchPath(env: NodeJS.ProcessEnv, builtin = builtinFlavoursDir()): string[] {
  const user = [env.FLAVOURS_PATH, env.ELEMENTS_PATH]
    .filter((v): v is string => !!v)
    .flatMap((v) => v.split(':'))
    .filter((p) => p !== '');
  // The same folder named twice (FLAVOURS_PATH and ELEMENTS_PATH both set to it, a trailing
  // slash, a symlink, the built-in folder itself) is one folder: its first place counts.
  const seen = new Set<string>();
  return [...user, builtin].filter((p) => {
    let key = path.resolve(p);
    try { key = fs.realpathSync(p); } catch { /* a missing entry is reported by indexFlavours */ }
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function readList(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** The flavour in folder `dir` (its element-deps and element-provides read). */
export function readFlavour(name: string, dir: string): Flavour {
  return { name, dir, deps: readList(path.join(dir, 'element-deps')), provides: readList(path.join(dir, 'element-provides')) };
}

/** Lists the flavours of every search-path entry; later entries are overridden by earlier ones. */
export function indexFlavours(searchPath: string[]): FlavourIndex {
  const flavours = new Map<string, Flavour>();
  const warnings: string[] = [];
  for (const entry of [...searchPath].reverse()) {
    let st: fs.Stats;
    try {
      st = fs.statSync(entry);
    } catch {
      throw new ConfigError('FLAVOURS_PATH', `entry ${entry} does not exist`, 'remove it from FLAVOURS_PATH/ELEMENTS_PATH or create the folder');
    }
    if (!st.isDirectory()) {
      throw new ConfigError('FLAVOURS_PATH', `entry ${entry} is not a directory`, 'every entry must be a folder holding flavour folders');
    }
    for (const name of fs.readdirSync(entry).sort()) {
      const dir = path.join(entry, name);
      if (!fs.statSync(dir).isDirectory()) continue;
      const prev = flavours.get(name);
      if (prev) warnings.push(`flavour ${name} in ${dir} overrides ${prev.dir}`);
      flavours.set(name, readFlavour(name, dir));
    }
  }
  for (const f of flavours.values()) {
    if (!fs.existsSync(path.join(f.dir, 'README.md')) && !fs.existsSync(path.join(f.dir, 'README.rst'))) {
      warnings.push(`flavour ${f.name} (${f.dir}) has no README.md`);
    }
  }
  return { flavours, warnings };
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** The candidate closest to `name`, if it is close enough to be a likely typo. */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** A circular element-deps among the selected flavours is an error naming the whole loop. */
function refuseCycles(selected: Map<string, Flavour>, provided: Map<string, string>): void {
  const done = new Set<string>();
  const visit = (name: string, trail: string[]): void => {
    const at = trail.indexOf(name);
    if (at >= 0) {
      const loop = [...trail.slice(at), name];
      throw new ConfigError(`flavour ${name}`, `circular element-deps: ${loop.join(' -> ')} (${path.join(selected.get(name)!.dir, 'element-deps')})`,
        'remove one of the dependencies in that loop');
    }
    if (done.has(name)) return;
    for (const d of selected.get(name)?.deps ?? []) visit(selected.has(d) ? d : provided.get(d) ?? d, [...trail, name]);
    done.add(name);
  };
  for (const name of selected.keys()) visit(name, []);
}

export interface ResolveOptions {
  /** Do not add `base` (-n). */
  skipBase?: boolean;
  /** The root tree comes from --root-dir/--root-tar: no operating-system provider needed. */
  externalRoot?: boolean;
}

/** Expands the user's flavours into the full selection, DIB-style. */
export function resolveFlavours(requested: string[], index: FlavourIndex, opts: ResolveOptions = {}): Resolved {
  const { flavours } = index;
  const warnings = [...index.warnings];
  const want = [...requested];
  const isBlockDevice = (n: string): boolean => flavours.get(n)?.provides.includes('block-device') ?? false;
  // DIB's _arg_defaults_hack: vm without a block-device flavour gets block-device-mbr.
  if (want.includes('vm') && !want.some(isBlockDevice)) want.push('block-device-mbr');
  if (!opts.skipBase && !want.includes('base')) want.unshift('base');

  for (const name of want) {
    if (!flavours.has(name)) {
      const near = nearest(name, flavours.keys());
      throw new UsageError(`unknown flavour '${name}'`,
        (near ? `did you mean '${near}'? ` : '') + `known flavours: ${[...flavours.keys()].sort().join(', ')} (search path: FLAVOURS_PATH, ELEMENTS_PATH, built-ins)`);
    }
  }

  const selected = new Map<string, Flavour>();
  const provided = new Map<string, string>();
  const queue = [...want];
  const requiredBy = new Map<string, string>();
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (selected.has(name) || provided.has(name)) continue;
    const f = flavours.get(name);
    if (!f) {
      const by = requiredBy.get(name);
      const near = nearest(name, flavours.keys());
      throw new ConfigError(`flavour ${by ?? '?'}`, `element-deps names '${name}', which is neither a flavour nor provided by a selected one`,
        near ? `did you mean '${near}'?` : 'add a flavour that provides it to the command line');
    }
    selected.set(name, f);
    for (const p of f.provides) {
      const other = provided.get(p);
      if (other && other !== name) {
        throw new ConfigError(`flavour ${name}`, `'${p}' is provided by both '${other}' and '${name}'`,
          'choose only one of them on the command line');
      }
      provided.set(p, name);
    }
    for (const d of f.deps) {
      if (!requiredBy.has(d)) requiredBy.set(d, name);
      queue.push(d);
    }
  }
  // A name that is both selected as a flavour and provided by another one is ambiguous.
  for (const [p, by] of provided) {
    if (selected.has(p) && p !== by) {
      throw new ConfigError(`flavour ${p}`, `'${p}' was selected but is also provided by '${by}'`, `drop '${p}' or '${by}'`);
    }
  }
  // Dependencies on virtual names that nothing selected provides.
  for (const f of selected.values()) {
    for (const d of f.deps) {
      if (!selected.has(d) && !provided.has(d)) {
        throw new ConfigError(`flavour ${f.name}`, `needs '${d}' but no selected flavour provides it`, 'add a flavour that provides it');
      }
    }
  }
  refuseCycles(selected, provided);
  if (!opts.externalRoot && !provided.has('operating-system')) {
    const oses = [...flavours.values()].filter((f) => f.provides.includes('operating-system')).map((f) => f.name);
    throw new UsageError('no operating-system flavour selected: the image would have no root tree',
      `add one of: ${oses.join(', ') || '(none found)'}, or pass --root-dir DIR / --root-tar FILE`);
  }
  if (opts.externalRoot && provided.has('operating-system')) {
    throw new UsageError(`flavour '${provided.get('operating-system')}' provides an operating system, but --root-dir/--root-tar already gives the root tree`,
      'drop the operating-system flavour, or drop --root-dir/--root-tar');
  }
  return {
    flavours: [...selected.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    provided,
    warnings,
  };
}
