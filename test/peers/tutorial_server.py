# The tutorial's colour server, written for CPython so it can stand in for a MicroPython board in tests:
# one recv of up to 1024 bytes whatever it holds, then "r,g,b" (no line end), then close.
# usage: tutorial_server.py HOST PORT R,G,B  (a fixed colour so tests can check it)
import socket
import sys

host, port, colour = sys.argv[1], int(sys.argv[2]), sys.argv[3]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port))
srv.listen(5)
print("listening", flush=True)
srv.settimeout(30)  # bounded: the test kills us long before
while True:
    conn, addr = srv.accept()
    conn.recv(1024)
    conn.send(colour.encode())
    conn.close()
