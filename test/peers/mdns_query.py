# A plain mDNS query (RFC 6762), no resolver daemon: asks 224.0.0.251:5353 from LOCAL_IP for NAME's A
# record and prints the address of the first answer. usage: mdns_query.py NAME LOCAL_IP [TIMEOUT_S]
import socket
import struct
import sys
import time

name, local = sys.argv[1], sys.argv[2]
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
qname = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
query = struct.pack(">HHHHHH", 0, 0, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)  # A, IN (multicast answer)

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 5353))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(local))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("224.0.0.251") + socket.inet_aton(local))
s.settimeout(1.0)


def read_name(b: bytes, i: int) -> tuple[str, int]:
    """The dotted name at i (following compression pointers) and the offset after it."""
    labels, end, hops = [], None, 0
    while b[i]:
        if b[i] & 0xC0 == 0xC0:
            if end is None:
                end = i + 2
            i = ((b[i] & 0x3F) << 8) | b[i + 1]
            hops += 1
            if hops > 32:
                raise ValueError("name pointer loop")
            continue
        labels.append(b[i + 1:i + 1 + b[i]].decode("latin1"))
        i += 1 + b[i]
    return ".".join(labels), end if end is not None else i + 1


end = time.time() + timeout
while time.time() < end:
    s.sendto(query, ("224.0.0.251", 5353))
    try:
        while True:
            data, src = s.recvfrom(9000)
            flags, qd, an = struct.unpack(">HHH", data[2:8])
            if not flags & 0x8000 or an == 0:
                continue
            i = 12
            for _ in range(qd):
                i = read_name(data, i)[1] + 4
            for _ in range(an):
                rname, j = read_name(data, i)
                rtype, _, _, rdlen = struct.unpack(">HHIH", data[j:j + 10])
                if rtype == 1 and rname.lower() == name.rstrip(".").lower():
                    print(socket.inet_ntoa(data[j + 10:j + 14]), flush=True)
                    sys.exit(0)
                i = j + 10 + rdlen
    except socket.timeout:
        pass
sys.exit(f"no mDNS answer for {name} within {timeout} s")
