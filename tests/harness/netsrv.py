"""Small servers on 127.0.0.1 that the connection and login tests need.

    with Proxy('SOCKS5', hosts={'imap.example.test': '127.0.0.1'}) as px:
        ...  # proxy = SOCKS5:127.0.0.1:<px.port>; px.requests lists (host, port) asked for
    with OAuthServer(users={'test': 'refresh-1'}) as oa:
        ...  # oa.token_url, oa.introspect_url; oa.issue('test', lifetime) -> access token

Proxy speaks SOCKS5 (no authentication), SOCKS4/4a or HTTP CONNECT, resolves the names
given in `hosts` itself (so a test can use a name that is not loopback to the client) and
relays bytes both ways. OAuthServer is an OAuth2 token endpoint (grant_type=refresh_token,
RFC 6749 6) and a token introspection endpoint (RFC 7662, POST token=...) for Dovecot's
oauth2 passdb; it remembers every request it served. Both run in daemon threads, accept
only from 127.0.0.1, and stop when their `with` block ends.
"""

from __future__ import annotations

import json
import secrets
import socket
import socketserver
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Mapping


class _ThreadingTCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b''
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError('peer closed')
        data += chunk
    return data


def _relay(a: socket.socket, b: socket.socket) -> None:
    def pump(src, dst):
        try:
            while True:
                d = src.recv(65536)
                if not d:
                    break
                dst.sendall(d)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
    t = threading.Thread(target=pump, args=(b, a), daemon=True)
    t.start()
    pump(a, b)
    t.join(timeout=30)


