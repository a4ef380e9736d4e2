/**
 * One file's extended attributes, as the directory walk records them (xattr-thread.ts, and
 * its worker xattr-worker.ts): the names, sorted bytewise, with their values, or what could
 * not be read.
 */

/** One entry's attributes: names sorted bytewise with their values, or what could not be read. */
export type XattrOutcome =
  | { names: string[]; values: Uint8Array[] }
  | { failed: 'list' | 'get'; name?: string; message: string };

export type ListFn = (file: string) => string[];
export type GetFn = (file: string, name: string) => Uint8Array | null;

/**
 * Reads `file`'s attributes with @napi-rs/xattr's list and get (which do not follow symlinks).
 * ENOTSUP and ENODATA mean "none here", not a failure. Values are copied out of the addon's
 * buffers. The helper thread (xattr-worker.ts) and the calling thread both read with it.
 */
export function xattrOutcome(list: ListFn, get: GetFn, file: string): XattrOutcome {
  const none = (e: unknown): boolean => /os error (95|61)\b/.test(e instanceof Error ? e.message : String(e));
  let all: string[];
  try {
    all = list(file);
  } catch (e) {
    return none(e) ? { names: [], values: [] } : { failed: 'list', message: (e as Error).message };
  }
  all.sort();
  const names: string[] = [];
  const values: Uint8Array[] = [];
  for (const name of all) {
    let v: Uint8Array | null;
    try {
      v = get(file, name);
    } catch (e) {
      if (none(e)) continue;
      return { failed: 'get', name, message: (e as Error).message };
    }
    if (v) {
      names.push(name);
      values.push(new Uint8Array(v));
    }
  }
  return { names, values };
}
