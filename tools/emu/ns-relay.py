#!/usr/bin/env python3
# TCP relay between the root network namespace's loopback and a test's network namespace, for emulated
# boards (test/helpers/emu-board.ts): a socket keeps the namespace it was created in, so this process
# creates each socket in the namespace it belongs to (setns) and copies bytes between the two.
#   in  LHOST LPORT THOST TPORT [NET]   listen on LHOST:LPORT in the root namespace (loopback), connect
#                                 each accepted connection to THOST:TPORT inside the namespace (the board);
#                                 with NET (e.g. 192.168.77) a peer at 127.0.0.N (2..99) comes from NET.N,
#                                 added to IFACE on first use, so the board tells peers apart as on a LAN
#   out LHOST LPORT THOST TPORT   listen inside the namespace (the board's router address), connect to
#                                 THOST:TPORT in the root namespace (a test's server on loopback)
#   drop LHOST LPORT              close that listener and every connection it made
# Commands come one per line on stdin; each is answered "ok ..." or "error ..." on stdout. A FIN crosses
# as a FIN (half-close), a reset or a refused connect as a reset (SO_LINGER 0), so a peer sees what the
# board did; except that bytes one side sent before its reset, still unacknowledged by the (slow,
# emulated) other side, are delivered and followed by a FIN, as they would have arrived before the reset. Run as root:  python3 tools/emu/ns-relay.py NETNS [IFACE]
import ctypes, errno, fcntl, os, selectors, socket, struct, subprocess, sys

CLONE_NEWNET = 0x40000000
CHUNK = 65536
SIOCOUTQ = 0x5411  # bytes in a socket's send queue not yet acknowledged
MAX_PENDING = 1 << 20  # bytes held for a side that does not read: then stop reading the other side

libc = ctypes.CDLL(None, use_errno=True)


def setns(fd: int) -> None:
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns: {os.strerror(e)}")


