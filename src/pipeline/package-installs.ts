/**
 * DIB's package-installs interface (elements/package-installs/README.rst), done by the
 * pipeline: every selected element's `package-installs.yaml` (or `.json`) and the older
 * `package-installs-<name>` lists in its pre-install.d/install.d/post-install.d folders are
 * checked before the build (checkElementFiles) and squashed into one plan once the
 * environment is known (planPackageInstalls): each entry is filtered by `installtype`
 * (DIB_INSTALLTYPE_<element>, default DIB_DEFAULT_INSTALLTYPE or "source"), `arch` /
 * `not-arch` (comma lists against ARCH), `dib_python_version` and `when` ("VAR = value" or
 * "VAR != value", a list of them all true; an unset VAR is an error), then mapped through
 * the element's pkg-map (pkg-map.ts). `uninstall` removes instead of installing,
 * `build-only` installs and removes again at the end of the same phase. The plan is one
 * line per package, "PHASE<TAB>install|uninstall<TAB>ELEMENT<TAB>PACKAGE", read in the
 * chroot by flavours/package-installs/bin/package-installs-run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import type { Flavour } from './flavours.js';
import { mapPackages, osFamily, parsePkgMap, type PkgMap } from './pkg-map.js';

export const PACKAGE_PHASES = ['pre-install.d', 'install.d', 'post-install.d'] as const;
const KEYS = new Set(['phase', 'uninstall', 'build-only', 'installtype', 'arch', 'not-arch', 'when', 'dib_python_version']);
/** The plan's file name in the hook tree (TMP_HOOKS_PATH, /tmp/in_target.d in the chroot). */
export const PLAN_FILE = 'package-installs.plan';

export interface PackageEntry {
  element: string;
  file: string;
  name: string;
  params: Record<string, unknown>;
}

export interface PlanLine { phase: string; action: 'install' | 'uninstall'; element: string; pkg: string }

function bad(element: string, file: string, what: string): ConfigError {
  return new ConfigError(`element ${element}`, `${file}: ${what}`,
    `package-installs keys are ${[...KEYS].join(', ')}; phase is one of ${PACKAGE_PHASES.join(', ')}`);
}

function checkParams(element: string, file: string, name: string, p: unknown): Record<string, unknown> {
  if (p === null || p === undefined) return {};
  if (typeof p !== 'object' || Array.isArray(p)) throw bad(element, file, `package '${name}' has ${JSON.stringify(p)}, expected a mapping of options`);
  for (const k of Object.keys(p)) if (!KEYS.has(k)) throw bad(element, file, `package '${name}' has an unknown key '${k}'`);
  const o = p as Record<string, unknown>;
  if (o.phase !== undefined && !(PACKAGE_PHASES as readonly unknown[]).includes(o.phase)) throw bad(element, file, `package '${name}' has phase '${String(o.phase)}'`);
  if (o.arch !== undefined && o['not-arch'] !== undefined) throw bad(element, file, `package '${name}' has both arch and not-arch`);
  const when = o.when === undefined ? [] : Array.isArray(o.when) ? o.when : [o.when];
  for (const w of when) if (typeof w !== 'string' || !WHEN.test(w)) throw bad(element, file, `package '${name}' has a malformed when '${String(w)}' (expected VAR = value or VAR != value)`);
  return o;
}

const WHEN = /^(\w+)\s*(!=|=)\s*(.*)$/;

/** The entries of one package-installs.yaml/.json file (throws on bad YAML or keys). */
export function readPackageInstalls(element: string, file: string): PackageEntry[] {
  let data: unknown;
  try {
    data = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`element ${element}`, `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`, 'fix the file\'s syntax');
  }
  if (data === null || data === undefined) return [];
  if (typeof data !== 'object' || Array.isArray(data)) throw bad(element, file, 'expected a mapping of package names');
  const out: PackageEntry[] = [];
  for (const [name, value] of Object.entries(data as Record<string, unknown>)) {
    const list = Array.isArray(value) ? value : [value];
    for (const p of list) out.push({ element, file, name, params: checkParams(element, file, name, p) });
  }
  return out;
}

/** The older form: PHASE/package-installs-NAME, one package a line, "-pkg" to remove. */
function readLegacyLists(f: Flavour): PackageEntry[] {
  const out: PackageEntry[] = [];
  for (const phase of PACKAGE_PHASES) {
    const dir = path.join(f.dir, phase);
    if (!fs.existsSync(dir)) continue;
    for (const n of fs.readdirSync(dir).sort()) {
      if (!n.startsWith('package-installs-')) continue;
      const file = path.join(dir, n);
      const element = n.slice('package-installs-'.length);
      for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
        const line = raw.replace(/#.*/, '').trim();
        if (!line) continue;
        const remove = line.startsWith('-');
        out.push({ element, file, name: remove ? line.slice(1) : line, params: { phase, ...(remove ? { uninstall: true } : {}) } });
      }
    }
  }
  return out;
}

