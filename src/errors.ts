/**
 * The error family every module throws. Each error has a stable `code` (for scripts and
 * tests) and an optional `hint` that says what to do. InternalError, and anything outside the
 * family that reaches the command line, is a bug and is printed with its stack.
 * serialiseError/reviveError carry an error across a process boundary (the image writer
 * child) keeping its class, code, hint, fields and stack.
 */

export type ErrorCode =
  | 'FORMAT'
  | 'CONFIG'
  | 'LAYOUT'
  | 'USAGE'
  | 'HOOK'
  | 'MISSING_TOOL'
  | 'NO_SPACE'
  | 'INPUT'
  | 'IO'
  | 'UNSUPPORTED'
  | 'INTERNAL';

export class DiskImageError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiskImageError';
    this.code = code;
    this.hint = hint;
  }
}

/** Where a structure on disk breaks its spec, and how. */
export interface FormatErrorDetails {
  /** The structure, as its spec names it; may say which one ('backup GPT header (LBA 32767)'). */
  struct: string;
  /** The field, as the struct's declaration names it; undefined when the struct as a whole is wrong. */
  field?: string | undefined;
  /** Absolute byte offset in the image (of the field, when one is named); undefined when not known. */
  offset?: number | undefined;
  expected: string;
  actual: string;
  hint?: string | undefined;
}

/** A structure on disk is not what its spec says: names the struct, the field, where it is in the image, and the two values. */
export class FormatError extends DiskImageError {
  readonly struct: string;
  readonly field: string | undefined;
  /** Absolute byte offset in the image, or undefined when not known. */
  readonly offset: number | undefined;
  readonly expected: string;
  readonly actual: string;
  constructor(d: FormatErrorDetails) {
    const at = d.offset;
    const where = `${d.struct}${d.field !== undefined ? ` ${d.field}` : ''}${at !== undefined ? ` at offset ${at} (0x${at.toString(16)})` : ''}`;
    super('FORMAT', `${where}: expected ${d.expected} but it was ${d.actual}`, d.hint);
    this.name = 'FormatError';
    this.struct = d.struct;
    this.field = d.field;
    this.offset = d.offset;
    this.expected = d.expected;
    this.actual = d.actual;
  }
}

/** A configuration value (option, environment variable, layout node) is wrong. */
export class ConfigError extends DiskImageError {
  constructor(readonly where: string, message: string, hint?: string) {
    super('CONFIG', `${where}: ${message}`, hint);
    this.name = 'ConfigError';
  }
}

/** A block-device layout cannot be planned (does not fit, overlaps, bad flag, ...). */
export class LayoutError extends DiskImageError {
  constructor(readonly node: string, message: string, hint?: string) {
    super('LAYOUT', `layout node '${node}': ${message}`, hint);
    this.name = 'LayoutError';
  }
}

/** The command line itself is wrong. */
export class UsageError extends DiskImageError {
  constructor(message: string, hint?: string) {
    super('USAGE', message, hint);
    this.name = 'UsageError';
  }
}

/** A flavour's hook script failed. */
export class HookError extends DiskImageError {
  constructor(
    readonly flavour: string,
    readonly phase: string,
    readonly script: string,
    readonly exitCode: number | null,
    hint?: string,
  ) {
    super('HOOK', `hook ${phase}/${script} of flavour '${flavour}' failed with exit code ${exitCode ?? 'none (killed)'}`, hint);
    this.name = 'HookError';
  }
}

/** A host program the build needs is not installed. */
export class MissingToolError extends DiskImageError {
  constructor(readonly tool: string, purpose: string, pkg?: string) {
    super('MISSING_TOOL', `${tool} is needed to ${purpose} but it was not found on PATH`,
      pkg ? `install it with: apt-get install ${pkg} (or run scripts/setup-host.sh)` : undefined);
    this.name = 'MissingToolError';
  }
}

/** The content does not fit the space it was given. */
export class NoSpaceError extends DiskImageError {
  constructor(message: string, readonly needed: number, hint?: string) {
    super('NO_SPACE', message, hint);
    this.name = 'NoSpaceError';
  }
}

/** An input (tree, tar stream, image) is unusable. */
export class InputError extends DiskImageError {
  constructor(message: string, hint?: string) {
    super('INPUT', message, hint);
    this.name = 'InputError';
  }
}

/** A promise inside the program was broken (a planning bug, a closed device used): a bug, printed with its stack. */
export class InternalError extends DiskImageError {
  constructor(message: string, hint?: string) {
    super('INTERNAL', message, hint);
    this.name = 'InternalError';
  }
}

const FAMILY = {
  DiskImageError, FormatError, ConfigError, LayoutError, UsageError, HookError, MissingToolError, NoSpaceError, InputError, InternalError,
} as const;

/** An error as plain data that survives structured cloning (IPC with serialization 'advanced'). */
export interface SerialisedError {
  /** The class name: one of the family, or any other error's name. */
  name: string;
  message: string;
  /** True when the error is one of the DiskImageError family. */
  typed: boolean;
  /** ErrorCode of the family, or an errno-style code of any other error (ENOSPC, ERR_MODULE_NOT_FOUND). */
  code?: string;
  hint?: string;
  stack?: string;
  /** The class's own fields (struct, offset, where, flavour, exitCode, needed, ...). */
  fields?: Record<string, unknown>;
}

/** Plain data for `e`, whatever was thrown. */
export function serialiseError(e: unknown): SerialisedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), typed: false };
  const out: SerialisedError = { name: e.name, message: e.message, typed: e instanceof DiskImageError };
  const own = e as Error & { code?: unknown; hint?: unknown };
  if (typeof own.code === 'string') out.code = own.code;
  if (typeof own.hint === 'string') out.hint = own.hint;
  if (e.stack !== undefined) out.stack = e.stack;
  if (out.typed) {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) if (k !== 'name' && k !== 'code' && k !== 'hint' && v !== undefined) fields[k] = v;
    if (Object.keys(fields).length) out.fields = fields;
  }
  return out;
}

/**
 * The error `s` describes: an instance of the same class of the family, with the same message,
 * code, hint, fields and stack (the constructor is not run again, so nothing is re-worded), or,
 * for an error from outside the family, a plain Error with its name, message, code and stack.
 */
export function reviveError(s: SerialisedError): Error {
  const cls = s.typed ? (FAMILY[s.name as keyof typeof FAMILY] ?? DiskImageError) : Error;
  // A real Error (as the engine makes them) whose prototype is the class's, without running the class's constructor.
  const e = Reflect.construct(Error, [s.message], cls) as Error & Record<string, unknown>;
  if (s.stack !== undefined) Object.defineProperty(e, 'stack', { value: s.stack, writable: true, configurable: true, enumerable: false });
  e.name = s.name;
  if (s.typed) {
    Object.assign(e, s.fields ?? {});
    e.code = s.code;
    e.hint = s.hint;
  } else if (s.code !== undefined) {
    e.code = s.code;
  }
  return e;
}
