/** Bytes shown in error messages: hex and printable ASCII, as hexdump -C shows a row. */

/** The first bytes as hex and printable text, for error messages. */
export function describeBytes(b: Uint8Array, n = 16): string {
  const part = b.subarray(0, n);
  const hex = [...part].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  const text = [...part].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
  return `${hex}  |${text}|`;
}
