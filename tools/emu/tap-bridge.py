#!/usr/bin/env python3
# Bridges a Linux TAP device to stdin/stdout for tools/emu/tap.ts (Node has no ioctl to open one):
# each Ethernet frame is a 2-byte big-endian length then the frame, both ways. Run inside the network
# namespace that holds the TAP:  ip netns exec NS python3 tools/emu/tap-bridge.py tap0
import fcntl, os, select, struct, sys

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
MAX_FRAME = 1522

def main() -> int:
    if len(sys.argv) != 2:
        print("usage: tap-bridge.py IFNAME", file=sys.stderr)
        return 2
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(), IFF_TAP | IFF_NO_PI))
    stdin, stdout = 0, 1
    pending = b""
    print("tap-bridge: ready", file=sys.stderr, flush=True)
    while True:
        r, _, _ = select.select([fd, stdin], [], [])
        if fd in r:
            frame = os.read(fd, 65536)
            out = struct.pack(">H", len(frame)) + frame
            while out:
                out = out[os.write(stdout, out):]
        if stdin in r:
            chunk = os.read(stdin, 65536)
            if not chunk:
                return 0
            pending += chunk
            while len(pending) >= 2:
                n = struct.unpack(">H", pending[:2])[0]
                if n > MAX_FRAME:
                    print(f"tap-bridge: frame of {n} bytes (max {MAX_FRAME})", file=sys.stderr)
                    return 1
                if len(pending) < 2 + n:
                    break
                try:
                    os.write(fd, pending[2:2 + n])
                except OSError as e:  # the interface went down: drop, as a wire would
                    print(f"tap-bridge: write: {e}", file=sys.stderr)
                pending = pending[2 + n:]

if __name__ == "__main__":
    sys.exit(main())
