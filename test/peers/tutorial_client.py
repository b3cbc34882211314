# The tutorial's polling client for CPython: send b"GET Data", read the reply, split it at the commas
# into three ints, print them; N polls 0.2 s apart. usage: tutorial_client.py HOST PORT N
import socket
import sys
import time

host, port, polls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(polls):
    s = socket.create_connection((host, port), timeout=5)
    s.send(b"GET Data")
    reply = s.recv(512).decode()
    r, g, b = (int(x) for x in reply.split(","))
    print(r, g, b, flush=True)
    s.close()
    time.sleep(0.2)
