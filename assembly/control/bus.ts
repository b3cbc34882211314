// get_bus: this board's view of the bus for the control protocol and the dashboard. Members come in
// role order from "from"; when the reply is full it says "next", the index to ask for next.
import { Ascii } from "../util/ascii";
import { host_wifi_rssi, BUS_ROLE_MASTER, BUS_ROLE_WORKER, BUS_ROLE_CANDIDATE, BUS_ROLE_SEEKING } from "../abi/host.generated";
import * as reply from "../util/reply";
import * as bus from "../bus/node";
import * as t from "../bus/table";

const MEMBER_MAX: i32 = 170; // the longest member object, with room to close the reply

export function roleName(): Ascii {
  let r = bus.role;
  return r == BUS_ROLE_MASTER ? "MASTER" : r == BUS_ROLE_WORKER ? "WORKER" : r == BUS_ROLE_CANDIDATE ? "CANDIDATE" : r == BUS_ROLE_SEEKING ? "SEEKING" : "OFF";
}

function flag(name: Ascii, on: bool): void {
  reply.key(name);
  reply.lit(on ? "true" : "false");
}

export function describeBus(first: i32, now: u32, bootAt: u32): void {
  reply.key("bus");
  store<u64>(t.scratchId, bus.busId);
  reply.hexBytes(t.scratchId, 8);
  reply.keyNum("term", bus.term);
  reply.key("role");
  reply.str(roleName());
  reply.keyNum("index", bus.busIndex());
  reply.key("master");
  if (bus.masterIp != 0) reply.ip(bus.masterIp);
  else reply.lit("null");
  reply.keyNum("total", t.count);
  reply.key("members");
  reply.lit("[");
  let i = first;
  for (; i < t.count && reply.room() > MEMBER_MAX; i++) {
    let e = t.entry(i);
    let me = i == bus.busIndex();
    let f = t.flagsAt(i);
    if (i > first) reply.lit(",");
    reply.open();
    reply.key("ip");
    reply.ip(load<u32>(e + t.E_IP));
    reply.key("id");
    reply.hexBytes(e, 8);
    reply.key("role");
    if (i == 0) reply.str("MASTER");
    else {
      reply.lit("\"WORKER");
      reply.num(i);
      reply.lit("\"");
    }
    flag("voter", (f & t.F_VOTER) != 0);
    flag("plain", (f & t.F_PLAIN) != 0);
    reply.keyNum("rssi", me ? host_wifi_rssi() : load<i8>(e + t.E_RSSI));
    reply.keyNum("uptime_s", me ? (now - bootAt) / 1000 : f & t.F_PLAIN ? 0 : load<u32>(e + t.E_UPTIME)); // plain: its port is kept there
    reply.keyNum("seen_ms", me ? 0 : now - load<u32>(e + t.E_SEEN));
    reply.lit("}");
  }
  reply.lit("]");
  if (i < t.count) {
    reply.keyNum("next", i);
  }
}
