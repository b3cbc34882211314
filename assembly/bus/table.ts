// The bus membership as this board sees it: a fixed table reserved at init, kept in role order
// (index 0 the MASTER, then WORKER1..n by join order). The master's table is the truth; the others
// hold its latest copy (docs/PROTOCOL.md).
import { alloc } from "../util/heap";

export const ENTRY: i32 = 24;
export const E_ID: usize = 0; // u64 board id; a plain (tutorial) board: PLAIN_ID | its IPv4
export const E_IP: usize = 8; // u32
export const E_SEEN: usize = 12; // u32 ms: last heard (the master's view) or when the copy arrived
export const E_UPTIME: usize = 16; // u32 seconds, as the member last reported
export const E_RSSI: usize = 20; // i8 dBm
export const E_FLAGS: usize = 21; // u8 F_*
export const F_VOTER: u8 = 1; // counts for quorum (at most bus_voters members)
export const F_PLAIN: u8 = 2; // a tutorial board that only said HELLO: never votes, never answers
export const F_ACKED: u8 = 4; // master: acknowledged the current list version
export const F_VOTED: u8 = 8; // candidate: its vote in this election is counted
export const PLAIN_ID: u64 = 0xffffffff00000000;

let table: usize = 0;
let capacity: i32 = 0;
export let count: i32 = 0;

export function reserveTable(n: i32): void {
  capacity = n;
  table = alloc(<usize>(n * ENTRY));
  memory.fill(table, 0, <usize>(n * ENTRY));
}

export function tableFull(): bool {
  return count >= capacity;
}

export function setCount(n: i32): void {
  count = min(n, capacity);
}

export function entry(i: i32): usize {
  return table + <usize>(i * ENTRY);
}

export function idAt(i: i32): u64 {
  return load<u64>(entry(i));
}

export function flagsAt(i: i32): u8 {
  return load<u8>(entry(i) + E_FLAGS);
}

export function setFlags(i: i32, set: u8, clear: u8): void {
  let e = entry(i) + E_FLAGS;
  store<u8>(e, (load<u8>(e) & ~clear) | set);
}

/** Clears a flag on every member (a new list version, a new election). */
export function clearAll(flag: u8): void {
  for (let i = 0; i < count; i++) setFlags(i, 0, flag);
}

export function indexOf(id: u64): i32 {
  for (let i = 0; i < count; i++) if (idAt(i) == id) return i;
  return -1;
}

/** Appends a member (the caller checked tableFull); its index. */
export function append(id: u64, ip: u32, flags: u8, now: u32): i32 {
  let e = entry(count);
  memory.fill(e, 0, ENTRY);
  store<u64>(e, id);
  store<u32>(e + E_IP, ip);
  store<u32>(e + E_SEEN, now);
  store<u8>(e + E_FLAGS, flags);
  return count++;
}

export function removeAt(i: i32): void {
  memory.copy(entry(i), entry(i + 1), <usize>((count - i - 1) * ENTRY));
  count--;
}

/** Moves member i to index 0, the others keeping their order (a new master takes the front). */
export function toFront(i: i32, scratch: usize): void {
  memory.copy(scratch, entry(i), ENTRY);
  memory.copy(entry(1), entry(0), <usize>(i * ENTRY));
  memory.copy(entry(0), scratch, ENTRY);
}

export function voters(): i32 {
  let n = 0;
  for (let i = 0; i < count; i++) if (flagsAt(i) & F_VOTER) n++;
  return n;
}

export const scratchId = memory.data(8); // a u64 laid out as bytes, for hex output
