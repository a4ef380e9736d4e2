/** Alignment helpers for byte offsets and sector numbers (number and bigint). */

export function alignUp(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}
export function alignDown(value: number, to: number): number {
  return Math.floor(value / to) * to;
}
export function isAligned(value: number, to: number): boolean {
  return value % to === 0;
}
export function alignUpBig(value: bigint, to: bigint): bigint {
  return ((value + to - 1n) / to) * to;
}
export function alignDownBig(value: bigint, to: bigint): bigint {
  return (value / to) * to;
}
export function divCeil(a: number, b: number): number {
  return Math.ceil(a / b);
}
