// Over-the-air update of the core (docs/OTA.md). The control actions ota_begin, ota_chunk, ota_end and
// ota_status write a new core into the slot the board does not run from, check its ABI and its SHA-256
// (signed with the bus key, as every command) over what is in flash, then write the slot's header, which
// makes it pending, and restart. The host boots a pending slot on trial; the new core confirms itself once an
// authenticated command or the bus reached it, or the host rolls back on the next boot.
//
// A slot: page 0 is the header, the image starts at byte 256. Header: 0 magic, 4 generation, 8 length,
// 12 ABI, 16 the image's SHA-256, 48 the SHA-256 of [0, 48); at 128 "tried" and at 132 "confirmed",
// words left erased (0xFFFFFFFF) and later programmed to 0 by the host and the core: NOR flash clears
// bits without an erase, so no state is ever erased and rewritten, and a cut write can only set a flag.
import {
  host_flash_read, host_flash_write, host_flash_erase, host_flash_size, host_reset, host_asset_find, host_asset_read,
  FLASH_SECTOR, OK, ABI_VERSION, RESET_KIND_BOARD, BUS_ROLE_MASTER, BUS_ROLE_WORKER,
} from "../abi/host.generated";
import { Ascii, EQUALS } from "../util/ascii";
import { decodeChar } from "../util/base64";
import * as json from "../util/json";
import * as reply from "../util/reply";
import * as cfg from "../config";
import { putAscii, bytesSame } from "../util/bytes";
import { sha256Reset, sha256Update, sha256Final } from "../util/sha256";
import { role } from "../bus/node";
import { count } from "../bus/table";

const MAGIC: u32 = 0x31495750; // "PWI1"
const page = memory.data(256); // the page being filled; a new header is built here
const hd = memory.data(136); // a header read back: [0, 80) and the flags at 128
// scratch: a candidate SHA-256, a digest, a header's check, an asset's text
const t = memory.data(32);
const sha = memory.data(32); // the image's SHA-256 (ota_begin)
let receiving = false;
let length: u32 = 0;
let have: u32 = 0;
let target: i32 = 0;
let running: i32 = 0; // 1 slot A, 2 slot B, 0 the core built into the firmware
let trial = false;

/** Reads the host's asset `name` into t (at most 16 bytes); its length, 0 when there is none. */
function asset(name: Ascii): i32 {
  let a = host_asset_find(t, putAscii(t, name));
  return a < 0 ? 0 : max(host_asset_read(a, 0, t, 16), 0);
}

/** At init: which slot runs (the host's asset "core.slot") and whether it still has to confirm itself. */
export function startOta(): void {
  running = asset("core.slot") == 1 ? <i32>load<u8>(t) - 64 : 0; // "A" 1, "B" 2, "firmware" 0
  if (<u32>running > 2) running = 0;
  trial = running != 0 && header(running) && load<u32>(hd + 132) == 0xffffffff;
}

/** Reads slot s's header into hd; whether it is a valid header. */
function header(s: i32): bool {
  host_flash_read(s, 0, hd, 136);
  sha256Reset();
  sha256Update(hd, 48);
  sha256Final(t);
  return load<u32>(hd) == MAGIC && bytesSame(t, hd + 48, 32);
}

/** Programs one flag word of slot s's header to 0 (the rest of the page programs as 0xFF: unchanged). */
function flag(s: i32, at: usize): void {
  memory.fill(page, 0xff, 256);
  store<u32>(page + at, 0);
  host_flash_write(s, 0, page, 256);
}

/** Called after events (`commanded`: an authenticated control command ran): a core on trial confirms
 *  itself once it is reachable, over control or as a member of a bus with another board in it (a board
 *  alone is the master of a bus of one, which proves nothing about its network). */
export function otaTick(commanded: bool): void {
  if (!trial || !(commanded || count > 1 && (role == BUS_ROLE_MASTER || role == BUS_ROLE_WORKER))) return;
  trial = false;
  flag(running, 132);
}

function fail(why: Ascii): bool {
  reply.errorStart(why);
  return false;
}

function slotName(s: i32): Ascii {
  return s == 1 ? "A" : s == 2 ? "B" : "firmware";
}

function flash(r: i32): bool {
  if (r == OK) return true;
  receiving = false;
  return fail("flash error");
}

/** Programs the page that ends at `have` (erasing each sector as it is entered). */
function flushPage(): bool {
  let o = <i32>((have - 1) & ~255) + 256;
  if ((o & (FLASH_SECTOR - 1)) == 0 && !flash(host_flash_erase(target, o, FLASH_SECTOR))) return false;
  return flash(host_flash_write(target, o, page, 256));
}

/** A whole-number field from 0 to 2^31-1, or -1. */
function field(name: Ascii): i32 {
  let v = json.intValue(json.find(name), 0, 0x7fffffff);
  return v == i64.MIN_VALUE ? -1 : <i32>v;
}

function haveResult(): bool {
  reply.keyNum("have", have);
  return true;
}

/** ota_begin {length, sha256 (base64), abi}. The image is authenticated by this command's own MAC (every
 *  command is signed with the bus key, bound to the session and a rising seq): it covers the SHA-256,
 *  which ota_end checks over what is in flash. The same image again resumes where it stopped. */
