"""A private, throwaway Dovecot IMAP server for integration tests.

    with Dovecot(tmpdir) as dc:
        uid = dc.append('INBOX', msg, flags=('\\Seen',))
        dc.messages('INBOX')  # {uid: ({'\\Seen'}, b'...CRLF...')}

The instance is self-contained: its dovecot.conf includes nothing from /etc/dovecot, its
sockets, state and log live under `basedir`, and it listens on free ports on 127.0.0.1.
It runs in the foreground (`dovecot -F`) as a child of the test process, so a failed
start (for example a port taken by someone else between our probe and Dovecot's bind) is
seen at once and retried on other ports.

Root and normal users are both supported. As root, mail is accessed as nobody/nogroup
and the login/internal users are Dovecot's own (dovenull, dovecot); `basedir` and its
parents must then be traversable by those users (see make_basedir()). As a normal user,
every Dovecot user setting is the current user.

Facts: /work/shared/DOVECOT.md.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import grp
import imaplib
import os
import pwd
import random
import re
import shutil
import signal
import socket
import ssl as _ssl
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Iterable, Mapping

from .imaputil import check as _check
from .imaputil import flag_list as _flag_list
from .imaputil import mutf7_encode, parse_fetch, parse_list, quote
from .imaputil import uidset as _uidset
from .tls import cert_fingerprint, make_test_ca

DOVECOT = '/usr/sbin/dovecot'
IMAP_BINARY = '/usr/lib/dovecot/imap'

# Dovecot 2.3's post-login CAPABILITY_STRING, used when it cannot be read from the imap
# binary. Dovecot appends LITERAL+, NOTIFY and the plugins' capabilities (COMPRESS=DEFLATE)
# to it, but only when imap_capability is unset: an explicit imap_capability replaces all
# of them (seen with 2.3.19), so our override lists them itself.
_FALLBACK_CAPABILITY = (
    'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY '
    'THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL '
    'CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE '
    'QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE '
    'SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE')

DEFAULT_AUTH_MECHANISMS = ('plain', 'login', 'cram-md5', 'scram-sha-1', 'scram-sha-256')

# Unix socket paths are limited to 108 bytes; Dovecot's longest name under base_dir is
# about 40 bytes.
_MAX_RUN_DIR = 60

_instance_lock = threading.Lock()
_instance_counter = 0
_running: 'weakref.WeakSet[Dovecot]' = weakref.WeakSet()


def _stop_all() -> None:
    """At interpreter exit, stop instances nobody stopped (an aborted test run)."""
    for dc in list(_running):
        try:
            dc.stop()
        except Exception:
            pass


atexit.register(_stop_all)

_tls_cache: dict[str, dict[str, Path]] = {}
_tls_cache_dir: Path | None = None


def _cached_test_ca(key_type: str) -> dict[str, Path]:
    """One CA and server certificate per process and key type (openssl takes ~60 ms);
    each instance gets copies in <basedir>/tls. Call tls.make_test_ca() for another."""
    global _tls_cache_dir
    with _instance_lock:
        if key_type not in _tls_cache:
            if _tls_cache_dir is None:
                _tls_cache_dir = Path(tempfile.mkdtemp(prefix='oimap-tls-'))
                atexit.register(shutil.rmtree, _tls_cache_dir, True)
            _tls_cache[key_type] = make_test_ca(_tls_cache_dir / key_type, key_type=key_type)
        return _tls_cache[key_type]


class DovecotError(RuntimeError):
    """Dovecot could not be configured, started or stopped."""


# --------------------------------------------------------------------------------------
# Small helpers: base directories, ports, capability list, IMAP quoting, modified UTF-7


def make_basedir(prefix: str = 'oimap-dc-', parent: str | None = None) -> Path:
    """Create a fresh directory usable as a Dovecot basedir and return it.

    It lives in a world-traversable place (default: the system temp dir, not pytest's
    0700 tmp_path) with mode 0755, because Dovecot's auth worker and mail processes run
    as other users when the tests run as root. The caller removes it.
    """
    d = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    d.chmod(0o755)
    return d


def _check_traversable(path: Path, users: Iterable[str]) -> None:
    """Raise if one of `users` cannot reach `path` (execute bit on every ancestor)."""
    if os.geteuid() != 0:
        return
    for anc in [path, *path.parents]:
        st = anc.stat()
        if not st.st_mode & 0o001:
            raise DovecotError(
                f'{anc} (mode {st.st_mode & 0o7777:o}) is not traversable by the Dovecot '
                f'users {", ".join(users)}: use harness.dovecot.make_basedir() for the '
                f'basedir, or chmod o+x its parents.')


_port_rng = random.Random(os.getpid() ^ time.time_ns())
_ports_given: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in
                  Path('/proc/sys/net/ipv4/ip_local_port_range').read_text().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def _worker_slice(lo: int, hi: int) -> tuple[int, int]:
    """The part of [lo, hi) this process draws from: all of it, or under pytest-xdist
    (make integ runs `-n N`) the worker's own 1/N, so that parallel workers never pick
    the same port (a restart on the same ports, or a port checked to be closed after a
    stop, cannot meet another worker's server)."""
    try:
        count = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
        index = int(os.environ.get('PYTEST_XDIST_WORKER', 'gw0').removeprefix('gw'))
    except ValueError:
        return lo, hi
    if count <= 1 or not 0 <= index < count:
        return lo, hi
    width = (hi - lo) // count
    return lo + index * width, lo + (index + 1) * width


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    Drawn at random below the kernel's ephemeral range, so outgoing connections (which
    take ephemeral ports) cannot grab it before Dovecot binds it, never the same port
    twice in one process, and under pytest-xdist from this worker's own share of the
    range (_worker_slice). Falls back to a kernel-chosen port.
    """
    lo, _hi = _ephemeral_range()
    if lo > 12000:
        first, end = _worker_slice(10000, lo)
        for _ in range(100):
            p = _port_rng.randrange(first, end)
            if p in _ports_given:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(('127.0.0.1', p))
                except OSError:
                    continue
            _ports_given.add(p)
            return p
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


_default_caps: list[str] | None = None


def default_capabilities() -> list[str]:
    """Dovecot's built-in post-login CAPABILITY_STRING (without the additions)."""
    global _default_caps
    if _default_caps is None:
        caps = _FALLBACK_CAPABILITY
        try:
            data = Path(IMAP_BINARY).read_bytes()
            m = re.search(rb'IMAP4rev1 SASL-IR [\x21-\x7e ]+', data)
            if m and b' UIDPLUS ' in m.group(0):
                caps = m.group(0).decode('ascii')
        except OSError:
            pass
        _default_caps = caps.split()
    return list(_default_caps)


