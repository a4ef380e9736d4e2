/**
 * The error family every module throws. Each error has a stable `code` (for scripts and
 * tests) and an optional `hint` that says what to do. Anything else that reaches the
 * command line is a bug and is printed with its stack.
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
  | 'UNSUPPORTED';

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

/** A structure on disk is not what its spec says: names the struct, the offset, and the two values. */
export class FormatError extends DiskImageError {
  constructor(
    readonly struct: string,
    readonly offset: number,
    expected: string,
    actual: string,
    hint?: string,
  ) {
    super('FORMAT', `${struct} at offset ${offset} (0x${offset.toString(16)}): expected ${expected} but it was ${actual}`, hint);
    this.name = 'FormatError';
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
