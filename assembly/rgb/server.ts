// The colour a server board serves, tutorial-compatible: a bare request ("GET Data") gets the bare
// "r,g,b" text, as the tutorial's server sends it; GET/HEAD/PUT /rgb speak HTTP.
import { host_random_fill, host_adc_read, LOG_INFO, LOG_WARN } from "../abi/host.generated";
import * as cfg from "../config";
import { Slot, replyAndClose } from "../net/slots";
import { METHOD_GET, METHOD_HEAD, METHOD_PUT } from "../http/request";
import { answerStatus, writeResponse } from "../http/response";
import { formatText, parseEither } from "./codec";
import { put, putBytes, emit, putLine, putWithIp } from "../util/log";

export let current: i32 = 0;
export let requests: u32 = 0;
const scratch = memory.data(16);

export function startColour(): void {
  current = cfg.rgbValue;
}

/** A colour set from outside (PUT /rgb, set_rgb): served from now on. */
export function setColour(rgb: i32): void {
  current = rgb;
  cfg.rgbSource = cfg.SOURCE_FIXED;
}

function adcChannel(ch: i32): i32 {
  let v = host_adc_read(ch);
  return v < 0 ? -1 : min(v >> 4, 255); // 12-bit sample to 0..255
}

/** The colour to serve now, from the configured source. */
function nextColour(): i32 {
  if (cfg.rgbSource == cfg.SOURCE_RANDOM) {
    host_random_fill(scratch, 3);
    current = (<i32>load<u8>(scratch) << 16) | (<i32>load<u8>(scratch + 1) << 8) | <i32>load<u8>(scratch + 2);
  } else if (cfg.rgbSource == cfg.SOURCE_ADC) {
    let r = adcChannel(cfg.rgbAdc0);
    let g = adcChannel(cfg.rgbAdc1);
    let b = adcChannel(cfg.rgbAdc2);
    if (r < 0 || g < 0 || b < 0) {
      putLine("rgb: ADC read failed, serving the last colour", LOG_WARN);
    } else current = (r << 16) | (g << 8) | b;
  }
  return current;
}

export function answerTutorial(s: Slot, now: u32): void {
  let n = formatText(nextColour(), s.buf);
  put("Sent:");
  putBytes(s.buf, n);
  emit(LOG_INFO);
  requests++;
  replyAndClose(s, n, now, cfg.httpTimeoutMs);
}

export function answerRgb(s: Slot, now: u32): void {
  if (s.method == METHOD_PUT) {
    let rgb = parseEither(s.buf, s.len);
    if (rgb < 0) return answerStatus(s, 400, "value", "", now);
    setColour(rgb);
    put("rgb: set to ");
    putBytes(scratch, formatText(rgb, scratch));
    putWithIp(" by ", s.remoteIp);
    emit(LOG_INFO);
  } else if (s.method != METHOD_GET && s.method != METHOD_HEAD) {
    return answerStatus(s, 405, "method", "Allow: GET, HEAD, PUT\r\n", now);
  } else nextColour();
  let n = formatText(current, scratch);
  requests++;
  replyAndClose(s, writeResponse(s.buf, 200, "", scratch, n, s.method == METHOD_HEAD), now, cfg.httpTimeoutMs);
}
