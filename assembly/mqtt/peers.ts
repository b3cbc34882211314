// Boards met through the broker (the bus over MQTT): each board's retained "<prefix>/<id>/status"
// (online/offline, the last will) and "<prefix>/<id>/bus" (its local bus role) fill a bounded table,
// shown by get_mqtt. Roles stay per local bus: nothing here votes.
import { LOG_WARN } from "../abi/host.generated";
import { bytesEqual, bytesSame } from "../util/bytes";
import { put, putBytes, putLine } from "../util/log";
import * as json from "../util/json";
import * as reply from "../util/reply";
import * as set from "./settings";

const PEER_SIZE: i32 = 96;
const ID_AT: i32 = 4; // [0] used, [1] online, [2] id length, [3] bus text length
const BUS_AT: i32 = ID_AT + 32;
const BUS_CAP: i32 = PEER_SIZE - BUS_AT;
let table: usize = 0;
export let untracked: u32 = 0;

export function peerBytes(): i32 {
  return set.peersMax * PEER_SIZE;
}

/** The table goes at `at` (session.ts keeps room for it after its receive buffer). */
export function startPeers(where: usize): void {
  table = where;
  memory.fill(table, 0, peerBytes());
}

function at(i: i32): usize {
  return table + <usize>(i * PEER_SIZE);
}

/** The entry for id [p, p+n), made if `create` and there is room; 0 if none. */
function entry(p: usize, n: i32, create: bool): usize {
  let free: usize = 0;
  for (let i = 0; i < set.peersMax; i++) {
    let e = at(i);
    if (load<u8>(e) == 0) {
      if (free == 0) free = e;
    } else if (<i32>load<u8>(e + 2) == n && bytesSame(e + ID_AT, p, n)) return e;
  }
  if (!create || n > 32) return 0;
  if (free == 0) {
    if (untracked++ == 0) {
      put("mqtt: more boards than mqtt_peers: ");
      putBytes(p, n);
      putLine("", LOG_WARN);
    }
    return 0;
  }
  memory.fill(free, 0, PEER_SIZE);
  store<u8>(free, 1);
  store<u8>(free + 2, <u8>n);
  memory.copy(free + ID_AT, p, n);
  return free;
}

/** "<id>/status" or "<id>/bus" with its payload; an empty payload (a cleared retained message)
 *  forgets what it said. */
export function peerMessage(id: usize, idLen: i32, isBus: bool, p: usize, n: i32): void {
  let e = entry(id, idLen, n > 0);
  if (e == 0) return;
  if (!isBus) store<u8>(e + 1, bytesEqual(p, n, "online") ? 1 : 0);
  else if (n == 0 || n > BUS_CAP || !json.parseObject(p, n, 2)) store<u8>(e + 3, 0); // only JSON is echoed
  else {
    memory.copy(e + BUS_AT, p, n);
    store<u8>(e + 3, <u8>n);
  }
  if (n == 0 && load<u8>(e + 3) == 0 && load<u8>(e + 1) == 0) store<u8>(e, 0);
}

/** "peers": [{"id", "online", "bus"}...] from index `first`; "peers_next" when the reply is full. */
export function describePeers(first: i32): void {
  reply.key("peers");
  reply.lit("[");
  let shown = 0;
  let i = first;
  for (; i < set.peersMax; i++) {
    let e = at(i);
    if (load<u8>(e) == 0) continue;
    if (reply.room() < PEER_SIZE + 64) break;
    if (shown++ > 0) reply.lit(",");
    reply.lit("{\"id\":");
    reply.strBytes(e + ID_AT, load<u8>(e + 2));
    reply.lit(load<u8>(e + 1) ? ",\"online\":true,\"bus\":" : ",\"online\":false,\"bus\":");
    let b = <i32>load<u8>(e + 3);
    if (b > 0) reply.rawBytes(e + BUS_AT, b);
    else reply.lit("null");
    reply.lit("}");
  }
  reply.lit("]");
  if (i < set.peersMax) reply.keyNum("peers_next", i);
}
