"""A TCP proxy that breaks connections on purpose, between our binary and a server.

    with FaultProxy(dc.host, dc.port) as proxy:
        proxy.add(Fault('cut', 's2c', pattern=b'BODY[] {', after=5000), conn=1)
        setup.write_config(host=proxy.host, port=proxy.port)
        r = setup.sync(ok=False)
        proxy.connections[0].s2c          # every byte the server sent on connection 1

The proxy listens on 127.0.0.1 (a free port), accepts connections in a thread and
connects each one to the target. Faults are given per connection (numbered from 1 in
the order the proxy accepted them) or for every connection, and act in one direction:
's2c' (server to client) or 'c2s' (client to server).

A fault's trigger is a byte offset in its direction: `after` bytes from the start of
the connection or, with `pattern`, `after` bytes past the end of the `occurrence`-th
match of the pattern (after = -len(pattern): just before the match). Exactly the bytes
before the trigger are forwarded (if part of a match had already been forwarded when the
match completed, the fault acts at once), then:

    cut    both sides are closed (rst=True: with a TCP reset instead of a FIN);
    stall  nothing more is forwarded in either direction, the sockets stay open (what
           arrives is read and dropped); when the client closes, the server side is
           closed too;
    delay  each chunk in that direction (from the trigger on) waits `delay` seconds
           before it is forwarded (`chunk` limits the bytes forwarded at once).

Every byte each side sent is recorded (ProxyConnection.c2s / .s2c, including what was
dropped after a fault), so a test can run a scenario once without faults, find an
offset (ProxyConnection.find(), e.g. inside a FETCH or APPEND literal), and replay the
scenario with a fault there. random_offsets() draws reproducible offsets from a seed;
protocol_line_ends() lists the boundaries between commands or responses.
"""

from __future__ import annotations

import random
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

DIRECTIONS = ('c2s', 's2c')
ACTIONS = ('cut', 'stall', 'delay')


@dataclass
class Fault:
    """One fault; see the module docstring."""

    action: str
    direction: str = 's2c'
    after: int = 0
    pattern: bytes | None = None
    occurrence: int = 1
    delay: float = 0.0
    chunk: int | None = None
    rst: bool = False

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f'unknown fault action {self.action!r} (one of {ACTIONS})')
        if self.direction not in DIRECTIONS:
            raise ValueError(f'unknown direction {self.direction!r} (one of {DIRECTIONS})')
        if isinstance(self.pattern, str):
            self.pattern = self.pattern.encode()
        least = -len(self.pattern) if self.pattern else 0
        if self.after < least or self.occurrence < 1:
            raise ValueError('after must be >= 0 (>= -len(pattern) with a pattern) and '
                             'occurrence >= 1')

    def describe(self) -> str:
        where = f'{self.after} bytes'
        if self.pattern is not None:
            where += f' after match {self.occurrence} of {self.pattern!r}'
        return f'{self.action} {self.direction} at {where}'


def random_offsets(seed: int, lo: int, hi: int, n: int) -> list[int]:
    """n distinct offsets in [lo, hi), sorted, the same for the same seed."""
    if hi - lo < n:
        raise ValueError(f'cannot draw {n} distinct offsets from [{lo}, {hi})')
    return sorted(random.Random(seed).sample(range(lo, hi), n))


def random_fault(seed: int, lo: int, hi: int, *, action: str = 'cut',
                 directions: tuple[str, ...] = DIRECTIONS) -> Fault:
    """A fault at a seeded random offset in [lo, hi) and a seeded random direction."""
    rng = random.Random(seed)
    return Fault(action, rng.choice(directions), after=rng.randrange(lo, hi))


_LITERAL_AT_END = re.compile(rb'~?\{(\d+)\+?\}\r?\n$')


def protocol_line_ends(data: bytes | bytearray) -> list[int]:
    """Offsets just past each line end of IMAP text in a recorded stream, skipping the
    contents of literals ({n} or {n+}): the places between commands or responses, or
    between a literal announcement and its bytes."""
    out = []
    pos = 0
    n = len(data)
    while pos < n:
        k = data.find(b'\n', pos)
        if k < 0:
            break
        end = k + 1
        out.append(end)
        m = _LITERAL_AT_END.search(bytes(data[max(pos, end - 24):end]))
        pos = end + int(m.group(1)) if m else end
    return out


