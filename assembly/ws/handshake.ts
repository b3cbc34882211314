// The WebSocket opening handshake (RFC 6455 section 4): the accept value, the server's 101 and the
// client's upgrade request. Both sides check everything before a single frame is parsed.
import { Ascii, asciiLen, asciiAt } from "../util/ascii";
import { sha1Reset, sha1Update, sha1Final } from "../util/sha1";
import { base64Encode } from "../util/base64";
import { putAscii, putDecimal } from "../util/bytes";

const GUID: Ascii = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const scratch = memory.data(40);

/** Writes base64(SHA-1(key + GUID)), 28 bytes, to dst. */
export function acceptDigest(key: usize, keyLen: i32, dst: usize): void {
  sha1Reset();
  sha1Update(key, keyLen);
  let n = putAscii(scratch, GUID);
  sha1Update(scratch, n);
  sha1Final(scratch);
  base64Encode(scratch, 20, dst);
}

/** The server's 101; `accept` is the 28-byte value, `protocol` the chosen subprotocol (n may be 0). */
export function writeSwitching(dst: usize, accept: usize, protocol: usize, protocolLen: i32): i32 {
  let n = putAscii(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
  memory.copy(dst + n, accept, 28);
  n += 28;
  if (protocolLen > 0) {
    n += putAscii(dst + n, "\r\nSec-WebSocket-Protocol: ");
    memory.copy(dst + n, protocol, protocolLen);
    n += protocolLen;
  }
  n += putAscii(dst + n, "\r\n\r\n");
  return n;
}

/** The client's upgrade request with a base64 key (24 bytes at key). */
export function writeUpgrade(dst: usize, host: usize, hostLen: i32, port: i32, path: usize, pathLen: i32, key: usize): i32 {
  let n = putAscii(dst, "GET ");
  memory.copy(dst + n, path, pathLen);
  n += pathLen;
  n += putAscii(dst + n, " HTTP/1.1\r\nHost: ");
  memory.copy(dst + n, host, hostLen);
  n += hostLen;
  store<u8>(dst + n++, 58);
  n += putDecimal(dst + n, port);
  n += putAscii(dst + n, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ");
  memory.copy(dst + n, key, 24);
  n += 24;
  n += putAscii(dst + n, "\r\n\r\n");
  return n;
}
