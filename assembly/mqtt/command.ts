// The control protocol over MQTT: a JSON command published to "<prefix>/<id>/cmd" runs like one on the
// control port and its reply goes to "<prefix>/<id>/reply" (the control actions about MQTT itself are in
// actions.ts). The broker's credentials and access rules are the boundary here, so actions that rewrite
// the board (configuration, firmware) stay on the authenticated control connection.
import { Ascii, SPACE } from "../util/ascii";
import { inList } from "../util/bytes";
import * as json from "../util/json";
import * as cfg from "../config";
import * as reply from "../util/reply";
import { run } from "../control/actions";
import { bootAt } from "../control/server";
import * as pk from "./packet";
import * as session from "./session";
import * as set from "./settings";
import { countCommand } from "./actions";

const REFUSED: Ascii = "set_config,factory_reset,ota_begin,ota_chunk,ota_end";

/** Runs the command at [p, p+n) (in the receive buffer, where its reply is written over it); false when
 *  the send buffer has no room for the longest reply yet. */
export function command(p: usize, n: i32, qos: i32, now: u32): bool {
  let topicLen = set.prefixLen + set.clientIdLen + 7;
  let cap = min(<i32>(session.rxEnd() - p), session.txCap - topicLen - 24);
  if (session.txRoom() < cap + topicLen + 16) return false;
  while (n > 0 && load<u8>(p + n - 1) <= SPACE) n--;
  let ok = false;
  if (!json.parseObject(p, n, cfg.controlDepth)) reply.invalidJson();
  else {
    reply.beginReply(p, n, cap);
    let a = json.find("action");
    if (a >= 0 && json.memberType(a) == json.T_STRING && inList(REFUSED, json.memberValue(a) + 1, json.memberValueLen(a) - 2) > 0) {
      reply.errorStart("this action needs the authenticated control connection, not MQTT");
    } else {
      ok = run(now, bootAt);
      countCommand();
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
