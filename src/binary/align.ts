/** Alignment helpers for byte offsets, sector and block numbers. */

export function alignUp(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}
export function alignDown(value: number, to: number): number {
  return Math.floor(value / to) * to;
}