function begin(): bool {
  if (cfg.busKeyLen == 0) return fail("OTA needs a bus key");
  otaTick(true); // this command reached a core on trial: confirm it before its fallback is overwritten
  let other = running == 1 ? 2 : 1;
  let size = host_flash_size(other) - 256;
  if (size <= 0) return fail("no core slots: needs new firmware");
  let len = field("length");
  let abi = field("abi");
  if (len <= 0 || abi < 0 || decode(json.find("sha256"), t, 32) != 32) {
    return fail("needs length, sha256 (base64), abi");
  }
  if (abi != ABI_VERSION) return fail("other ABI: needs new firmware");
  if (len > size) return fail("image too large");
  if (!receiving || <u32>len != length || !bytesSame(sha, t, 32)) {
    receiving = true;
    length = <u32>len;
    have = 0;
    target = other;
    memory.copy(sha, t, 32);
    // erasing the header first: from here on the slot holds no bootable image
    if (!flash(host_flash_erase(target, 0, FLASH_SECTOR))) return false;
  }
  reply.keyNum("chunk", ((cfg.controlLineMax - 140) >> 2) * 3); // image bytes per ota_chunk that fit a signed line
  return haveResult();
}

/** Decodes member f's base64 text (up to its "=" padding): to dst, or (dst 0) onto the image at
 *  "have", programming each page as it fills; at most `max` bytes. How many bytes, or -1 when it is
 *  not base64 or longer. */
function decode(f: i32, dst: usize, max: u32): i32 {
  if (f < 0 || json.memberType(f) != json.T_STRING) return -1;
  let p = json.memberValue(f) + 1;
  let q = 0;
  while (q < json.memberValueLen(f) - 2 && load<u8>(p + q) != EQUALS) q++; // '=' ends the data
  let decoded = q * 6 >> 3;
  if (<u32>decoded > max) return -1;
  let bits: u32 = 0;
  let nb = 0;
  for (let i = 0; i < q; i++) {
    let d = decodeChar(load<u8>(p + i));
    if (d < 0) return -1;
    bits = bits << 6 | <u32>d;
    nb += 6;
    if (nb >= 8) {
      nb -= 8;
      let b = <u8>(bits >> <u32>nb);
      if (dst) store<u8>(dst++, b);
      else {
        store<u8>(page + (have & 255), b);
        have++;
        if ((have & 255) == 0 && !flushPage()) return -1;
      }
    }
  }
  return decoded;
}

/** ota_chunk {offset, data (base64)}: bytes at `offset`; one that is not at "have" changes nothing (a
 *  resent chunk after a dropped connection), and the reply's "have" says where to go on. */
function chunk(): bool {
  if (!receiving) return fail("send ota_begin first");
  let off = field("offset");
  let why: Ascii = "needs offset and base64 data within the length";
  if (off < 0) return fail(why);
  if (<u32>off != have) return haveResult();
  if (decode(json.find("data"), 0, length - have) < 0) {
    if (receiving) fail(why);
    receiving = false; // part of it may be in the page: start over
    return false;
  }
  return haveResult();
}

/** ota_end: the whole image arrived; its SHA-256 is checked over what is in flash, then the header is
 *  written (the slot is pending) and the board restarts; the host boots it on trial. */
function end(): bool {
  if (!receiving) return fail("send ota_begin first");
  if (have != length) {
    reply.errorStart("truncated: ");
    reply.errorNum(have);
    reply.errorMore(" of ");
    reply.errorNum(length);
    return false;
  }
  if (have & 255) {
    memory.fill(page + (have & 255), 0xff, 256 - (have & 255));
    if (!flushPage()) return false;
  }
  receiving = false;
  sha256Reset();
  for (let o: u32 = 0; o < length; o += 256) {
    let k = <i32>min(256, length - o);
    host_flash_read(target, o + 256, page, k);
    sha256Update(page, k);
  }
  sha256Final(t);
  if (!bytesSame(t, sha, 32)) return fail("sha256 mismatch");
  // the header: one generation above the running core's, so the host prefers it once confirmed
  let gen: u32 = running != 0 && header(running) ? load<u32>(hd + 4) : 0;
  memory.fill(page, 0xff, 256);
  store<u32>(page, MAGIC);
  store<u32>(page + 4, gen + 1);
  store<u32>(page + 8, length);
  store<u32>(page + 12, ABI_VERSION);
  memory.copy(page + 16, sha, 32);
  sha256Reset();
  sha256Update(page, 48);
  sha256Final(page + 48);
  if (!flash(host_flash_write(target, 0, page, 256))) return false;
  host_reset(RESET_KIND_BOARD); // after this event: the reply goes out first
  return true;
}

function status(): bool {
  reply.key("receiving");
  reply.lit(receiving ? "true" : "false");
  reply.keyNum("length", length);
  reply.key("trial");
  reply.lit(trial ? "true" : "false");
  return haveResult();
}

/** get_info's part: the engine (the host's asset "core.engine": wasm3, wasm2c, v8), the running slot
 *  ("firmware": the core built into the firmware) and both slots. */
export function describe(): void {
  reply.key("engine");
  let n = asset("core.engine");
  if (n > 0) reply.strBytes(t, n);
  else reply.str("unknown");
  reply.key("slot");
  reply.str(slotName(running));
  reply.key("slots");
  for (let s = 1; s <= 2; s++) {
    reply.lit(s == 1 ? "[" : ",");
    reply.open();
    reply.key("sha256");
    let ok = header(s);
    if (ok) reply.hexBytes(hd + 16, 32);
    else reply.lit("null");
    reply.lit("}");
  }
  reply.lit("]");
}

/** Runs OTA action k (0 ota_begin, 1 ota_chunk, 2 ota_end, 3 ota_status). */
export function otaAction(k: i32): bool {
  if (k == 0) return begin();
  if (k == 1) return chunk();
  if (k == 2) return end();
  return status();
}
