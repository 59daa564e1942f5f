#!/usr/bin/python3
"""A TCP forwarding proxy that delays every chunk by a fixed time in each direction.

    python3 bench/proxy.py --target 127.0.0.1:1143 --delay-ms 10 [--port 0]

Prints "READY <port>" once it listens on 127.0.0.1. With 10 ms each way a round trip
costs 20 ms more; bandwidth is not limited: every chunk read is queued with its arrival
time and written out as soon as its delay has passed, whatever is still in flight (a
link with latency but no bandwidth cap). Both sockets use TCP_NODELAY so the proxy adds
no Nagle delay of its own. Runs until killed.

Each direction of each connection has a reader thread (recv, timestamp, queue) and a
writer thread (wait until due, sendall); the GIL is released in the socket calls.
"""

from __future__ import annotations

import argparse
import collections
import socket
import sys
import threading
import time

CHUNK = 256 * 1024


class Direction:
    def __init__(self, src: socket.socket, dst: socket.socket, delay: float,
                 done: threading.Event):
        self.src, self.dst, self.delay = src, dst, delay
        self.queue: collections.deque = collections.deque()
        self.cv = threading.Condition()
        self.done = done

    def start(self) -> None:
        threading.Thread(target=self.reader, daemon=True).start()
        threading.Thread(target=self.writer, daemon=True).start()

    def reader(self) -> None:
        while True:
            try:
                data = self.src.recv(CHUNK)
            except OSError:
                data = b''
            due = time.monotonic() + self.delay
            with self.cv:
                self.queue.append((due, data))
                self.cv.notify()
            if not data:
                return

    def writer(self) -> None:
        while True:
            with self.cv:
                while not self.queue:
                    self.cv.wait()
                due, data = self.queue.popleft()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if not data:
                try:
                    self.dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                self.done.set()
                return
            try:
                self.dst.sendall(data)
            except OSError:
                # the peer is gone: drain what the reader still queues, then stop
                self.done.set()
                try:
                    self.src.shutdown(socket.SHUT_RD)
                except OSError:
                    pass
                return


def handle(client: socket.socket, target: tuple[str, int], delay: float) -> None:
    try:
        server = socket.create_connection(target)
    except OSError:
        client.close()
        return
    for s in (client, server):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    up_done, down_done = threading.Event(), threading.Event()
    Direction(client, server, delay, up_done).start()
    Direction(server, client, delay, down_done).start()

    def closer() -> None:
        up_done.wait()
        down_done.wait()
        for s in (client, server):
            try:
                s.close()
            except OSError:
                pass
    threading.Thread(target=closer, daemon=True).start()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--target', required=True, help='host:port to forward to')
    ap.add_argument('--delay-ms', type=float, required=True, help='delay in each direction')
    ap.add_argument('--port', type=int, default=0, help='port to listen on (0: any)')
    a = ap.parse_args()
    host, port = a.target.rsplit(':', 1)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(('127.0.0.1', a.port))
    lsock.listen(128)
    print(f'READY {lsock.getsockname()[1]}', flush=True)
    delay = a.delay_ms / 1000.0
    while True:
        c, _addr = lsock.accept()
        threading.Thread(target=handle, args=(c, (host, int(port)), delay), daemon=True).start()


if __name__ == '__main__':
    sys.exit(main())
