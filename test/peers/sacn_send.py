#!/usr/bin/env python3
"""A plain E1.31 (sACN) sender, written from ANSI E1.31-2018 section 4 (the data packet), independent of
picowire's own sender: DMX data for one universe, sent like OLA or xLights send it by default, to the
universe's multicast group 239.255.<hi>.<lo> (section 9.3.1) on UDP port 5568.

usage: sacn_send.py DEST UNIVERSE R,G,B PIXELS SECONDS [SOURCE_IP]
  DEST       "multicast" for the universe's group, or an IPv4 address (unicast)
  SOURCE_IP  the interface to send multicast from (IP_MULTICAST_IF); default: the routing table's
Sends a frame every 40 ms for SECONDS (at most 30), every pixel R,G,B, and no stream-terminated frame:
the board keeps the last one for its hold time. Prints "SENT n to ADDRESS" at the end.
"""
import socket
import struct
import sys
import time
import uuid


def packet(universe: int, seq: int, data: bytes) -> bytes:
    n = 126 + len(data)
    root = struct.pack(">HH12sHI16s", 0x0010, 0, b"ASC-E1.17\0\0\0", 0x7000 | (n - 16), 0x00000004, CID)
    framing = struct.pack(">HI64sBHBBH", 0x7000 | (n - 38), 0x00000002, b"picowire test sender".ljust(64, b"\0"),
                          100, 0, seq & 255, 0, universe)
    dmp = struct.pack(">HBBHHHB", 0x7000 | (n - 115), 0x02, 0xA1, 0x0000, 0x0001, len(data) + 1, 0x00)
    out = root + framing + dmp + data
    assert len(out) == n
    return out


CID = uuid.uuid4().bytes


def main() -> int:
    dest, universe, rgb, pixels, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    source = sys.argv[6] if len(sys.argv) > 6 else None
    r, g, b = (int(v) for v in rgb.split(","))
    data = bytes([r, g, b]) * pixels
    group = dest == "multicast"
    addr = f"239.255.{universe >> 8}.{universe & 255}" if group else dest
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if group:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        if source:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source))
    end = time.monotonic() + min(seconds, 30.0)  # bounded, whatever the caller asks
    seq = 0
    while time.monotonic() < end:
        s.sendto(packet(universe, seq, data), (addr, 5568))
        seq += 1
        time.sleep(0.04)
    print(f"SENT {seq} to {addr}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
