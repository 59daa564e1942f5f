"""A scripted IMAP server, for what a real server will not do on request.

    script = [*login(), *list_folders(['INBOX']), *select('INBOX', exists=2),
              Step(r'UID FETCH 1:\\* \\(UID FLAGS\\)',
                   b'* 1 FETCH (UID 0 FLAGS ())\\r\\n', b'$TAG OK done\\r\\n')]
    with FakeIMAP(script) as srv:
        setup.write_config(host=srv.host, port=srv.port)
        r = setup.sync(ok=False)
    srv.connections[0].commands      # [(tag, b'LOGIN ...'), ...]
    srv.connections[0].unexpected    # commands that matched no step (answered BAD)

The server listens on 127.0.0.1 (plain TCP, a free port) and serves each connection in
a thread. Connection n (from 1) follows scripts[n-1]; connections beyond the last
script follow the last one.

A connection first plays its greeting (default: "* OK" with a CAPABILITY code), then
reads commands. A command is a line "TAG TEXT" with any literals ({n} or {n+}) read
and inlined ("+ go ahead" is sent for synchronizing ones). The text without the tag
is matched (re.fullmatch, case-insensitive, DOTALL, on the latin-1 decoding) against
the script's next step:

    Step(pattern, *actions, optional=False)

On a match the actions run and the script moves on. An optional step that does not
match is skipped. A command that does not match the next step is tried against the
standing handlers (CAPABILITY, NOOP, LOGOUT, and a final CHECK/UNSELECT/CLOSE "OK");
failing those it is answered "TAG BAD" and recorded in `unexpected`.

Actions: bytes (sent as they are, "$TAG" replaced by the command's tag), Close(),
Hold(seconds or None = until the client closes), StartTLS(cert, key) (wrap the socket
in TLS, server side), or a callable(tag, text, conn) returning bytes or a list of
actions. Helpers build the usual exchanges: login(), list_folders(), select(),
fetch_flags(), fetch_bodies(), fetch_line().
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence, Union

DEFAULT_CAPS = 'IMAP4rev1 LITERAL+ UIDPLUS'
CRLF = b'\r\n'
MAX_COMMAND = 64 << 20


# ----------------------------------------------------------------------------- actions


@dataclass
class Close:
    """Close the connection (after what was sent before)."""
    rst: bool = False


@dataclass
class Hold:
    """Keep the connection open, sending nothing, for `seconds` (None: until the client
    closes it or the server stops), then go on with the next action."""
    seconds: float | None = None


@dataclass
class StartTLS:
    """Wrap the connection in TLS (server side) with this certificate and key."""
    cert: str
    key: str


Action = Union[bytes, Close, Hold, StartTLS, Callable]


class Step:
    """One expected command and what to do about it."""

    def __init__(self, pattern: str | bytes, *actions: Action, optional: bool = False,
                 name: str | None = None):
        if isinstance(pattern, bytes):
            pattern = pattern.decode('latin-1')
        self.pattern = pattern
        self.regex = re.compile(pattern, re.IGNORECASE | re.DOTALL)
        self.actions = list(actions)
        self.optional = optional
        self.name = name or pattern

    def matches(self, text: str) -> bool:
        return self.regex.fullmatch(text) is not None

    def __repr__(self) -> str:
        return f'Step({self.name!r}{", optional" if self.optional else ""})'


# ----------------------------------------------------------------------------- helpers


def ok(text: str = 'done', code: str | None = None) -> bytes:
    """A tagged OK for the current command."""
    c = f'[{code}] ' if code else ''
    return f'$TAG OK {c}{text}\r\n'.encode()


def greeting(caps: str = DEFAULT_CAPS, text: str = 'Fake IMAP ready') -> bytes:
    return f'* OK [CAPABILITY {caps}] {text}\r\n'.encode()


def login(caps: str = DEFAULT_CAPS) -> list[Step]:
    """CAPABILITY (optional) and LOGIN / AUTHENTICATE PLAIN, answered OK with caps."""
    return [
        Step(r'CAPABILITY', f'* CAPABILITY {caps}\r\n'.encode(), ok(), optional=True,
             name='CAPABILITY'),
        Step(r'(LOGIN|AUTHENTICATE PLAIN) .*', ok('Logged in', f'CAPABILITY {caps}'),
             name='LOGIN'),
    ]


def _quote(name: str) -> str:
    return '"' + name.replace('\\', '\\\\').replace('"', '\\"') + '"'


def list_folders(folders: Iterable[str], sep: str = '.') -> list[Step]:
    """LIST "" "" (the separator query, optional) and LIST "" "*" naming `folders`."""
    lines = b''.join(f'* LIST (\\HasNoChildren) {_quote(sep)} {_quote(f)}\r\n'.encode()
                     for f in folders)
    return [
        Step(r'LIST "" ""', f'* LIST (\\Noselect) {_quote(sep)} ""\r\n'.encode(), ok(),
             optional=True, name='LIST ""'),
        Step(r'LIST "" "\*"( RETURN .*)?', lines, ok(), name='LIST *'),
    ]


def folder_pattern(folder: str) -> str:
    """Regex for a mailbox argument: atom or quoted string."""
    return f'(?:{re.escape(folder)}|"{re.escape(folder)}")'


def select(folder: str, exists: int = 0, *, uidvalidity: int = 1, uidnext: int | None = None,
           answer: bytes | None = None) -> Step:
    """SELECT (or EXAMINE) folder, answered like Dovecot; `answer` replaces the tagged OK
    (e.g. b'$TAG NO [NONEXISTENT] Mailbox does not exist\\r\\n')."""
    if uidnext is None:
        uidnext = exists + 1
    if answer is not None:
        return Step(rf'(SELECT|EXAMINE) {folder_pattern(folder)}', answer,
                    name=f'SELECT {folder}')
    data = (b'* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n'
            b'* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Ok\r\n'
            + f'* {exists} EXISTS\r\n* 0 RECENT\r\n'
              f'* OK [UIDVALIDITY {uidvalidity}] UIDs valid\r\n'
              f'* OK [UIDNEXT {uidnext}] Predicted next UID\r\n'.encode())
    return Step(rf'(SELECT|EXAMINE) {folder_pattern(folder)}', data,
                ok('Select completed', 'READ-WRITE'), name=f'SELECT {folder}')


def fetch_line(seq: int, uid: int | None, flags: Sequence[str] = (),
               body: bytes | None = None, *, literal_size: int | None = None) -> bytes:
    """"* seq FETCH (UID uid FLAGS (...) [BODY[] {n}\\r\\n<body>])\\r\\n"; with
    literal_size, the announced size is that (and the body bytes are sent as given,
    with no closing parenthesis: the caller decides what follows)."""
    items = []
    if uid is not None:
        items.append(f'UID {uid}')
    items.append(f'FLAGS ({" ".join(flags)})')
    head = f'* {seq} FETCH ({" ".join(items)}'.encode()
    if body is None:
        return head + b')\r\n'
    if literal_size is not None:
        return head + f' BODY[] {{{literal_size}}}\r\n'.encode() + body
    return head + f' BODY[] {{{len(body)}}}\r\n'.encode() + body + b')\r\n'


def fetch_flags(msgs: Mapping[int, Sequence[str]], *, extra: Iterable[Action] = (),
                pattern: str = r'UID FETCH 1:\* \(UID FLAGS[^)]*\)') -> Step:
    """The listing: UID FETCH 1:* (UID FLAGS ...) answered with msgs {uid: flags}
    (sequence numbers in order), then `extra` actions, then OK."""
    lines = b''.join(fetch_line(i + 1, uid, fl) for i, (uid, fl) in enumerate(msgs.items()))
    return Step(pattern, lines, *extra, ok('Fetch completed'), name='UID FETCH (UID FLAGS)')


def fetch_bodies(msgs: Mapping[int, bytes], flags: Mapping[int, Sequence[str]] | None = None,
                 *, seqs: Mapping[int, int] | None = None,
                 pattern: str = r'UID FETCH [0-9:,]+ \(UID FLAGS BODY\.PEEK\[\]\)') -> Step:
    """The body fetch: every message of msgs {uid: bytes}, then OK."""
    seqs = seqs or {uid: i + 1 for i, uid in enumerate(sorted(msgs))}
    out = b''.join(fetch_line(seqs[uid], uid, (flags or {}).get(uid, ()), body)
                   for uid, body in msgs.items())
    return Step(pattern, out, ok('Fetch completed'), name='UID FETCH BODY')


def standing_handlers(caps: str = DEFAULT_CAPS) -> list[Step]:
    """Answers to commands that may come at any point."""
    return [
        Step(r'CAPABILITY', f'* CAPABILITY {caps}\r\n'.encode(), ok(), name='CAPABILITY'),
        Step(r'NOOP|CHECK|UNSELECT|CLOSE', ok(), name='NOOP'),
        Step(r'LOGOUT', b'* BYE Logging out\r\n', ok('Logout completed'), Close(),
             name='LOGOUT'),
    ]


# ----------------------------------------------------------------------------- server


@dataclass
class FakeConnection:
    """What happened on one connection."""
    index: int
    commands: list[tuple[str, bytes]] = field(default_factory=list)
    unexpected: list[tuple[str, bytes]] = field(default_factory=list)
    received: bytearray = field(default_factory=bytearray)
    sent: bytearray = field(default_factory=bytearray)
    steps_done: list[str] = field(default_factory=list)
    steps_left: list[str] = field(default_factory=list)
    error: str | None = None          # a failure of the fake server itself
    tls_error: str | None = None      # the TLS handshake of StartTLS() failed
    closed: threading.Event = field(default_factory=threading.Event)

    def texts(self) -> list[str]:
        """The commands (without tags), decoded as latin-1."""
        return [t.decode('latin-1') for _tag, t in self.commands]

    def sent_command(self, pattern: str) -> bool:
        rx = re.compile(pattern, re.IGNORECASE | re.DOTALL)
        return any(rx.fullmatch(t) for t in self.texts())


class _Closed(Exception):
    pass


class FakeIMAP:
    """A scripted IMAP server; see the module docstring."""

    def __init__(self, *scripts: Sequence[Step], greeting_actions: Sequence[Action] | None = None,
                 caps: str = DEFAULT_CAPS, standing: Sequence[Step] | None = None,
                 host: str = '127.0.0.1', greetings: Sequence[Sequence[Action]] | None = None):
        if not scripts:
            scripts = ([],)
        self.scripts = [list(s) for s in scripts]
        self.caps = caps
        default_greeting = [greeting(caps)] if greeting_actions is None else list(greeting_actions)
        self.greetings = [list(g) for g in greetings] if greetings else [default_greeting]
        self.standing = list(standing) if standing is not None else standing_handlers(caps)
        self.host = host
        self.port: int | None = None
        self.connections: list[FakeConnection] = []
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._socks: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    @property
    def address(self) -> str:
        return f'{self.host}:{self.port}'

    def start(self) -> 'FakeIMAP':
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((self.host, 0))
        ls.listen(16)
        self.port = ls.getsockname()[1]
        self._listener = ls
        t = threading.Thread(target=self._accept_loop, name='fakeimap-accept', daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self._threads:
            t.join(timeout=5)

    def __enter__(self) -> 'FakeIMAP':
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def all_unexpected(self) -> list[tuple[int, str, bytes]]:
        return [(c.index, tag, t) for c in self.connections for tag, t in c.unexpected]

    def describe(self) -> str:
        """A transcript summary for assertion messages."""
        out = []
        for c in self.connections:
            out.append(f'connection {c.index}: steps done {c.steps_done}, left {c.steps_left}'
                       + (f', error {c.error}' if c.error else ''))
            for tag, t in c.commands:
                mark = ' (unexpected)' if (tag, t) in c.unexpected else ''
                out.append(f'  {tag} {t[:200].decode("latin-1")!r}{mark}')
        return '\n'.join(out)

    # ------------------------------------------------------------------ internals

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()  # type: ignore[union-attr]
            except OSError:
                return
            with self._lock:
                conn = FakeConnection(index=len(self.connections) + 1)
                self.connections.append(conn)
                self._socks.add(sock)
            t = threading.Thread(target=self._serve, args=(conn, sock),
                                 name=f'fakeimap-{conn.index}', daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: FakeConnection, sock: socket.socket) -> None:
        i = conn.index - 1
        script = list(self.scripts[min(i, len(self.scripts) - 1)])
        greet = self.greetings[min(i, len(self.greetings) - 1)]
        io = _IO(self, conn, sock)
        conn.steps_left = [s.name for s in script]
        try:
            io.run_actions(greet, '*', '')
            while True:
                tag, text = io.read_command()
                conn.commands.append((tag, text))
                stext = text.decode('latin-1')
                step = None
                while script:
                    if script[0].matches(stext):
                        step = script.pop(0)
                        break
                    if script[0].optional:
                        script.pop(0)
                        continue
                    break
                if step is not None:
                    conn.steps_done.append(step.name)
                    conn.steps_left = [s.name for s in script]
                else:
                    step = next((s for s in self.standing if s.matches(stext)), None)
                if step is None:
                    conn.unexpected.append((tag, text))
                    io.send(f'{tag} BAD Unexpected command (fake server)\r\n'.encode())
                    continue
                io.run_actions(step.actions, tag, stext)
        except _Closed:
            pass
        except Exception as ex:  # a harness bug: keep it for the test to see
            conn.error = f'{type(ex).__name__}: {ex}'
        finally:
            io.close()
            with self._lock:
                self._socks.discard(sock)
                if io.sock is not sock:
                    self._socks.discard(io.sock)
            conn.closed.set()


class _IO:
    def __init__(self, server: FakeIMAP, conn: FakeConnection, sock: socket.socket):
        self.server = server
        self.conn = conn
        self.sock: socket.socket = sock
        self.buf = bytearray()

    def close(self, rst: bool = False) -> None:
        if rst:
            try:
                import struct
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            except OSError:
                pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as ex:
            raise _Closed() from ex
        self.conn.sent += data

    def _fill(self) -> None:
        try:
            data = self.sock.recv(65536)
        except OSError as ex:
            raise _Closed() from ex
        if not data:
            raise _Closed()
        self.conn.received += data
        self.buf += data

    def _line(self) -> bytes:
        while True:
            k = self.buf.find(b'\n')
            if k >= 0:
                line = bytes(self.buf[:k + 1])
                del self.buf[:k + 1]
                return line
            if len(self.buf) > MAX_COMMAND:
                raise _Closed()
            self._fill()

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_command(self) -> tuple[str, bytes]:
        text = bytearray()
        while True:
            line = self._line()
            body = line[:-2] if line.endswith(b'\r\n') else line[:-1]
            m = re.search(rb'~?\{(\d+)(\+?)\}$', body)
            if not m:
                text += body
                break
            text += body + b'\r\n'
            n = int(m.group(1))
            if n > MAX_COMMAND:
                raise _Closed()
            if not m.group(2):
                self.send(b'+ go ahead\r\n')
            text += self._exact(n)
        tag, _, rest = bytes(text).partition(b' ')
        return tag.decode('latin-1'), rest

    def run_actions(self, actions: Iterable[Action], tag: str, text: str) -> None:
        for a in actions:
            if callable(a) and not isinstance(a, (Close, Hold, StartTLS)):
                res = a(tag, text, self.conn)
                if res is None:
                    continue
                self.run_actions([res] if isinstance(res, (bytes, bytearray)) else res, tag, text)
            elif isinstance(a, (bytes, bytearray)):
                self.send(bytes(a).replace(b'$TAG', tag.encode()))
            elif isinstance(a, Close):
                self.close(rst=a.rst)
                raise _Closed()
            elif isinstance(a, Hold):
                self._hold(a.seconds)
            elif isinstance(a, StartTLS):
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(a.cert, a.key)
                try:
                    self.sock = ctx.wrap_socket(self.sock, server_side=True)
                except (OSError, ssl.SSLError) as ex:
                    self.conn.tls_error = f'TLS handshake failed: {ex}'
                    raise _Closed() from ex
                with self.server._lock:
                    self.server._socks.add(self.sock)
            else:
                raise TypeError(f'unknown action {a!r}')

    def _hold(self, seconds: float | None) -> None:
        """Send nothing; keep reading (and recording) what the client sends."""
        end = None if seconds is None else time.monotonic() + seconds
        while not self.server._stopping.is_set():
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                return
            self.sock.settimeout(0.1 if left is None else min(0.1, left))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as ex:
                raise _Closed() from ex
            finally:
                self.sock.settimeout(None)
            if not data:
                raise _Closed()
            self.conn.received += data
            self.buf += data
        raise _Closed()
