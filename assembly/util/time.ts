// Time enters only as u32 milliseconds that wrap every 49.7 days: compare by signed difference.

/** True when `now` has reached `deadline`, across the wrap. */
// @ts-ignore: decorator
@inline export function reached(now: u32, deadline: u32): bool {
  return <i32>(now - deadline) >= 0;
}

/** Milliseconds from `now` until `deadline`, 0 when already due. */
// @ts-ignore: decorator
@inline export function msUntil(now: u32, deadline: u32): u32 {
  let d = <i32>(deadline - now);
  return d > 0 ? <u32>d : 0;
}
