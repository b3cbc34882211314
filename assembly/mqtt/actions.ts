// The control actions about the MQTT bridge itself: get_mqtt (the session and its peers) and mqtt_send
// (a message to another board). control/actions.ts runs them for every transport.
import { SLASH, PLUS, HASH, BACKSLASH, BRACE_CLOSE } from "../util/ascii";
import * as json from "../util/json";
import * as reply from "../util/reply";
import * as pk from "./packet";
import * as session from "./session";
import * as set from "./settings";
import { describePeers } from "./peers";

let commands: u32 = 0; // commands run from "<prefix>/<id>/cmd" (command.ts)

export function countCommand(): void {
  commands++;
}

/** get_mqtt (k 0) and mqtt_send (k 1); false with an error reason set. */
export function mqttAction(k: i32, now: u32): bool {
  if (!session.enabled()) {
    reply.errorStart("MQTT is not configured (set mqtt=mqtt://host[:port])");
    return false;
  }
  if (k == 1) return send(now);
  let f = json.find("from");
  let first = f < 0 ? 0 : json.intValue(f, 0, 255);
  if (first == i64.MIN_VALUE) return reply.missing("from", "a peer index from 0 (the reply's \"peers_next\")");
  reply.key("connected");
  reply.lit(session.state == session.UP ? "true" : "false");
  reply.key("broker");
  reply.strBytes(set.brokerHost, set.brokerHostLen);
  reply.keyNum("port", set.brokerPort);
  reply.key("id");
  reply.strBytes(set.clientId, set.clientIdLen);
  reply.keyNum("published", session.published);
  reply.keyNum("received", session.received);
  reply.keyNum("inflight", session.inflightCount);
  reply.keyNum("reconnects", session.reconnects);
  reply.keyNum("commands", commands);
  describePeers(<i32>first);
  return true;
}


/** mqtt_send {"to": id, "text": ...}: a QoS 1 message to another board's "<prefix>/<to>/msg". */
function send(now: u32): bool {
  let to = json.find("to");
  let tf = json.find("text");
  if (to < 0 || json.memberType(to) != json.T_STRING || json.memberValueLen(to) < 3 || json.memberValueLen(to) > 34) {
    return reply.missing("to", "the other board's MQTT id");
  }
  if (tf < 0 || json.memberType(tf) != json.T_STRING) return reply.missing("text", "a string");
  if (session.state != session.UP) {
    reply.errorStart("not connected to the broker");
    return false;
  }
  let id = json.memberValue(to) + 1;
  let idLen = json.memberValueLen(to) - 2;
  for (let i = 0; i < idLen; i++) {
    let c = load<u8>(id + i);
    if (c == SLASH || c == PLUS || c == HASH || c == BACKSLASH) return reply.missing("to", "an MQTT id (no '/', '+', '#' or escapes)");
  }
  session.startPacket();
  pk.beginString();
  pk.bytes(set.prefix, set.prefixLen);
  pk.byte(SLASH);
  pk.bytes(id, idLen);
  pk.text("/msg");
  pk.endString();
  session.packetId();
  pk.text("{\"from\":\"");
  pk.bytes(set.clientId, set.clientIdLen);
  pk.text("\",\"text\":");
  pk.bytes(json.memberValue(tf), json.memberValueLen(tf)); // still a valid JSON string
  pk.byte(BRACE_CLOSE);
  if (!session.endPublish(1, false, now)) {
    reply.errorStart("the MQTT send queue is full: try again");
    return false;
  }
  reply.keyNum("sent", 1);
  return true;
}