/** Every package entry of a flavour (YAML/JSON file first, then the older lists). */
export function flavourEntries(f: Flavour): PackageEntry[] {
  const out: PackageEntry[] = [];
  for (const ext of ['json', 'yaml']) {
    const file = path.join(f.dir, `package-installs.${ext}`);
    if (fs.existsSync(file)) out.push(...readPackageInstalls(f.name, file));
  }
  return [...out, ...readLegacyLists(f)];
}

/** A flavour's pkg-map, if it has one (throws on bad JSON). */
export function flavourPkgMap(f: Flavour): PkgMap | undefined {
  const file = path.join(f.dir, 'pkg-map');
  return fs.existsSync(file) ? parsePkgMap(fs.readFileSync(file, 'utf8'), file, f.name) : undefined;
}

/** A flavour's svc-map (service name -> distro/family/default -> name), if it has one. */
export function flavourSvcMap(f: Flavour): Record<string, Record<string, string>> | undefined {
  const file = path.join(f.dir, 'svc-map');
  if (!fs.existsSync(file)) return undefined;
  let data: unknown;
  try {
    data = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`element ${f.name}`, `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`, 'fix the file\'s syntax');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`element ${f.name}`, `${file}: expected a mapping of service names`, 'see the svc-map flavour\'s README.md');
  }
  return data as Record<string, Record<string, string>>;
}

/** Checks every selected flavour's package-installs, pkg-map and svc-map files before anything is made. */
export function checkElementFiles(flavours: Flavour[]): void {
  for (const f of flavours) {
    flavourEntries(f);
    flavourPkgMap(f);
    flavourSvcMap(f);
  }
}

/** The svc-map table for the target: "NAME<TAB>SERVICE" lines, distro > family > default. */
export function svcMapTable(flavours: Flavour[], distro: string): string {
  const family = osFamily(distro);
  const lines: string[] = [];
  for (const f of flavours) {
    for (const [name, v] of Object.entries(flavourSvcMap(f) ?? {})) {
      const pick = v?.[distro] ?? (family ? v?.[family] : undefined) ?? v?.default;
      if (pick !== undefined) lines.push(`${name}\t${pick}\n`);
    }
  }
  return lines.join('');
}

function inArchList(list: unknown, arch: string): boolean {
  return String(list).split(',').map((a) => a.trim()).includes(arch);
}

/** Whether an entry applies to this build (installtype, arch, python version, when). */
export function entryApplies(e: PackageEntry, env: NodeJS.ProcessEnv): boolean {
  const p = e.params;
  const installtype = env[`DIB_INSTALLTYPE_${e.element.replace(/-/g, '_')}`] ?? env.DIB_DEFAULT_INSTALLTYPE ?? 'source';
  if (p.installtype !== undefined && p.installtype !== installtype) return false;
  const arch = env.ARCH ?? '';
  if (p.arch !== undefined && !inArchList(p.arch, arch)) return false;
  if (p['not-arch'] !== undefined && inArchList(p['not-arch'], arch)) return false;
  if (p.dib_python_version !== undefined && String(p.dib_python_version) !== (env.DIB_PYTHON_VERSION ?? '')) return false;
  const when = p.when === undefined ? [] : Array.isArray(p.when) ? p.when : [p.when];
  return when.every((w) => {
    const [, name, op, value] = WHEN.exec(String(w))!;
    const actual = env[name!];
    if (actual === undefined) {
      throw new ConfigError(`element ${e.element}`, `${e.file}: package '${e.name}' has when '${String(w)}', but ${name} is not set`,
        `set ${name} (DIB stops here too), or change the condition`);
    }
    return op === '=' ? actual === value : actual !== value;
  });
}

/** The squashed plan: every applying entry, mapped through its element's pkg-map. */
export function planPackageInstalls(flavours: Flavour[], env: NodeJS.ProcessEnv): PlanLine[] {
  const maps = new Map(flavours.map((f) => [f.name, flavourPkgMap(f)]));
  const lines: PlanLine[] = [];
  for (const f of flavours) {
    for (const e of flavourEntries(f)) {
      if (!entryApplies(e, env)) continue;
      const phase = String(e.params.phase ?? 'install.d');
      const actions: PlanLine['action'][] = e.params['build-only'] !== undefined ? ['install', 'uninstall'] : e.params.uninstall !== undefined ? ['uninstall'] : ['install'];
      const map = maps.get(e.element);
      const pkgs = map ? mapPackages(map, env.DISTRO_NAME ?? '', env.DIB_RELEASE, [e.name], true).packages : [e.name];
      for (const action of actions) for (const pkg of pkgs) lines.push({ phase, action, element: e.element, pkg });
    }
  }
  return lines;
}

export function renderPlan(lines: PlanLine[]): string {
  return lines.map((l) => `${l.phase}\t${l.action}\t${l.element}\t${l.pkg}\n`).join('');
}
