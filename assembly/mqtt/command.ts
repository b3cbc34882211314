// The control protocol over MQTT: a JSON command published to "<prefix>/<id>/cmd" runs like one on the
// control port and its reply goes to "<prefix>/<id>/reply"; and the control actions about MQTT itself
// (get_mqtt, mqtt_send). The broker's credentials and access rules are the boundary here, so actions
// that rewrite the board (configuration, firmware) stay on the authenticated control connection.
import { Ascii } from "../util/ascii";
import { inList } from "../util/bytes";
import * as json from "../util/json";
import * as cfg from "../config";
import * as reply from "../control/reply";
import { run, missing } from "../control/actions";
import { bootAt } from "../control/server";
import * as pk from "./packet";
import * as session from "./session";
import * as set from "./settings";
import { describePeers } from "./peers";

const REFUSED: Ascii = "set_config,factory_reset,ota_begin,ota_chunk,ota_end";
export let commands: u32 = 0;

/** Runs the command at [p, p+n) (in the receive buffer, where its reply is written over it); false when
 *  the send buffer has no room for the longest reply yet. */
export function command(p: usize, n: i32, qos: i32, now: u32): bool {
  let topicLen = set.prefixLen + set.clientIdLen + 7;
  let cap = min(<i32>(session.rxEnd() - p), session.txCap - topicLen - 24);
  if (session.txRoom() < cap + topicLen + 16) return false;
  while (n > 0 && load<u8>(p + n - 1) <= 32) n--;
  let ok = false;
  if (!json.parseObject(p, n, cfg.controlDepth)) {
    reply.errorStart("invalid JSON: ");
    reply.errorMore(json.error);
    reply.errorMore(" at byte ");
    reply.errorNum(json.errorAt);
    reply.noCommand();
  } else {
    reply.beginReply(p, n, cap);
    let a = json.find("action");
    if (a >= 0 && json.memberType(a) == json.T_STRING && inList(REFUSED, json.memberValue(a) + 1, json.memberValueLen(a) - 2) > 0) {
      reply.errorStart("this action needs the authenticated control connection, not MQTT");
    } else {
      ok = run(now, bootAt);
      commands++;
      if (!ok || reply.overflow) {
        if (ok) reply.errorStart("the reply does not fit mqtt_max_packet");
        ok = false;
      }
    }
  }
  let len = ok ? reply.endReply(p) : reply.errorReply(p, cap);
  session.startPacket();
  session.ownTopic("reply");
  pk.bytes(p, len - 1); // without the line end the TCP protocol needs
  session.endPublish(0, false, now);
  return true;
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
  if (first == i64.MIN_VALUE) return missing("from", "a peer index from 0 (the reply's \"peers_next\")");
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
    return missing("to", "the other board's MQTT id");
  }
  if (tf < 0 || json.memberType(tf) != json.T_STRING) return missing("text", "a string");
  if (session.state != session.UP) {
    reply.errorStart("not connected to the broker");
    return false;
  }
  let id = json.memberValue(to) + 1;
  let idLen = json.memberValueLen(to) - 2;
  for (let i = 0; i < idLen; i++) {
    let c = load<u8>(id + i);
    if (c == 47 || c == 43 || c == 35 || c == 92) return missing("to", "an MQTT id (no '/', '+', '#' or escapes)");
  }
  session.startPacket();
  pk.beginString();
  pk.bytes(set.prefix, set.prefixLen);
  pk.byte(47);
  pk.bytes(id, idLen);
  pk.text("/msg");
  pk.endString();
  session.packetId();
  pk.text("{\"from\":\"");
  pk.bytes(set.clientId, set.clientIdLen);
  pk.text("\",\"text\":");
  pk.bytes(json.memberValue(tf), json.memberValueLen(tf)); // still a valid JSON string
  pk.byte(125);
  if (!session.endPublish(1, false, now)) {
    reply.errorStart("the MQTT send queue is full: try again");
    return false;
  }
  reply.keyNum("sent", 1);
  return true;
}