class Relay:
    def __init__(self, netns: str, iface: str):
        self.netns, self.iface = netns, iface
        self.added = set()
        self.root = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.ns = os.open(f"/var/run/netns/{netns}", os.O_RDONLY)
        self.sel = selectors.DefaultSelector()
        self.listeners = {}  # (lhost, lport) -> (socket, direction, target, set of pairs)
        self.stdin_buf = b""

    def socket_in(self, inside: bool) -> socket.socket:
        if not inside:
            return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        setns(self.ns)
        try:
            return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        finally:
            setns(self.root)

    def command(self, line: str) -> str:
        parts = line.split()
        if (len(parts) == 5 and parts[0] in ("in", "out")) or (len(parts) == 6 and parts[0] == "in"):
            key = (parts[1], int(parts[2]))
            if key in self.listeners:
                return f"error {parts[1]}:{parts[2]} is relayed already"
            s = self.socket_in(parts[0] == "out")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(key)
            except OSError as e:
                s.close()
                return f"error bind {parts[1]}:{parts[2]}: {e.strerror}"
            s.listen(64)
            s.setblocking(False)
            entry = {"sock": s, "dir": parts[0], "target": (parts[3], int(parts[4])), "pairs": set(), "net": parts[5] if len(parts) == 6 else None}
            self.listeners[key] = entry
            self.sel.register(s, selectors.EVENT_READ, ("accept", entry))
            return f"ok {line}"
        if len(parts) == 3 and parts[0] == "drop":
            entry = self.listeners.pop((parts[1], int(parts[2])), None)
            if entry is None:
                return f"error {parts[1]}:{parts[2]} is not relayed"
            self.sel.unregister(entry["sock"])
            entry["sock"].close()
            for pair in list(entry["pairs"]):
                self.close_pair(pair, reset=True)
            return f"ok {line}"
        return f"error unknown command: {line}"

    def accept(self, entry) -> None:
        try:
            a, peer = entry["sock"].accept()
        except OSError:
            return
        a.setblocking(False)
        b = self.socket_in(entry["dir"] == "in")
        b.setblocking(False)
        last = int(peer[0].split(".")[3])
        if entry["net"] and peer[0].startswith("127.0.0.") and 2 <= last <= 99:
            try:
                self.bind_source(b, f"{entry['net']}.{last}")
            except OSError as e:
                print(f"ns-relay: cannot send from {entry['net']}.{last}: {e}", file=sys.stderr, flush=True)
        err = b.connect_ex(entry["target"])
        if err not in (0, errno.EINPROGRESS):
            self.reset(a)
            b.close()
            return
        pair = {"a": a, "b": b, "out": {a: b"", b: b""}, "eof": set(), "connected": False, "entry": entry}
        entry["pairs"].add(id(pair))
        entry.setdefault("objs", {})[id(pair)] = pair
        self.sel.register(b, selectors.EVENT_WRITE, ("connect", pair))

    def bind_source(self, s: socket.socket, ip: str) -> None:
        if ip not in self.added:
            subprocess.run(["ip", "-n", self.netns, "addr", "add", f"{ip}/24", "dev", self.iface], capture_output=True, timeout=10)
            self.added.add(ip)
        s.bind((ip, 0))

    def connected(self, pair) -> None:
        b = pair["b"]
        err = b.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        self.sel.unregister(b)
        if err:
            self.close_pair(id(pair), reset=True, entry=pair["entry"])
            return
        pair["connected"] = True
        self.sel.register(pair["a"], selectors.EVENT_READ, ("data", pair))
        self.sel.register(b, selectors.EVENT_READ, ("data", pair))

    def other(self, pair, s):
        return pair["b"] if s is pair["a"] else pair["a"]

    def update(self, pair) -> None:
        for s in (pair["a"], pair["b"]):
            ev = 0
            if s not in pair["eof"] and len(pair["out"][self.other(pair, s)]) < MAX_PENDING:
                ev |= selectors.EVENT_READ
            if pair["out"][s]:
                ev |= selectors.EVENT_WRITE
            try:
                if ev:
                    self.sel.modify(s, ev, ("data", pair))
                else:
                    self.sel.unregister(s)
            except (KeyError, ValueError):
                if ev:
                    self.sel.register(s, ev, ("data", pair))

    def data(self, pair, s, mask) -> None:
        o = self.other(pair, s)
        if mask & selectors.EVENT_READ:
            try:
                d = s.recv(CHUNK)
            except BlockingIOError:
                d = None
            except OSError:  # reset by that side: reset the other
                self.close_pair(id(pair), reset=True, entry=pair["entry"])
                return
            if d == b"":
                pair["eof"].add(s)
                if not pair["out"][o]:
                    self.shut(o)
            elif d:
                pair["out"][o] += d
        if mask & selectors.EVENT_WRITE and pair["out"][s]:
            try:
                n = s.send(pair["out"][s])
                pair["out"][s] = pair["out"][s][n:]
            except BlockingIOError:
                pass
            except OSError:
                self.close_pair(id(pair), reset=True, entry=pair["entry"])
                return
            if not pair["out"][s] and o in pair["eof"]:
                self.shut(s)
        if len(pair["eof"]) == 2 and not pair["out"][pair["a"]] and not pair["out"][pair["b"]]:
            self.close_pair(id(pair), reset=False, entry=pair["entry"])
            return
        self.update(pair)

    def shut(self, s) -> None:
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def in_flight(self, pair, s) -> bool:
        """Bytes for s not yet acknowledged by its peer (held here or in the kernel's send queue)."""
        if pair["out"][s]:
            return True
        try:
            return struct.unpack("i", fcntl.ioctl(s.fileno(), SIOCOUTQ, b"\0" * 4))[0] > 0
        except OSError:
            return False

    def reset(self, s) -> None:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        s.close()

    def close_pair(self, key, reset: bool, entry=None) -> None:
        if entry is None:
            entry = next((e for e in self.listeners.values() if key in e["pairs"]), None)
        pair = entry.get("objs", {}).pop(key, None) if entry else None
        if entry:
            entry["pairs"].discard(key)
        if pair is None:
            return
        for s in (pair["a"], pair["b"]):
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            if reset and not self.in_flight(pair, s):
                self.reset(s)
            else:  # bytes the other side sent before its reset still reach this one, then a FIN
                try:
                    s.setblocking(True)
                    s.settimeout(1)
                    if pair["out"][s]:
                        s.sendall(pair["out"][s])
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                s.close()

    def run(self) -> int:
        os.set_blocking(0, False)
        self.sel.register(0, selectors.EVENT_READ, ("stdin", None))
        print("ns-relay: ready", flush=True)
        while True:
            for key, mask in self.sel.select():
                kind, obj = key.data
                if kind == "stdin":
                    chunk = os.read(0, 4096)
                    if not chunk:
                        return 0
                    self.stdin_buf += chunk
                    while b"\n" in self.stdin_buf:
                        line, self.stdin_buf = self.stdin_buf.split(b"\n", 1)
                        if line.strip():
                            print(self.command(line.decode().strip()), flush=True)
                elif kind == "accept":
                    self.accept(obj)
                elif kind == "connect":
                    self.connected(obj)
                elif kind == "data":
                    if id(obj) in obj["entry"].get("objs", {}):
                        self.data(obj, key.fileobj, mask)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        print("usage: ns-relay.py NETNS [IFACE]", file=sys.stderr)
        sys.exit(2)
    sys.exit(Relay(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "tap0").run())
