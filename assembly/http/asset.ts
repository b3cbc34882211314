// Serves a read-only asset kept in flash by the host (the dashboard page, gzip-compressed), streamed
// through the connection's buffer a chunk at a time: the page never has to fit the core's memory.
import { host_asset_find, host_asset_size, host_asset_read, LOG_INFO } from "../abi/host.generated";
import * as cfg from "../config";
import { Slot, arm, flush, bufferRoom } from "../net/slots";
import { METHOD_GET, METHOD_HEAD } from "./request";
import { answerStatus } from "./response";
import { putAscii, putDecimal } from "../util/bytes";
import { Ascii, asciiLen } from "../util/ascii";
import { setupMode } from "../store/config_sector";

const PAGE: Ascii = "index.html.gz";

/** Fills the buffer with the asset's next bytes (after `from` bytes already there); false on a host error. */
function refill(s: Slot, from: i32): bool {
  let n = host_asset_read(s.assetId, s.assetAt, s.buf + <usize>from, min(bufferRoom() - from, s.assetLeft));
  if (n <= 0) return false;
  s.assetAt += n;
  s.assetLeft -= n;
  s.txOffset = 0;
  s.len = from + n;
  s.sent = 0;
  if (s.assetLeft == 0) s.closing = true;
  return true;
}

export function answerPage(s: Slot, now: u32): void {
  if (s.method != METHOD_GET && s.method != METHOD_HEAD) return answerStatus(s, 405, "method", "Allow: GET, HEAD\r\n", now);
  let page: Ascii = setupMode ? "setup.html.gz" : PAGE; // an unconfigured board serves its setup page
  let id = host_asset_find(page + 1, asciiLen(page));
  let size = id < 0 ? -1 : host_asset_size(id);
  if (size < 0) return answerStatus(s, 404, "asset", "", now);
  let n = putAscii(s.buf, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\nContent-Length: ");
  n += putDecimal(s.buf + n, size);
  n += putAscii(s.buf + n, "\r\nConnection: close\r\nCache-Control: no-cache\r\n\r\n");
  s.assetId = id;
  s.assetAt = 0;
  s.assetLeft = s.method == METHOD_HEAD ? 0 : size;
  arm(s, now, cfg.httpTimeoutMs);
  if (s.assetLeft == 0 || !refill(s, n)) {
    s.assetLeft = 0;
    s.txOffset = 0;
    s.len = n;
    s.sent = 0;
    s.closing = true;
  }
  flush(s);
}

/** The send queue drained: the next chunk, while the peer keeps reading (each chunk renews the deadline). */
export function assetSent(s: Slot, now: u32): void {
  if (!flush(s) || s.sent < s.len || s.assetLeft == 0) return;
  arm(s, now, cfg.httpTimeoutMs);
  if (!refill(s, 0)) {
    s.assetLeft = 0;
    s.closing = true;
  }
  flush(s);
}