class Proxy:
    """A SOCKS5, SOCKS4 or HTTP CONNECT proxy on 127.0.0.1."""

    def __init__(self, kind: str, hosts: Mapping[str, str] | None = None,
                 refuse: bool = False):
        if kind not in ('SOCKS5', 'SOCKS4', 'HTTP'):
            raise ValueError(kind)
        self.kind = kind
        self.hosts = dict(hosts or {})
        self.refuse = refuse
        self.requests: list[tuple[str, int]] = []
        self.bytes_relayed = 0
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                try:
                    proxy._handle(self.request)
                except (OSError, ConnectionError):
                    pass

        self._server = _ThreadingTCP(('127.0.0.1', 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def option(self) -> str:
        """The value of offlineimap's proxy option for this proxy."""
        return f'{self.kind}:127.0.0.1:{self.port}'

    def _connect(self, host: str, port: int) -> socket.socket | None:
        self.requests.append((host, port))
        if self.refuse:
            return None
        try:
            return socket.create_connection((self.hosts.get(host, host), port), timeout=10)
        except OSError:
            return None

    def _handle(self, c: socket.socket) -> None:
        if self.kind == 'SOCKS5':
            ver, n = _recv_exact(c, 2)
            methods = _recv_exact(c, n)
            if ver != 5 or 0 not in methods:
                c.sendall(b'\x05\xff')
                return
            c.sendall(b'\x05\x00')
            ver, cmd, _rsv, atyp = _recv_exact(c, 4)
            if atyp == 1:
                host = socket.inet_ntop(socket.AF_INET, _recv_exact(c, 4))
            elif atyp == 4:
                host = socket.inet_ntop(socket.AF_INET6, _recv_exact(c, 16))
            else:
                host = _recv_exact(c, _recv_exact(c, 1)[0]).decode()
            port = struct.unpack('>H', _recv_exact(c, 2))[0]
            up = self._connect(host, port)
            if up is None:
                c.sendall(b'\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00')
                return
            c.sendall(b'\x05\x00\x00\x01\x7f\x00\x00\x01' + struct.pack('>H', port))
        elif self.kind == 'SOCKS4':
            vn, cd = _recv_exact(c, 2)
            port = struct.unpack('>H', _recv_exact(c, 2))[0]
            ip = _recv_exact(c, 4)
            user = b''
            while (ch := _recv_exact(c, 1)) != b'\x00':
                user += ch
            if ip[:3] == b'\x00\x00\x00' and ip[3] != 0:
                name = b''
                while (ch := _recv_exact(c, 1)) != b'\x00':
                    name += ch
                host = name.decode()
            else:
                host = socket.inet_ntoa(ip)
            up = self._connect(host, port)
            if up is None:
                c.sendall(b'\x00\x5b' + b'\x00' * 6)
                return
            c.sendall(b'\x00\x5a' + b'\x00' * 6)
        else:
            head = b''
            while not head.endswith(b'\r\n\r\n'):
                head += _recv_exact(c, 1)
                if len(head) > 16384:
                    return
            line = head.split(b'\r\n', 1)[0].decode()
            method, target, _ver = line.split(' ')
            if method != 'CONNECT':
                c.sendall(b'HTTP/1.1 405 Method Not Allowed\r\n\r\n')
                return
            host, _, port = target.rpartition(':')
            up = self._connect(host.strip('[]'), int(port))
            if up is None:
                c.sendall(b'HTTP/1.1 502 Bad Gateway\r\n\r\n')
                return
            c.sendall(b'HTTP/1.1 200 Connection established\r\n\r\n')
        with up:
            _relay(c, up)

    def __enter__(self) -> 'Proxy':
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class OAuthServer:
    """OAuth2 token and introspection endpoints (plain HTTP on 127.0.0.1).

    users maps a user name to its valid refresh token; the client must send
    client_id/client_secret. Access tokens are random; each has a user and an expiry.
    """

    CLIENT_ID = 'test-client-id'
    CLIENT_SECRET = 'test-client-secret'

    def __init__(self, users: Mapping[str, str], lifetime: int = 3600,
                 rotate: bool = False):
        self.refresh_tokens = dict(users)  # user -> refresh token
        self.lifetime = lifetime
        self.rotate = rotate
        self.tokens: dict[str, tuple[str, float]] = {}  # access token -> (user, expiry)
        self.token_requests: list[dict[str, str]] = []
        self.introspections: list[str] = []
        self._lock = threading.Lock()
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, obj) -> None:
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get('Content-Length', '0'))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(n).decode()))
                if self.path == '/token':
                    status, obj = srv._token(form)
                elif self.path == '/introspect':
                    status, obj = srv._introspect(form.get('token', ''))
                else:
                    status, obj = 404, {'error': 'not_found'}
                self._reply(status, obj)

        self._server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.token_url = f'http://127.0.0.1:{self.port}/token'
        self.introspect_url = f'http://127.0.0.1:{self.port}/introspect'
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def issue(self, user: str, lifetime: float | None = None) -> str:
        """A new access token for user, valid for lifetime seconds (negative: expired)."""
        tok = 'at-' + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[tok] = (user, time.time() + (self.lifetime if lifetime is None
                                                     else lifetime))
        return tok

    def _token(self, form: dict[str, str]) -> tuple[int, dict]:
        with self._lock:
            self.token_requests.append(form)
        if form.get('grant_type') != 'refresh_token':
            return 400, {'error': 'unsupported_grant_type'}
        if (form.get('client_id') != self.CLIENT_ID
                or form.get('client_secret') != self.CLIENT_SECRET):
            return 401, {'error': 'invalid_client'}
        user = next((u for u, rt in self.refresh_tokens.items()
                     if rt == form.get('refresh_token')), None)
        if user is None:
            return 400, {'error': 'invalid_grant',
                         'error_description': 'Token has been expired or revoked.'}
        ans = {'access_token': self.issue(user), 'expires_in': self.lifetime,
               'token_type': 'Bearer'}
        if self.rotate:
            new = 'rt-' + secrets.token_urlsafe(16)
            with self._lock:
                self.refresh_tokens[user] = new
            ans['refresh_token'] = new
        return 200, ans

    def _introspect(self, token: str) -> tuple[int, dict]:
        with self._lock:
            self.introspections.append(token)
            user, exp = self.tokens.get(token, (None, 0))
        if user is None or exp <= time.time():
            return 200, {'active': False}
        return 200, {'active': True, 'username': user}

    def dovecot_conf(self, path) -> str:
        """Dovecot settings: the XOAUTH2 and OAUTHBEARER mechanisms checked by this server
        (write the returned passdb block into extra_conf; `path` gets the args file)."""
        from pathlib import Path
        Path(path).write_text(
            f'introspection_mode = post\n'
            f'introspection_url = {self.introspect_url}\n'
            f'username_attribute = username\n'
            f'active_attribute = active\n'
            f'active_value = true\n'
            f'force_introspection = yes\n')
        Path(path).chmod(0o644)
        return (f'passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n'
                f'  args = {path}\n}}\n')

    def __enter__(self) -> 'OAuthServer':
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
