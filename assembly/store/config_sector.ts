// The configuration sector (docs/CONFIG.md): the board's key=value text in REGION_CONFIG, two copies
// (one per flash sector) each with a header: magic "PWCF", format version, length, sequence number and
// the first 4 bytes of SHA-256 over header and text. init(0, now) reads it: the newest valid copy wins,
// a missing or corrupt one means "unconfigured" (setup access point), never a failed start. A save
// rewrites the older copy only, so a power cut at any step leaves the last good one readable.
import { TAB, LF, CR, BACKSLASH, LOWER_A, LOWER_N, LOWER_R, LOWER_T } from "../util/ascii";
import {
  host_flash_read, host_flash_write, host_flash_erase, host_board_id, host_gpio_setup, host_gpio_read, host_wifi_scan,
  host_reset, REGION_CONFIG, FLASH_SECTOR, OK, GPIO_IN, PULL_UP, LOG_WARN, LOG_ERROR, IO_CAPACITY, RESET_KIND_BOARD,
  RESET_KIND_CORE, WIFI_EV_SCAN_RESULT, WIFI_EV_SCAN_DONE,
} from "../abi/host.generated";
import { parseConfig } from "../config";
import * as cfg from "../config";
import * as json from "../util/json";
import * as reply from "../util/reply";
import { sha256Reset, sha256Update, sha256Final } from "../util/sha256";
import { putLine, logEnd, lineAt, lineBuf } from "../util/log";
import { putAscii, putHex } from "../util/bytes";

const MAGIC: u32 = 0x46435750; // "PWCF" little-endian
const VERSION: u16 = 1;
const HEAD: i32 = 16;
/** Held low at boot (a button to GND, next to the GND pin 28): erases the configuration. */
export const RESET_PIN: i32 = 22;

const head = memory.data(HEAD);
const page = memory.data(256); // one flash page being programmed; its tail holds digests
let seq: u32 = 0; // of the newest valid copy
let newest: i32 = -1; // which copy that is (-1: none)
export let setupMode = false;

function digest(text: usize, n: i32): u32 {
  sha256Reset();
  sha256Update(head, 12);
  sha256Update(text, n);
  sha256Final(page + 224);
  return load<u32>(page + 224);
}

/** Copy i's text into dst; its length, or -1 (erased, corrupt, or a format this core does not know). */
function readCopy(i: i32, dst: usize): i32 {
  if (host_flash_read(REGION_CONFIG, i * FLASH_SECTOR, head, HEAD) != HEAD) return -1;
  let n = <i32>load<u16>(head, 6);
  if (load<u32>(head) != MAGIC || load<u16>(head, 4) != VERSION || n > IO_CAPACITY) return -1;
  if (host_flash_read(REGION_CONFIG, i * FLASH_SECTOR + HEAD, dst, n) != n) return -1;
  return digest(dst, n) == load<u32>(head, 12) ? n : -1;
}

/** Finds the newest valid copy (sets `newest`, `seq`); its text at dst and length, or -1. One call
 *  site for readCopy: the third round re-reads the winner. */
function readNewest(dst: usize): i32 {
  newest = -1;
  let n = -1;
  for (let i = 0; i < 3; i++) {
    let c = i < 2 ? i : newest;
    if (c < 0) break;
    n = readCopy(c, dst);
    let s = load<u32>(head, 8);
    if (i < 2 && n >= 0 && (newest < 0 || <i32>(s - seq) > 0)) {
      newest = c;
      seq = s;
    }
  }
  return n;
}

/** Writes text as the next copy over the older one: erase, then pages; the checksum only matches
 *  once the last page is in, so a copy cut short is never taken. */
export function save(text: usize, n: i32): i32 {
  let i = newest == 1 ? 0 : 1;
  store<u32>(head, MAGIC);
  store<u16>(head, VERSION, 4);
  store<u16>(head, <u16>n, 6);
  store<u32>(head, seq + 1, 8);
  store<u32>(head, digest(text, n), 12);
  let off = i * FLASH_SECTOR;
  let r = host_flash_erase(REGION_CONFIG, off, FLASH_SECTOR);
  for (let at = 0; r == OK && at < HEAD + n; at += 256) {
    memory.fill(page, 0xff, 256);
    if (at == 0) memory.copy(page, head, HEAD);
    let from = max(at, HEAD);
    memory.copy(page + from - at, text + from - HEAD, min(at + 256, HEAD + n) - from);
    r = host_flash_write(REGION_CONFIG, off + at, page, 256);
  }
  if (r == OK) {
    newest = i;
    seq++;
  }
  return r;
}

/** Both copies erased, the older first: a cut in between leaves the board as it was. */
function eraseAll(): i32 {
  let r = host_flash_erase(REGION_CONFIG, (newest == 0 ? 1 : 0) * FLASH_SECTOR, FLASH_SECTOR);
  return r | host_flash_erase(REGION_CONFIG, (newest == 0 ? 0 : 1) * FLASH_SECTOR, FLASH_SECTOR);
}