class _Direction:
    """The state of one direction of one connection."""

    def __init__(self, name: str, faults: list[Fault], seen: bytearray):
        self.name = name
        self.seen = seen            # every byte received from the sender (the record)
        self.forwarded = 0          # bytes passed on to the receiver
        self.faults: list[Fault | None] = list(faults)
        self.trigger: dict[int, int] = {}  # fault index -> absolute trigger offset
        self.search_from: dict[int, int] = {}
        self.matches: dict[int, int] = {}
        self.delaying: Fault | None = None

    def compute_triggers(self) -> None:
        for i, f in enumerate(self.faults):
            if f is None or i in self.trigger:
                continue
            if f.pattern is None:
                self.trigger[i] = f.after
                continue
            pos = self.search_from.get(i, 0)
            while True:
                k = self.seen.find(f.pattern, pos)
                if k < 0:
                    self.search_from[i] = max(0, len(self.seen) - len(f.pattern) + 1)
                    break
                pos = k + 1
                self.matches[i] = self.matches.get(i, 0) + 1
                if self.matches[i] == f.occurrence:
                    self.trigger[i] = k + len(f.pattern) + f.after
                    break
                self.search_from[i] = pos

    def next_trigger(self) -> tuple[int, Fault] | None:
        """The earliest pending trigger at or after what was forwarded."""
        best = None
        for i, off in self.trigger.items():
            f = self.faults[i]
            if f is self.delaying:
                continue
            if best is None or off < best[0]:
                best = (off, f)
        return best

    def retire(self, fault: Fault) -> None:
        i = next(k for k, f in enumerate(self.faults) if f is fault)
        self.trigger.pop(i, None)
        self.faults[i] = None  # type: ignore[call-overload]


