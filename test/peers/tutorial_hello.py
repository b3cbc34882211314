# The tutorial's plain bus client for CPython ("The Wireless Bus"): say HELLO to the access point on
# UDP 5000, take the comma-separated member list from the reply (master first), greet every other
# peer on UDP 5001, then print what arrives: NODES lists on the HELLO socket, peer messages on 5001.
# usage: tutorial_hello.py AP_IP MY_IP SECONDS [BUS_PORT MSG_PORT]   (the tutorial: 192.168.4.1, 5000, 5001)
import socket
import sys
import time

ap_ip, my_ip, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
bus_port = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
msg_port = int(sys.argv[5]) if len(sys.argv) > 5 else 5001

udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind((my_ip, 0))
udp.settimeout(2)
udp.sendto(b"HELLO", (ap_ip, bus_port))
try:
    data, addr = udp.recvfrom(1024)
    nodes = data.decode().split(",")
except OSError:
    nodes = []
print("LIST " + ",".join(nodes), flush=True)

peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
peer.bind((my_ip, msg_port))
peer.settimeout(0.2)
for ip in nodes:
    if ip != my_ip:
        peer.sendto(b"Hi from " + my_ip.encode(), (ip, msg_port))

udp.settimeout(0.2)
end = time.time() + seconds
while time.time() < end:
    for s in (udp, peer):
        try:
            data, addr = s.recvfrom(1024)
            print(("GOT " if s is udp else "MSG ") + data.decode(), flush=True)
        except OSError:
            pass
