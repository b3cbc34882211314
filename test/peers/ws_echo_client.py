# A WebSocket client for CPython (the websockets package, asyncio API): sends COUNT binary messages of
# SIZE bytes to URL's echo and checks each comes back byte-exact, then a text one; prints "ok BYTES".
# usage: ws_echo_client.py URL SIZE COUNT
import asyncio
import sys

import websockets


async def main(url: str, size: int, count: int) -> None:
    async with websockets.connect(url, max_size=None, open_timeout=30, close_timeout=10) as ws:
        total = 0
        for i in range(count):
            payload = bytes((i + k * 7) & 255 for k in range(size))
            await ws.send(payload)
            back = await asyncio.wait_for(ws.recv(), 60)
            if back != payload:
                sys.exit(f"message {i}: {len(back)} bytes back, not the {size} sent")
            total += size
        await ws.send("héllo ✓")
        if await asyncio.wait_for(ws.recv(), 60) != "héllo ✓":
            sys.exit("text message not echoed")
        print(f"ok {total}", flush=True)


asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
