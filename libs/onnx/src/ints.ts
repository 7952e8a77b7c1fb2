/** protobufjs gives int64 fields as number or Long; this normalises them. */
export type IntLike = number | { toNumber(): number } | null | undefined;

export function toNumber(v: IntLike): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export function toNumbers(vs: readonly IntLike[] | null | undefined): number[] {
  return (vs ?? []).map(toNumber);
}