@dataclass
class ProxyConnection:
    """One proxied connection: what each side sent, and what happened to it."""

    index: int
    c2s: bytearray = field(default_factory=bytearray)
    s2c: bytearray = field(default_factory=bytearray)
    fault: Fault | None = None        # the cut or stall that hit it
    fault_offset: int | None = None   # where, in the fault's direction
    fault_time: float | None = None   # time.monotonic() when it hit
    closed_by: str | None = None      # 'client', 'server', 'cut', 'proxy'
    closed: threading.Event = field(default_factory=threading.Event)

    def data(self, direction: str) -> bytearray:
        return self.c2s if direction == 'c2s' else self.s2c

    def find(self, direction: str, pattern: bytes | str, occurrence: int = 1,
             start: int = 0) -> int:
        """Offset of the start of the occurrence-th match of pattern (-1 if absent)."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        data = self.data(direction)
        pos = start - 1
        for _ in range(occurrence):
            pos = data.find(pattern, pos + 1)
            if pos < 0:
                return -1
        return pos

    def find_all(self, direction: str, pattern: bytes | str) -> list[int]:
        if isinstance(pattern, str):
            pattern = pattern.encode()
        data = self.data(direction)
        out, pos = [], data.find(pattern)
        while pos >= 0:
            out.append(pos)
            pos = data.find(pattern, pos + 1)
        return out


class FaultProxy:
    """A fault-injecting TCP proxy in front of target_host:target_port."""

    def __init__(self, target_host: str, target_port: int, *, host: str = '127.0.0.1',
                 recv_size: int = 65536):
        self.target = (target_host, target_port)
        self.host = host
        self.port: int | None = None
        self.recv_size = recv_size
        self.connections: list[ProxyConnection] = []
        self._faults_for: dict[int, list[Fault]] = {}
        self._faults_every: list[Fault] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()
        self._states: list[_ConnState] = []
        self._stopping = False

    # ------------------------------------------------------------------ config

    @property
    def address(self) -> str:
        """'host:port' as our binary names the server in its messages."""
        return f'{self.host}:{self.port}'

    def add(self, fault: Fault, conn: int | None = None) -> Fault:
        """Apply fault to connection number conn (1, 2, ...) or, with None, to every
        connection accepted from now on."""
        with self._lock:
            if conn is None:
                self._faults_every.append(fault)
            else:
                if conn < 1:
                    raise ValueError('connections are numbered from 1')
                self._faults_for.setdefault(conn, []).append(fault)
        return fault

    def clear(self) -> None:
        """Forget every fault not yet bound to an accepted connection."""
        with self._lock:
            self._faults_for.clear()
            self._faults_every.clear()

    def reset(self) -> None:
        """clear() and forget the recorded connections (numbering restarts at 1)."""
        with self._lock:
            self._faults_for.clear()
            self._faults_every.clear()
            self.connections = []

    # ------------------------------------------------------------------ life cycle

    def start(self) -> 'FaultProxy':
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((self.host, 0))
        ls.listen(64)
        self.port = ls.getsockname()[1]
        self._listener = ls
        t = threading.Thread(target=self._accept_loop, name='faultproxy-accept', daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stopping = True
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            socks = list(self._sockets)
        for s in socks:
            _close(s)
        for t in self._threads:
            t.join(timeout=5)
        for c in self.connections:
            if not c.closed.is_set():
                c.closed_by = c.closed_by or 'proxy'
                c.closed.set()

    def __enter__(self) -> 'FaultProxy':
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def cut_all(self, rst: bool = False) -> int:
        """Cut every open connection now (as a server crash or a lost route does);
        returns how many were cut."""
        with self._lock:
            states = list(self._states)
        for st in states:
            st._act('c2s', Fault('cut', 'c2s', rst=rst), len(st.conn.c2s))
        return len(states)

    def stall_all(self) -> int:
        """Stop forwarding on every open connection, leaving it open and silent (a
        suspended peer, a NAT that forgot the connection); returns how many."""
        with self._lock:
            states = list(self._states)
        for st in states:
            st._act('c2s', Fault('stall', 'c2s'), len(st.conn.c2s))
        return len(states)

    def wait_closed(self, timeout: float = 10) -> bool:
        """Wait until every connection accepted so far is closed."""
        end = time.monotonic() + timeout
        for c in list(self.connections):
            if not c.closed.wait(max(0.0, end - time.monotonic())):
                return False
        return True

    # ------------------------------------------------------------------ internals

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                client, _addr = self._listener.accept()  # type: ignore[union-attr]
            except OSError:
                return
            with self._lock:
                conn = ProxyConnection(index=len(self.connections) + 1)
                self.connections.append(conn)
                faults = list(self._faults_every) + list(self._faults_for.get(conn.index, []))
            t = threading.Thread(target=self._serve, args=(conn, client, faults),
                                 name=f'faultproxy-{conn.index}', daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: ProxyConnection, client: socket.socket, faults: list[Fault]) -> None:
        try:
            server = socket.create_connection(self.target, timeout=10)
        except OSError:
            _close(client)
            conn.closed_by = 'server'
            conn.closed.set()
            return
        server.settimeout(None)
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._sockets.update((client, server))
        state = _ConnState(conn, client, server, faults, self.recv_size)
        with self._lock:
            self._states.append(state)
        t = threading.Thread(target=state.pump, args=('s2c',), name=f'faultproxy-{conn.index}-s2c',
                             daemon=True)
        t.start()
        state.pump('c2s')
        t.join()
        with self._lock:
            self._sockets.discard(client)
            self._sockets.discard(server)
            if state in self._states:
                self._states.remove(state)
        _close(client)
        _close(server)
        conn.closed.set()


class _ConnState:
    def __init__(self, conn: ProxyConnection, client: socket.socket, server: socket.socket,
                 faults: list[Fault], recv_size: int):
        self.conn = conn
        self.client = client
        self.server = server
        self.recv_size = recv_size
        self.dirs = {d: _Direction(d, [f for f in faults if f.direction == d], conn.data(d))
                     for d in DIRECTIONS}
        self.lock = threading.Lock()
        self.cut = False
        self.stalled = False
        self.eof = {d: False for d in DIRECTIONS}

    def _act(self, direction: str, fault: Fault, offset: int) -> None:
        with self.lock:
            if self.cut or self.stalled:
                return
            c = self.conn
            c.fault, c.fault_offset, c.fault_time = fault, offset, time.monotonic()
            if fault.action == 'cut':
                self.cut = True
                c.closed_by = 'cut'
                for s in (self.client, self.server):
                    if fault.rst:
                        try:
                            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                         struct.pack('ii', 1, 0))
                        except OSError:
                            pass
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            elif fault.action == 'stall':
                self.stalled = True

    def pump(self, direction: str) -> None:
        src, dst = (self.client, self.server) if direction == 'c2s' else (self.server, self.client)
        d = self.dirs[direction]
        while True:
            size = self.recv_size
            if d.delaying and d.delaying.chunk:
                size = d.delaying.chunk
            try:
                data = src.recv(size)
            except OSError:
                data = b''
            if not data:
                self._eof(direction)
                return
            d.seen += data
            d.compute_triggers()
            pos = 0
            while pos < len(data):
                if self.cut:
                    return
                if self.stalled:
                    break  # read and dropped: the receiver never sees it
                base = d.forwarded
                nxt = d.next_trigger()
                end = len(data)
                if nxt is not None and nxt[0] < base + (end - pos):
                    end = pos + max(0, nxt[0] - base)
                if d.delaying is not None and end > pos:
                    step = d.delaying.chunk or (end - pos)
                    end = min(end, pos + step)
                    time.sleep(d.delaying.delay)
                if end > pos:
                    try:
                        dst.sendall(data[pos:end])
                    except OSError:
                        self._eof(direction)
                        return
                    d.forwarded += end - pos
                    pos = end
                if nxt is not None and d.forwarded >= nxt[0]:
                    f = nxt[1]
                    d.retire(f)
                    if f.action == 'delay':
                        d.delaying = f
                        continue
                    self._act(direction, f, d.forwarded)
                    if self.cut:
                        return

    def _eof(self, direction: str) -> None:
        """The sender of `direction` closed (or the socket broke)."""
        with self.lock:
            self.eof[direction] = True
            if self.cut:
                return
            c = self.conn
            if c.closed_by is None:
                c.closed_by = 'client' if direction == 'c2s' else 'server'
            if self.stalled and direction == 's2c':
                # A stalled connection stays open towards the client until it gives up.
                return
            # Pass the close on: the other side sees EOF, and both pumps end.
            for s in (self.client, self.server):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


def write_proxied_config(setup, proxy: FaultProxy, **kw):
    """setup.write_config(...) with remotehost/remoteport pointing at the proxy."""
    return setup.write_config(host=proxy.host, port=proxy.port, **kw)