def _proc_stat(pid: int) -> tuple[str, str, int] | None:
    """(state, comm, ppid) of a process, or None if it is gone."""
    try:
        with open(f'/proc/{pid}/stat', 'rb') as f:
            data = f.read()
    except OSError:
        return None
    lp, rp = data.index(b'('), data.rindex(b')')
    rest = data[rp + 2:].split()
    return rest[0].decode(), data[lp + 1:rp].decode(errors='replace'), int(rest[1])


def _alive(pid: int) -> bool:
    st = _proc_stat(pid)
    return st is not None and st[0] not in ('Z', 'X')


def _children(pid: int) -> list[tuple[int, str, str]]:
    """[(pid, state, comm)] of the direct children of pid."""
    try:
        with open(f'/proc/{pid}/task/{pid}/children') as f:
            kids = [int(k) for k in f.read().split()]
    except OSError:
        kids = []
        for name in os.listdir('/proc'):
            if name.isdigit():
                st = _proc_stat(int(name))
                if st is not None and st[2] == pid:
                    kids.append(int(name))
    out = []
    for k in kids:
        st = _proc_stat(k)
        if st is not None:
            out.append((k, st[0], st[1]))
    return out


# --------------------------------------------------------------------------------------


class Dovecot:
    """A private Dovecot instance. See the module docstring."""

    def __init__(self, basedir: str | os.PathLike, *,
                 users: Mapping[str, str] | None = None,
                 capabilities_remove: Iterable[str] = (),
                 ssl: bool = False,
                 compress: bool = True,
                 extra_conf: str = '',
                 separator: str = '.',
                 auth_mechanisms: Iterable[str] = DEFAULT_AUTH_MECHANISMS,
                 key_type: str = 'ec',
                 tls_files: Mapping[str, str | os.PathLike] | None = None,
                 acl: Mapping[str, str] | None = None):
        self.basedir = Path(basedir).resolve()
        self.users = dict(users if users is not None else {'test': 'testpass'})
        if not self.users:
            raise ValueError('at least one user is needed')
        for u, pw in self.users.items():
            if ':' in u + pw or '\n' in u + pw:
                raise ValueError(f'user {u!r}: ":" and newlines are not allowed in user '
                                 f'names and passwords (passwd-file format)')
        self.default_user = next(iter(self.users))
        self.capabilities_remove = tuple(c.upper() for c in capabilities_remove)
        self.ssl = ssl
        self.compress = compress
        self.extra_conf = extra_conf
        self.separator = separator
        self.auth_mechanisms = tuple(auth_mechanisms)
        self.key_type = key_type
        # Certificate and key of our own (tls.make_server_cert()): {'ca', 'cert', 'key'}.
        # They may be expired or for another host, so readiness is checked without
        # verifying them.
        self.tls_files = dict(tls_files) if tls_files else None
        # The acl plugin with a global ACL file: {mailbox pattern: rights of its owner},
        # e.g. {'RO': 'lr'} makes SELECT of RO answer [READ-ONLY].  Other mailboxes keep
        # the owner's full rights.
        self.acl = dict(acl) if acl is not None else None
        self.acl_path = self.basedir / 'global-acl'
        self.host = '127.0.0.1'
        self.port: int | None = None
        self.ssl_port: int | None = None
        self.ca_path: Path | None = None
        self.cert_path: Path | None = None
        self.key_path: Path | None = None
        self.start_seconds: float | None = None
        self.stop_seconds: float | None = None
        self._proc: subprocess.Popen | None = None
        self._conns: dict[str, imaplib.IMAP4] = {}
        self._lock = threading.RLock()  # helpers share one cached connection per user
        self._own_run_dir: Path | None = None

        global _instance_counter
        with _instance_lock:
            _instance_counter += 1
            self.instance_name = f'oimap-test-{os.getpid()}-{_instance_counter}'

        self.conf_path = self.basedir / 'dovecot.conf'
        self.users_path = self.basedir / 'users'
        self.mail_root = self.basedir / 'mail'
        self.state_dir = self.basedir / 'state'
        self.log_path = self.basedir / 'dovecot.log'
        self.stderr_path = self.basedir / 'dovecot.stderr'
        run = self.basedir / 'run'
        if len(str(run)) > _MAX_RUN_DIR:
            self._own_run_dir = Path(tempfile.mkdtemp(prefix='oimap-run-'))
            self._own_run_dir.chmod(0o755)
            run = self._own_run_dir
        self.run_dir = run

        if os.geteuid() == 0:
            self.mail_user, self.mail_group = 'nobody', 'nogroup'
            self.internal_user, self.login_user = 'dovecot', 'dovenull'
            self.internal_group = 'dovecot'
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            self.mail_user = me
            self.mail_group = grp.getgrgid(os.getegid()).gr_name
            self.internal_user = self.login_user = me
            self.internal_group = self.mail_group

    # ---------------------------------------------------------------- configuration

    def capabilities(self) -> list[str]:
        """The post-login capability list this instance announces."""
        caps = default_capabilities() + ['LITERAL+', 'NOTIFY']
        if self.compress:
            caps.append('COMPRESS=DEFLATE')
        return [c for c in caps if c.upper() not in self.capabilities_remove]

    def _conf_text(self) -> str:
        imap_cap = ''
        if self.capabilities_remove:
            imap_cap = f'  imap_capability = {" ".join(self.capabilities())}\n'
        plugins = '  mail_plugins = $mail_plugins imap_zlib\n' if self.compress else ''
        acl_conf = ''
        if self.acl is not None:
            acl_conf = (f'mail_plugins = $mail_plugins acl\n'
                        f'plugin {{\n  acl = vfile:{self.acl_path}\n}}\n')
        if self.ssl:
            ssl_conf = (f'ssl = yes\nssl_cert = <{self.cert_path}\n'
                        f'ssl_key = <{self.key_path}\n')
            imaps = f'    inet_listener imaps {{\n      address = 127.0.0.1\n' \
                    f'      port = {self.ssl_port}\n      ssl = yes\n    }}\n'
        else:
            ssl_conf = 'ssl = no\n'
            imaps = '    inet_listener imaps {\n      port = 0\n    }\n'
        return f"""\
# Generated by tests/harness/dovecot.py; includes nothing from /etc/dovecot.
instance_name = {self.instance_name}
base_dir = {self.run_dir}
state_dir = {self.state_dir}
log_path = {self.log_path}
info_log_path = {self.log_path}
debug_log_path = {self.log_path}
protocols = imap
listen = 127.0.0.1
{ssl_conf}disable_plaintext_auth = no
auth_mechanisms = {' '.join(self.auth_mechanisms)}
auth_verbose = yes
auth_failure_delay = 0
first_valid_uid = 1
first_valid_gid = 1
mail_privileged_group =
mail_uid = {self.mail_user}
mail_gid = {self.mail_group}
default_internal_user = {self.internal_user}
default_internal_group = {self.internal_group}
default_login_user = {self.login_user}
mail_location = maildir:~/Maildir
mail_fsync = never
{acl_conf}namespace inbox {{
  inbox = yes
  separator = {self.separator}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.users_path}
}}
userdb {{
  driver = static
  args = home={self.mail_root}/%u
}}
service imap-login {{
  chroot =
  # one login process serves every connection: halves the cost of a login
  service_count = 0
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
{imaps}}}
service anvil {{
  chroot =
  # no auth penalty: tests log in with wrong passwords on purpose
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol imap {{
{plugins}  mail_max_userip_connections = 1000
{imap_cap}}}
{self.extra_conf}
"""

    def _write_users(self) -> None:
        text = ''.join(f'{u}:{{PLAIN}}{pw}\n' for u, pw in self.users.items())
        tmp = self.users_path.with_suffix('.tmp')
        tmp.write_text(text)
        tmp.chmod(0o644)
        tmp.replace(self.users_path)

    def add_user(self, user: str, password: str) -> None:
        """Add a user while running (passwd-file is re-read when it changes)."""
        if ':' in user + password or '\n' in user + password:
            raise ValueError('":" and newlines are not allowed (passwd-file format)')
        self.users[user] = password
        self._write_users()
        # passwd-file reloads on mtime change; make sure the mtime moves even within
        # the filesystem's timestamp granularity.
        st = self.users_path.stat()
        os.utime(self.users_path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))

    def _prepare(self) -> None:
        self.basedir.mkdir(parents=True, exist_ok=True)
        _check_traversable(self.basedir, (self.mail_user, self.internal_user))
        for d in (self.state_dir, self.run_dir, self.mail_root):
            d.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            uid = pwd.getpwnam(self.mail_user).pw_uid
            gid = grp.getgrnam(self.mail_group).gr_gid
            os.chown(self.mail_root, uid, gid)
        self.mail_root.chmod(0o755)
        self._write_users()
        if self.acl is not None:
            self.acl_path.write_text(''.join(f'{box} owner {rights}\n'
                                             for box, rights in self.acl.items()))
            self.acl_path.chmod(0o644)
        if self.ssl and self.ca_path is None and self.tls_files:
            tls_dir = self.basedir / 'tls'
            tls_dir.mkdir(exist_ok=True)
            tls_dir.chmod(0o755)
            for k in ('ca', 'cert', 'key'):
                shutil.copy2(self.tls_files[k], tls_dir / f'own-{k}.pem')
            self.ca_path, self.cert_path, self.key_path = (
                tls_dir / 'own-ca.pem', tls_dir / 'own-cert.pem', tls_dir / 'own-key.pem')
        if self.ssl and self.ca_path is None:
            tls_dir = self.basedir / 'tls'
            tls_dir.mkdir(exist_ok=True)
            tls_dir.chmod(0o755)
            p = {k: tls_dir / v.name for k, v in _cached_test_ca(self.key_type).items()}
            for k, v in _cached_test_ca(self.key_type).items():
                shutil.copy2(v, p[k])
            self.ca_path, self.cert_path, self.key_path = p['ca'], p['cert'], p['key']

    # ---------------------------------------------------------------- start / stop

    def start(self, timeout: float = 10.0, *, keep_ports: bool = False) -> 'Dovecot':
        """Start (or, with keep_ports, start again on the ports of the last start)."""
        if self._proc is not None:
            raise DovecotError('already started')
        if keep_ports and self.port is None:
            raise DovecotError('keep_ports needs an earlier start')
        t0 = time.monotonic()
        self._prepare()
        last_err = ''
        for _attempt in range(1 if keep_ports else 8):
            if not keep_ports:
                self.port = free_port()
                self.ssl_port = free_port() if self.ssl else None
            if self.ssl_port == self.port:
                continue
            self.conf_path.write_text(self._conf_text())
            ok, last_err = self._spawn_and_wait(timeout)
            if ok:
                self.start_seconds = time.monotonic() - t0
                _running.add(self)
                return self
            if 'Address already in use' not in last_err:
                break
        raise DovecotError(f'Dovecot did not start in {self.basedir}:\n{last_err}')

    def restart(self, down: float = 0.0) -> 'Dovecot':
        """Stop, stay down `down` seconds, and start again on the same ports (clients'
        connections are cut, as when a real server restarts)."""
        self.stop()
        if down:
            time.sleep(down)
        return self.start(keep_ports=True)

    def _spawn_and_wait(self, timeout: float) -> tuple[bool, str]:
        with open(self.stderr_path, 'ab') as err:
            self._proc = subprocess.Popen(
                [DOVECOT, '-F', '-c', str(self.conf_path)],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err, close_fds=True)
        deadline = time.monotonic() + timeout
        ports = [p for p in (self.port, self.ssl_port) if p]
        pending = list(ports)
        err_at = self.stderr_path.stat().st_size
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._proc = None
                return False, self._diagnostics()
            if self.stderr_path.stat().st_size > err_at:
                with open(self.stderr_path, 'rb') as f:
                    f.seek(err_at)
                    if b'Address already in use' in f.read():
                        # Dovecot would retry the bind for seconds; take other ports now
                        self._kill_hard()
                        return False, self._diagnostics()
            still = []
            for p in pending:
                if not self._greets(p, p == self.ssl_port):
                    still.append(p)
            pending = still
            if not pending:
                return True, ''
            time.sleep(0.005)
        self._kill_hard()
        return False, f'timed out after {timeout} s\n' + self._diagnostics()

    def _greets(self, port: int, tls: bool) -> bool:
        """True once the port accepts a connection and sends the IMAP greeting."""
        try:
            s = socket.create_connection((self.host, port), timeout=0.2)
        except OSError:
            return False
        try:
            if tls:
                ctx = _ssl.create_default_context(cafile=str(self.ca_path))
                if self.tls_files:
                    ctx.check_hostname = False
                    ctx.verify_mode = _ssl.CERT_NONE
                s = ctx.wrap_socket(s, server_hostname=self.host)
            return s.recv(256).startswith(b'* OK')
        except OSError:
            return False
        finally:
            s.close()

    def _diagnostics(self) -> str:
        out = []
        for p in (self.stderr_path, self.log_path):
            try:
                out.append(f'--- {p.name}:\n' + p.read_text(errors='replace')[-4000:])
            except OSError:
                pass
        return '\n'.join(out)

    def master_pid(self) -> int | None:
        try:
            return int((self.run_dir / 'master.pid').read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, timeout: float = 0.5) -> None:
        """Stop Dovecot and wait until it and all its processes have exited.

        SIGTERM goes to the master (its pid is in run/master.pid). Once every worker
        (auth, imap, login, ...) has exited, Dovecot 2.3's master only sleeps a fixed
        second before exiting (services_monitor_wait_and_kill); we end that pause with
        SIGKILL, then end the log process. Workers still alive after `timeout` seconds
        (an imap process whose client keeps its connection open) are killed as well.
        Without open connections this takes a few milliseconds.
        """
        self.close_clients()
        _running.discard(self)
        if self._proc is None:
            return
        t0 = time.monotonic()
        master = self.master_pid()
        if master != self._proc.pid:
            master = self._proc.pid  # the pid file is written by this very process
        try:
            os.kill(master, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = t0 + timeout
        known: dict[int, str] = {}
        while self._proc.poll() is None:
            kids = _children(master)
            for pid, _st, comm in kids:
                known[pid] = comm
            if all(comm == 'log' or st in ('Z', 'X') for _pid, st, comm in kids):
                break  # every worker has exited: the master is only pausing now
            if time.monotonic() > deadline:
                break
            time.sleep(0.002)
        if self._proc.poll() is None:
            for pid, _st, comm in _children(master):
                known[pid] = comm
            self._proc.kill()
        self._proc.wait()
        self._proc = None
        leftovers = [pid for pid in known if _alive(pid)]
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        end = time.monotonic() + 2
        while any(_alive(pid) for pid in leftovers) and time.monotonic() < end:
            time.sleep(0.002)
        self.stop_seconds = time.monotonic() - t0
        if self._own_run_dir is not None:
            shutil.rmtree(self._own_run_dir, ignore_errors=True)
            self._own_run_dir = None

    def _kill_hard(self) -> None:
        if self._proc is None:
            return
        try:
            self._proc.kill()
        except ProcessLookupError:
            pass
        self._proc.wait()
        self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> 'Dovecot':
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors='replace')
        except OSError:
            return ''

    def server_fingerprint(self, algo: str = 'sha256') -> str:
        if self.cert_path is None:
            raise DovecotError('no TLS certificate: start with ssl=True')
        return cert_fingerprint(self.cert_path, algo)

    # ---------------------------------------------------------------- clients

    def password(self, user: str | None = None) -> str:
        return self.users[user or self.default_user]

    def client(self, user: str | None = None, *, tls: bool = False,
               starttls: bool = False, login: bool = True) -> imaplib.IMAP4:
        """A new connection, logged in unless login=False. The caller logs out.

        tls: implicit TLS on the IMAPS port; starttls: STARTTLS on the plain port. Both
        verify the server against this instance's CA.
        """
        user = user or self.default_user
        if tls or starttls:
            if not self.ssl:
                raise DovecotError('TLS requested but the instance runs with ssl=False')
            ctx = _ssl.create_default_context(cafile=str(self.ca_path))
        if tls:
            conn = imaplib.IMAP4_SSL(self.host, self.ssl_port, ssl_context=ctx, timeout=30)
        else:
            conn = imaplib.IMAP4(self.host, self.port, timeout=30)
            if starttls:
                conn.starttls(ssl_context=ctx)
        if login:
            conn.login(user, self.users[user])
        return conn

    def _conn(self, user: str | None) -> imaplib.IMAP4:
        user = user or self.default_user
        c = self._conns.get(user)
        if c is None:
            c = self.client(user)
            self._conns[user] = c
        c.untagged_responses.clear()
        return c

    def _run(self, user: str | None, fn):
        """Run fn(conn) on the cached connection, reconnecting once if it was lost.
        Serialised, so helpers may be called from several threads."""
        with self._lock:
            for attempt in (0, 1):
                conn = self._conn(user)
                try:
                    return fn(conn)
                except (imaplib.IMAP4.abort, OSError):
                    self._drop(user or self.default_user)
                    if attempt:
                        raise

    def _drop(self, user: str) -> None:
        c = self._conns.pop(user, None)
        if c is not None:
            try:
                c.shutdown()
            except Exception:
                pass

    def close_clients(self) -> None:
        """Log out the cached helper connections."""
        with self._lock:
            self._close_clients()

    def _close_clients(self) -> None:
        for user in list(self._conns):
            c = self._conns.pop(user)
            try:
                c.logout()
            except Exception:
                try:
                    c.shutdown()
                except Exception:
                    pass

    @staticmethod
    def _select(conn: imaplib.IMAP4, folder: str, readonly: bool) -> int:
        typ, data = conn._simple_command('EXAMINE' if readonly else 'SELECT', quote(folder))
        _check(typ, data, f'SELECT {folder}')
        conn.state = 'SELECTED'
        exists = conn.untagged_responses.get('EXISTS', [b'0'])[-1]
        conn.untagged_responses.clear()
        return int(exists)

    # ---------------------------------------------------------------- folder helpers

    def create(self, folder: str, *, user: str | None = None, subscribe: bool = False) -> None:
        def fn(c):
            _check(*c._simple_command('CREATE', quote(folder)), f'CREATE {folder}')
            if subscribe:
                _check(*c._simple_command('SUBSCRIBE', quote(folder)), f'SUBSCRIBE {folder}')
        self._run(user, fn)

    def delete(self, folder: str, *, user: str | None = None) -> None:
        def fn(c):
            if c.state == 'SELECTED':
                c._simple_command('UNSELECT')
                c.state = 'AUTH'
            _check(*c._simple_command('DELETE', quote(folder)), f'DELETE {folder}')
        self._run(user, fn)

    def rename(self, old: str, new: str, *, user: str | None = None) -> None:
        def fn(c):
            if c.state == 'SELECTED':
                c._simple_command('UNSELECT')
                c.state = 'AUTH'
            _check(*c._simple_command('RENAME', quote(old), quote(new)), f'RENAME {old}')
        self._run(user, fn)

    def list_folders(self, *, user: str | None = None, selectable_only: bool = False) -> list[str]:
        """Folder names (decoded from modified UTF-7), sorted. selectable_only leaves out
        \\Noselect and \\NonExistent ones (e.g. the parent "A" of "A.B")."""
        def fn(c):
            typ, data = c._simple_command('LIST', b'""', b'"*"')
            data = _check(typ, c._untagged_response(typ, data, 'LIST')[1], 'LIST')
            return sorted(name for flags, _d, name in parse_list(data)
                          if not (selectable_only and flags & {'\\noselect', '\\nonexistent'}))
        return self._run(user, fn)

    def status(self, folder: str, items: Iterable[str] = ('MESSAGES', 'UIDNEXT', 'UIDVALIDITY'),
               *, user: str | None = None) -> dict[str, int]:
        def fn(c):
            typ, data = c._simple_command('STATUS', quote(folder),
                                          '(' + ' '.join(items) + ')')
            data = _check(typ, c._untagged_response(typ, data, 'STATUS')[1], 'STATUS')
            text = b' '.join(d if isinstance(d, bytes) else d[0] for d in data if d)
            m = re.search(rb'\(([^)]*)\)\s*$', text)
            toks = m.group(1).split() if m else []
            return {toks[i].decode().upper(): int(toks[i + 1]) for i in range(0, len(toks) - 1, 2)}
        return self._run(user, fn)

    def uidvalidity(self, folder: str, *, user: str | None = None) -> int:
        return self.status(folder, ('UIDVALIDITY',), user=user)['UIDVALIDITY']

    def uidnext(self, folder: str, *, user: str | None = None) -> int:
        return self.status(folder, ('UIDNEXT',), user=user)['UIDNEXT']

    # ---------------------------------------------------------------- message helpers

    def append(self, folder: str, msg: bytes, flags: Iterable[str] | str = (),
               date: _dt.datetime | float | int | str | None = None, *,
               user: str | None = None) -> int:
        """APPEND msg exactly as given (no line-ending conversion) and return its UID.

        date: the INTERNALDATE (datetime, epoch seconds or an IMAP date-time string).
        The UID comes from APPENDUID, or from UIDNEXT when APPENDUID is absent.
        """
        flags = tuple(flags.split()) if isinstance(flags, str) else tuple(flags)
        date_arg = imaplib.Time2Internaldate(date) if date is not None else None

        def fn(c):
            before = None
            if 'UIDPLUS' in self.capabilities_remove:
                before = self.uidnext(folder, user=user)
            c.literal = bytes(msg)
            typ, data = c._simple_command('APPEND', quote(folder),
                                          _flag_list(flags) if flags else None, date_arg)
            _check(typ, data, f'APPEND to {folder}')
            text = b' '.join(d for d in data if isinstance(d, bytes))
            m = re.search(rb'APPENDUID \d+ (\d+)', text)
            if m and before is None:
                return int(m.group(1))
            return before if before is not None else self.uidnext(folder, user=user) - 1
        return self._run(user, fn)

    def append_many(self, folder: str, msgs: Iterable, *, user: str | None = None) -> list[int]:
        """Append bytes or (bytes, flags) or (bytes, flags, date) items; return UIDs."""
        uids = []
        for m in msgs:
            if isinstance(m, (bytes, bytearray)):
                uids.append(self.append(folder, m, user=user))
            else:
                uids.append(self.append(folder, *m, user=user))
        return uids

    def messages(self, folder: str, *, user: str | None = None) -> dict[int, tuple[set, bytes]]:
        """{uid: (flags, bytes)} with the bytes exactly as the server serves them
        (BODY.PEEK[], CRLF). \\Recent is left out of the flags."""
        def fn(c):
            if self._select(c, folder, readonly=True) == 0:
                return {}
            typ, data = c._simple_command('UID', 'FETCH', '1:*', '(UID FLAGS BODY.PEEK[])')
            data = _check(typ, c._untagged_response(typ, data, 'FETCH')[1], 'UID FETCH')
            out = {}
            for uid, ent in parse_fetch(data).items():
                if ent['body'] is None:
                    continue
                out[uid] = (ent['flags'] or set(), ent['body'])
            return out
        return self._run(user, fn)

    def flags(self, folder: str, *, user: str | None = None) -> dict[int, set]:
        """{uid: flags} without bodies."""
        def fn(c):
            if self._select(c, folder, readonly=True) == 0:
                return {}
            typ, data = c._simple_command('UID', 'FETCH', '1:*', '(UID FLAGS)')
            data = _check(typ, c._untagged_response(typ, data, 'FETCH')[1], 'UID FETCH')
            return {u: e['flags'] or set() for u, e in parse_fetch(data).items()}
        return self._run(user, fn)

    def _store(self, folder: str, uids, op: str, flags, user: str | None) -> None:
        def fn(c):
            self._select(c, folder, readonly=False)
            typ, data = c._simple_command('UID', 'STORE', _uidset(uids), op, _flag_list(flags))
            _check(typ, data, f'UID STORE {op} in {folder}')
            c.untagged_responses.clear()
        self._run(user, fn)

    def set_flags(self, folder: str, uids: int | Iterable[int], flags: Iterable[str] | str,
                  *, user: str | None = None) -> None:
        """Add flags to the given UIDs."""
        self._store(folder, uids, '+FLAGS.SILENT', flags, user)

    def clear_flags(self, folder: str, uids: int | Iterable[int], flags: Iterable[str] | str,
                    *, user: str | None = None) -> None:
        """Remove flags from the given UIDs."""
        self._store(folder, uids, '-FLAGS.SILENT', flags, user)

    def replace_flags(self, folder: str, uids: int | Iterable[int], flags: Iterable[str] | str,
                      *, user: str | None = None) -> None:
        self._store(folder, uids, 'FLAGS.SILENT', flags, user)

    def expunge(self, folder: str, uids: int | Iterable[int], *, user: str | None = None) -> None:
        """Mark the UIDs \\Deleted and UID EXPUNGE exactly them."""
        uidset = _uidset(uids)

        def fn(c):
            self._select(c, folder, readonly=False)
            _check(*c._simple_command('UID', 'STORE', uidset, '+FLAGS.SILENT', '(\\Deleted)'),
                   'UID STORE \\Deleted')
            _check(*c._simple_command('UID', 'EXPUNGE', uidset), 'UID EXPUNGE')
            c.untagged_responses.clear()
        self._run(user, fn)

    def recreate_folder_with_new_uidvalidity(self, folder: str, messages: Iterable | None = None,
                                             *, user: str | None = None) -> int:
        """Give `folder` a new UIDVALIDITY and return it.

        messages: what the folder holds afterwards, as bytes or (bytes, flags) items;
        None keeps its current messages (with their flags) in UID order; INTERNALDATE
        becomes now. Other folders
        are deleted and created again; INBOX, which cannot be deleted, is emptied and its
        Dovecot UID list and indexes are removed so that Dovecot assigns a new
        UIDVALIDITY.
        """
        user = user or self.default_user
        old_uv = self.uidvalidity(folder, user=user)
        if messages is None:
            cur = self.messages(folder, user=user)
            messages = [(cur[u][1], sorted(cur[u][0])) for u in sorted(cur)]
        else:
            messages = list(messages)
        if folder.upper() == 'INBOX':
            cur = self.messages(folder, user=user)
            if cur:
                self.expunge(folder, cur.keys(), user=user)
            self.close_clients()
            root = self.maildir_path(user)
            for name in os.listdir(root):
                if name == 'dovecot-uidlist' or name.startswith('dovecot.index'):
                    os.unlink(root / name)
        else:
            self.delete(folder, user=user)
            self.create(folder, user=user)
        for m in messages:
            if isinstance(m, (bytes, bytearray)):
                self.append(folder, m, user=user)
            else:
                self.append(folder, *m, user=user)
        new_uv = self.uidvalidity(folder, user=user)
        if new_uv == old_uv:
            raise DovecotError(f'UIDVALIDITY of {folder} did not change ({old_uv})')
        return new_uv

    # ---------------------------------------------------------------- filesystem view

    def maildir_path(self, user: str | None = None) -> Path:
        """The user's Maildir++ root on the server (INBOX lives there)."""
        return self.mail_root / (user or self.default_user) / 'Maildir'

    def folder_path(self, folder: str, user: str | None = None) -> Path:
        """The server-side directory of a folder (Maildir++: .A.B)."""
        root = self.maildir_path(user)
        if folder.upper() == 'INBOX':
            return root
        return root / ('.' + mutf7_encode(folder).decode('ascii').replace(self.separator, '.'))

    def write_file(self, folder: str, content: bytes, *, flags: str = '',
                   user: str | None = None) -> Path:
        """Put a message straight into the server's Maildir (cur/ with Maildir flags
        letters, or new/ without), as a delivery agent would: for folders the ACL
        makes read-only to IMAP. Dovecot gives it a UID when it next looks."""
        d = self.folder_path(folder, user)
        sub = 'cur' if flags else 'new'
        self._write_file_seq = getattr(self, '_write_file_seq', 0) + 1
        name = f'{int(time.time())}.M{self._write_file_seq}P{os.getpid()}.harness'
        if flags:
            name += ':2,' + ''.join(sorted(flags))
        tmp = d / 'tmp' / name.split(':')[0]
        tmp.write_bytes(content)
        if os.geteuid() == 0:
            os.chown(tmp, pwd.getpwnam(self.mail_user).pw_uid,
                     grp.getgrnam(self.mail_group).gr_gid)
        tmp.chmod(0o644)
        dst = d / sub / name
        tmp.rename(dst)
        return dst