/** init with no configuration text: the reset button, the sector, else setup mode. OK or ERR_CONFIG. */
export function configure(io: usize): i32 {
  host_gpio_setup(RESET_PIN, GPIO_IN, PULL_UP);
  let n = readNewest(io); // (time for the pull-up to settle)
  let high = 0; // held means low at every one of many reads: one high read (or a host error) is not held
  for (let i = 0; i < 64; i++) high |= host_gpio_read(RESET_PIN);
  if (high == 0) {
    putLine("config: GP22 low at boot: factory reset", LOG_WARN);
    eraseAll();
    n = -1;
  }
  // format 0, before the header existed: text from the sector's start to the first 0xFF or NUL,
  // migrated to format 1 (saved into copy 1: the old text stays until that write is complete)
  let old = n < 0;
  if (old) {
    n = host_flash_read(REGION_CONFIG, 0, io, IO_CAPACITY);
    let i = 0;
    while (i < n && load<u8>(io + i) != 0xff && load<u8>(io + i) != 0) i++;
    n = i == 0 || load<u32>(io) == MAGIC ? -1 : i;
  }
  if (n >= 0 && parseConfig(io, n) == OK) {
    if (old) save(io, n);
    return OK;
  }
  // setup mode: an open access point picowire-XXXX, the setup page, unauthenticated control; these
  // override whatever a refused text set before its bad line
  putLine("config: unconfigured: setup mode", LOG_WARN);
  setupMode = true;
  cfg.busKeyLen = 0;
  cfg.wifiPasswordLen = 0;
  cfg.wifiMode = cfg.WIFI_AP;
  cfg.busOn = false;
  cfg.httpPort = 80;
  cfg.controlPort = 12345;
  cfg.controlInsecure = true;
  cfg.controlLineMax = 512; // the setup page's set_config with a long password and key
  cfg.maxConns = 4; // the page, its control socket, a spare: and room for those longer lines
  let p = cfg.wifiSsid + putAscii(cfg.wifiSsid, "picowire-");
  host_board_id(page, 8);
  putHex(p, page + 6, 2); // the board ID's last two bytes
  cfg.wifiSsidLen = 13;
  return OK;
}

// ---- control actions -------------------------------------------------------------------------

/** Decodes the JSON string escapes of [p, p+n) in place (the parser validated them); the new length,
 *  or -1 for \b, \f and \u escapes (send such characters as UTF-8). */
function unescape(p: usize, n: i32): i32 {
  let o: usize = p;
  for (let i = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i);
    if (c == BACKSLASH) {
      c = <u32>load<u8>(p + ++i);
      if (c == LOWER_N) c = LF;
      else if (c == LOWER_R) c = CR;
      else if (c == LOWER_T) c = TAB;
      else if (c >= LOWER_A) return -1; // \b, \f, \u
    }
    store<u8>(o++, <u8>c);
  }
  return <i32>(o - p);
}

/** set_config {"config": "key=value\n..."}: parsed first (a refusal names the line and why), saved,
 *  answered, then the board restarts with it. The text never appears in the reply (masked in place). */
export function setConfig(): bool {
  let f = json.find("config");
  let p = json.memberValue(f) + 1;
  let len = json.memberValueLen(f) - 2;
  let n = f < 0 || json.memberType(f) != json.T_STRING ? -1 : unescape(p, len);
  if (n <= 0) {
    reply.errorStart("needs \"config\": key=value lines in one string (\\n, no \\u)");
    return false;
  }
  let mark = logEnd;
  let r = parseConfig(p, n);
  if (r == OK && save(p, n) != OK) {
    putLine("config: flash write failed", LOG_ERROR);
    r = -1;
  }
  memory.fill(p, 42, len); // "*": the echoed command keeps no secret
  if (r == OK) return restart(RESET_KIND_BOARD);
  // a refused text may have changed live settings before the bad line: the core restarts with the old;
  // the reason is the first line logged since (never a secret value: the parser leaves those out)
  reply.errorStart("not saved: ");
  reply.errorBytes(lineBuf + 2, lineAt(mark) - 2);
  host_reset(RESET_KIND_CORE);
  return false;
}

function restart(kind: i32): bool {
  host_reset(kind);
  reply.key("restart");
  reply.lit("true");
  return true;
}

/** factory_reset: both copies erased, then a restart into setup mode. */
export function factoryReset(): bool {
  putLine("config: factory reset", LOG_WARN);
  eraseAll();
  return restart(RESET_KIND_BOARD);
}

// Networks seen by the last scan, for the setup page: SSIDs, each a length byte then its bytes.
const NETS_CAP: i32 = 200;
const nets = memory.data(NETS_CAP);
let netsLen: i32 = 0;
let scanning = false;

/** wifi_event hook: collects scan results the scan action asked for. */
export function scanEvent(kind: i32, status: i32, io: usize): void {
  if (!scanning) return;
  if (kind == WIFI_EV_SCAN_DONE) scanning = false;
  let k = <i32>load<u8>(io, 3);
  if (kind != WIFI_EV_SCAN_RESULT || status < 4 + k || k == 0 || netsLen + k + 1 > NETS_CAP) return;
  store<u8>(nets + netsLen, <u8>k);
  memory.copy(nets + netsLen + 1, io + 4, k);
  netsLen += k + 1;
}

/** scan_wifi: the networks found so far and whether the scan is done; starts a new scan when none runs. */
export function scanWifi(): bool {
  reply.key("networks");
  reply.lit("[");
  for (let i = 0; i < netsLen; i += 1 + load<u8>(nets + i)) {
    if (i) reply.lit(",");
    reply.strBytes(nets + i + 1, load<u8>(nets + i));
  }
  reply.lit("]");
  reply.key("done");
  reply.lit(scanning ? "false" : "true");
  if (!scanning && host_wifi_scan() == OK) {
    scanning = true;
    netsLen = 0;
  }
  return true;
}
