/**
 * Values that end up in text files of the image: filesystem labels and mount points in
 * /etc/fstab (fstab(5): whitespace-separated fields, one entry per line, a space or tab inside
 * a field written as the octal escape \040 or \011, a backslash as \134), fstab options (one
 * field, so no whitespace at all) and the kernel command line in grub.cfg (one line, words
 * split at spaces). A value that no escape can carry (a control character, a newline) is
 * refused with the rule it breaks.
 */
import { LayoutError } from '../errors.js';

/** The first control character (C0, DEL) in `s`, as it would be written in a message, or undefined. */
export function controlCharacter(s: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const m = /[\x00-\x1f\x7f]/.exec(s);
  if (!m) return undefined;
  const c = m[0]!;
  return c === '\n' ? 'a newline' : c === '\t' ? 'a tab' : c === '\r' ? 'a carriage return' : `the control character 0x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/**
 * Refuses a label or mount point holding a control character: /etc/fstab has one entry per
 * line and fstab(5) has no escape for them in practice (mount(8) tools read \040 and \011 only).
 */
export function checkFstabText(node: string, what: string, value: string): void {
  const bad = controlCharacter(value);
  if (bad !== undefined) {
    throw new LayoutError(node, `${what} ${JSON.stringify(value)} holds ${bad}: it is written into /etc/fstab, one entry per line`,
      `write the ${what} without control characters (a space is fine: it is written as \\040)`);
  }
}

/** fstab(5)'s escapes for a field: space \040, tab \011, backslash \134 (the backslash first). */
export function fstabField(value: string): string {
  return value.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011');
}

/** fstab options are one whitespace-free field of comma-separated words. */
export function checkFstabOptions(node: string, options: string): void {
  if (options === '' || /\s/.test(options) || controlCharacter(options) !== undefined) {
    const why = options === '' ? 'is empty' : `holds ${controlCharacter(options) ?? 'a space'}`;
    throw new LayoutError(node, `fstab options ${JSON.stringify(options)} ${why}: fstab(5) takes them as one field of comma-separated words`,
      "write them like 'defaults' or 'noatime,errors=remount-ro'");
  }
}

/** True when `value` can stand as one word of the kernel command line unquoted (no space, quote or control character). */
export function plainCmdlineWord(value: string): boolean {
  return !/[\s"'\\]/.test(value) && controlCharacter(value) === undefined;
}
