"""Write an offlineimaprc, run a binary with it, and compare both sides of a sync.

    cfg = write_config(tmp / 'rc', localfolders=tmp / 'Mail', metadata=tmp / 'meta',
                       host=dc.host, port=dc.port, user='test', password='testpass')
    r = run_oimap(our_binary(), cfg, '-o', '-u', 'basic')
    assert_in_sync(snapshot(dc, tmp / 'Mail'))

Our binary is $OIMAP_BINARY (default <repo>/build/offlineimap); offlineimap3 is
/usr/bin/offlineimap. Both take the same command line and configuration.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

from . import maildir as md
from .mailgen import to_crlf

REPO = Path(__file__).resolve().parents[2]
OFFLINEIMAP3 = Path('/usr/bin/offlineimap')

# IMAP system flag -> Maildir letter, as offlineimap maps them (P and keywords are not).
FLAG_TO_LETTER = {'\\Seen': 'S', '\\Answered': 'R', '\\Flagged': 'F', '\\Deleted': 'T',
                  '\\Draft': 'D'}
LETTER_TO_FLAG = {v: k for k, v in FLAG_TO_LETTER.items()}

SANITIZER_MARKERS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer',
                     'WARNING: ThreadSanitizer', 'runtime error:',
                     'ERROR: MemorySanitizer', 'SUMMARY: UndefinedBehaviorSanitizer',
                     'VALGRIND-ERROR-BEGIN')


def timeout_scale() -> float:
    """$OIMAP_TIMEOUT_SCALE, default 5 under a sanitizer ($OIMAP_SANITIZER set), else 1."""
    env = os.environ.get('OIMAP_TIMEOUT_SCALE')
    if env:
        return float(env)
    return 5.0 if os.environ.get('OIMAP_SANITIZER') else 1.0


def our_binary() -> Path:
    """$OIMAP_BINARY, or <repo>/build/offlineimap."""
    env = os.environ.get('OIMAP_BINARY')
    return Path(env) if env else REPO / 'build' / 'offlineimap'


# ----------------------------------------------------------------------------- config


def _esc(value) -> str:
    """A value for ConfigParser with interpolation: '%' doubled."""
    return str(value).replace('%', '%%')


def _section(name: str, opts: Mapping[str, object]) -> str:
    lines = [f'[{name}]']
    for k, v in opts.items():
        if v is None:
            continue
        if isinstance(v, bool):
            v = 'yes' if v else 'no'
        lines.append(f'{k} = {v}')
    return '\n'.join(lines) + '\n'


def write_config(path: str | os.PathLike, *, localfolders: str | os.PathLike,
                 host: str, port: int, user: str, password: str,
                 metadata: str | os.PathLike | None = None, account: str = 'Test',
                 ssl: bool = False, sslcacertfile: str | os.PathLike | None = None,
                 general: Mapping[str, object] | None = None,
                 account_opts: Mapping[str, object] | None = None,
                 local_opts: Mapping[str, object] | None = None,
                 remote_opts: Mapping[str, object] | None = None,
                 extra_sections: Mapping[str, Mapping[str, object]] | None = None) -> Path:
    """Write an offlineimaprc for one account: Maildir `localfolders` <-> IMAP host:port.

    Repositories are named "<account>-Local" and "<account>-Remote". Paths and the
    password are escaped for ConfigParser ('%' -> '%%'); values in the option dicts
    are written verbatim (so Python lambdas and %(...)s work) and override the
    defaults; a value of None drops the option. With ssl=False the config also says
    starttls = no, so plain sessions stay plain whatever the server offers.
    """
    path = Path(path)
    metadata = Path(metadata) if metadata else path.parent / 'metadata'
    gen = {'accounts': account, 'metadata': _esc(metadata)}
    gen.update(general or {})
    acc = {'localrepository': f'{account}-Local', 'remoterepository': f'{account}-Remote'}
    acc.update(account_opts or {})
    loc = {'type': 'Maildir', 'localfolders': _esc(localfolders)}
    loc.update(local_opts or {})
    rem: dict[str, object] = {'type': 'IMAP', 'remotehost': host, 'remoteport': port,
                              'remoteuser': user, 'remotepass': _esc(password),
                              'ssl': bool(ssl)}
    if ssl:
        rem['sslcacertfile'] = _esc(sslcacertfile) if sslcacertfile else None
    else:
        rem['starttls'] = False
    rem.update(remote_opts or {})
    text = '\n'.join([
        '# Written by tests/harness/runner.py',
        _section('general', gen),
        _section(f'Account {account}', acc),
        _section(f'Repository {account}-Local', loc),
        _section(f'Repository {account}-Remote', rem),
        *(_section(n, o) for n, o in (extra_sections or {}).items()),
    ])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- running


def check_sanitizers(result: subprocess.CompletedProcess) -> None:
    """Raise AssertionError if a sanitizer reported anything on stderr."""
    for marker in SANITIZER_MARKERS:
        if marker in (result.stderr or ''):
            raise AssertionError(f'{marker!r} in the output of {result.args[0]}:\n'
                                 f'{result.stderr[-8000:]}')


def run_oimap(binary: str | os.PathLike, config_path: str | os.PathLike, *args: str,
              timeout: float = 120, env: Mapping[str, str] | None = None,
              home: str | os.PathLike | None = None, input: str | None = None,
              check_sanitizer: bool = True) -> subprocess.CompletedProcess:
    """Run `binary -c config_path args...` with stdout and stderr captured (text).

    HOME is `home` (default: the config file's directory), so nothing from the real
    ~/.offlineimaprc, ~/.netrc or ~/.offlineimap leaks in. A sanitizer report on stderr
    fails (AssertionError) unless check_sanitizer=False. The timeout is multiplied by
    timeout_scale(); on timeout the process is killed and subprocess.TimeoutExpired
    propagates (with the output so far).
    """
    binary = Path(binary)
    timeout *= timeout_scale()
    if not binary.exists():
        raise FileNotFoundError(f'{binary} does not exist (build it, or set OIMAP_BINARY)')
    e = dict(os.environ if env is None else env)
    e['HOME'] = str(home or Path(config_path).resolve().parent)
    e.setdefault('LC_ALL', 'C.UTF-8')
    e.setdefault('PYTHONDONTWRITEBYTECODE', '1')
    if e.get('LSAN_OPTIONS') and 'print_suppressions' not in e['LSAN_OPTIONS']:
        # LSan lists the suppressions it used on stderr; tests compare stderr.
        e['LSAN_OPTIONS'] += ':print_suppressions=0'
    r = subprocess.run([str(binary), '-c', str(config_path), *args], capture_output=True,
                       text=True, errors='replace', timeout=timeout, env=e, input=input,
                       stdin=None if input is not None else subprocess.DEVNULL)
    if check_sanitizer:
        check_sanitizers(r)
    return r


def describe(result: subprocess.CompletedProcess) -> str:
    """Command, exit status and output, for assertion messages."""
    return (f'$ {" ".join(map(str, result.args))}\nexit status {result.returncode}\n'
            f'--- stdout:\n{result.stdout[-6000:]}\n--- stderr:\n{result.stderr[-6000:]}')


# ----------------------------------------------------------------------------- snapshots


def server_flags_to_letters(flags: Iterable[str]) -> str:
    """Maildir letters for the system flags among `flags`, sorted (keywords dropped)."""
    return ''.join(sorted(FLAG_TO_LETTER[f] for f in flags if f in FLAG_TO_LETTER))


@dataclass
class Entry:
    uid: int | None
    flags: str          # sorted Maildir letters (standard ones only)
    body: bytes         # CRLF line endings
    where: str = ''     # the local file path, or 'server'


@dataclass
class Snapshot:
    """Both sides of an account, keyed by folder name with the server's separator."""
    server: dict[str, list[Entry]] = field(default_factory=dict)
    local: dict[str, list[Entry]] = field(default_factory=dict)
    local_files: dict[str, list[md.MaildirMessage]] = field(default_factory=dict)

    def diff(self, **kw) -> list[str]:
        return diff_snapshot(self, **kw)

    def assert_in_sync(self, **kw) -> None:
        assert_in_sync(self, **kw)

    def counts(self) -> dict[str, tuple[int, int]]:
        names = sorted(set(self.server) | set(self.local))
        return {n: (len(self.server.get(n, [])), len(self.local.get(n, []))) for n in names}


def server_snapshot(dovecot, *, user: str | None = None) -> dict[str, list[Entry]]:
    """{folder: [Entry]} of every selectable server folder, sorted by UID."""
    out = {}
    for folder in dovecot.list_folders(user=user, selectable_only=True):
        msgs = dovecot.messages(folder, user=user)
        out[folder] = [Entry(uid, server_flags_to_letters(fl), body, 'server')
                       for uid, (fl, body) in sorted(msgs.items())]
    return out


def local_snapshot(root: str | os.PathLike, *, sep: str = '.', server_sep: str = '.',
                   infosep: str = ':', standard_flags_only: bool = True
                   ) -> tuple[dict[str, list[Entry]], dict[str, list[md.MaildirMessage]]]:
    """({server-style folder: [Entry]}, {local folder: [MaildirMessage]}).

    Bodies are converted LF -> CRLF. The UID is None unless the file name's FMD5 matches
    its folder (offlineimap ignores U= otherwise).
    """
    tree = md.read_tree(root, sep, infosep=infosep)
    out = {}
    for folder, msgs in tree.items():
        key = folder.replace(sep, server_sep) if sep != server_sep else folder
        ents = []
        for m in msgs:
            flags = ''.join(sorted(c for c in m.flags
                                   if not standard_flags_only or c in LETTER_TO_FLAG))
            ents.append(Entry(m.uid if m.fmd5_matches else None, flags, to_crlf(m.content),
                              str(m.path)))
        ents.sort(key=lambda e: (e.uid is None, e.uid or 0, e.where))
        out[key] = ents
    return out, tree


def snapshot(dovecot, local_root: str | os.PathLike, *, user: str | None = None,
             sep: str = '.', infosep: str = ':') -> Snapshot:
    """A comparable picture of both sides (server folders with flags and bytes; local
    folders with UID, flags and bytes converted to CRLF)."""
    local, files = local_snapshot(local_root, sep=sep, server_sep=dovecot.separator,
                                  infosep=infosep)
    return Snapshot(server=server_snapshot(dovecot, user=user), local=local,
                    local_files=files)


def diff_snapshot(snap: Snapshot, *, folders: Iterable[str] | None = None,
                  compare_bytes: bool = True,
                  normalize: Callable[[bytes], bytes] | None = None,
                  ignore_flags: bool = False, allow_duplicates: bool = False) -> list[str]:
    """Every difference between the two sides, as readable lines (empty = in sync).

    Checked: the same folders; no local message without a valid UID; no UID twice
    locally; the same UIDs on both sides; equal flags; equal bytes (after `normalize`,
    if given, on both sides); no message body twice on either side of a folder (unless
    allow_duplicates, for tests that store the same bytes twice on purpose).
    """
    probs: list[str] = []
    names = set(snap.server) | set(snap.local)
    if folders is not None:
        names = set(folders)
    for f in sorted(names - set(snap.server)):
        probs.append(f'folder {f!r} exists locally but not on the server')
    for f in sorted(names - set(snap.local)):
        probs.append(f'folder {f!r} exists on the server but not locally')
    norm = normalize or (lambda b: b)
    for f in sorted(names & set(snap.server) & set(snap.local)):
        srv = {e.uid: e for e in snap.server[f]}
        loc: dict[int, Entry] = {}
        for e in snap.local[f]:
            if e.uid is None:
                probs.append(f'{f}: local file without a valid U=/FMD5: {e.where}')
            elif e.uid in loc:
                probs.append(f'{f}: UID {e.uid} twice locally: {loc[e.uid].where} and {e.where}')
            else:
                loc[e.uid] = e
        for uid in sorted(set(srv) - set(loc)):
            probs.append(f'{f}: UID {uid} on the server only')
        for uid in sorted(set(loc) - set(srv)):
            probs.append(f'{f}: UID {uid} locally only ({loc[uid].where})')
        for uid in sorted(set(srv) & set(loc)):
            s, l = srv[uid], loc[uid]
            if not ignore_flags and s.flags != l.flags:
                probs.append(f'{f}: UID {uid} flags differ: server {s.flags!r}, '
                             f'local {l.flags!r} ({l.where})')
            if compare_bytes and norm(s.body) != norm(l.body):
                probs.append(f'{f}: UID {uid} bytes differ ({len(s.body)} on the server, '
                             f'{len(l.body)} locally): {_first_difference(norm(s.body), norm(l.body))}')
        for side, ents in (('server', snap.server[f]), ('local', snap.local[f])):
            if allow_duplicates:
                break
            seen: dict[bytes, object] = {}
            for e in ents:
                b = norm(e.body)
                if b in seen:
                    probs.append(f'{f}: the same message twice on the {side} side '
                                 f'(UIDs {seen[b]} and {e.uid})')
                else:
                    seen[b] = e.uid
    return probs


def _first_difference(a: bytes, b: bytes) -> str:
    n = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return f'first at offset {n}: server {a[max(0, n - 20):n + 40]!r} / local {b[max(0, n - 20):n + 40]!r}'


def assert_in_sync(snap: Snapshot, **kw) -> None:
    """AssertionError listing the differences unless both sides are equal."""
    probs = diff_snapshot(snap, **kw)
    if probs:
        more = f'\n... and {len(probs) - 40} more' if len(probs) > 40 else ''
        raise AssertionError('server and Maildir differ:\n  ' + '\n  '.join(probs[:40]) + more)


# ----------------------------------------------------------------------------- metadata


def folder_basename(name: str) -> str:
    """offlineimap's metadata file name for a folder: '/' -> '.', '' -> '.', '.' -> 'dot'."""
    if name == '':
        return '.'
    if name == '.':
        return 'dot'
    return name.replace('/', '.')


def status_db_path(metadata: str | os.PathLike, account: str, folder: str,
                   remote_sep: str = '.') -> Path:
    """<metadata>/Account-<account>/LocalStatus-sqlite/<remote folder, sep -> '.'>."""
    return (Path(metadata) / f'Account-{account}' / 'LocalStatus-sqlite'
            / folder_basename(folder.replace(remote_sep, '.')))


def status_rows(db: str | os.PathLike) -> dict[int, tuple[str, int, str]]:
    """{uid: (flags, mtime, labels)} from a LocalStatus-sqlite file."""
    con = sqlite3.connect(f'file:{db}?mode=ro', uri=True)
    try:
        return {r[0]: (r[1], r[2], r[3]) for r in
                con.execute('SELECT id, flags, mtime, labels FROM status')}
    finally:
        con.close()


def status_metadata(db: str | os.PathLike) -> dict[str, str]:
    con = sqlite3.connect(f'file:{db}?mode=ro', uri=True)
    try:
        return dict(con.execute('SELECT key, value FROM metadata'))
    finally:
        con.close()


def folder_validity_path(metadata: str | os.PathLike, repository: str, folder: str) -> Path:
    return Path(metadata) / f'Repository-{repository}' / 'FolderValidity' / folder_basename(folder)


def folder_validity(metadata: str | os.PathLike, repository: str, folder: str) -> int:
    return int(folder_validity_path(metadata, repository, folder).read_text().strip())


# ----------------------------------------------------------------------------- one account


class Setup:
    """One account against one Dovecot, in one work directory: config, runs, snapshots.

    The conftest fixture `oimap` gives one per test; scripts/demo.py uses it too.
    """

    def __init__(self, dovecot, workdir: str | os.PathLike, *, account: str = 'Test',
                 user: str | None = None, sep: str = '.', ssl: bool = False,
                 binary: str | os.PathLike | None = None):
        self.dovecot = dovecot
        self.workdir = Path(workdir)
        self.account = account
        self.user = user or dovecot.default_user
        self.sep = sep
        self.ssl = ssl
        self.binary = Path(binary) if binary else our_binary()
        self.maildir = self.workdir / 'Mail'
        self.metadata = self.workdir / 'metadata'
        self.config = self.workdir / 'offlineimaprc'
        self.runs: list[subprocess.CompletedProcess] = []
        self.workdir.mkdir(parents=True, exist_ok=True)

    @property
    def local_repo(self) -> str:
        return f'{self.account}-Local'

    @property
    def remote_repo(self) -> str:
        return f'{self.account}-Remote'

    def write_config(self, **kw) -> Path:
        """write_config() for this setup; keyword arguments override the defaults and
        the option dicts (local_opts etc.) are merged with sep."""
        local_opts = {'sep': self.sep} if self.sep != '.' else {}
        local_opts.update(kw.pop('local_opts', None) or {})
        dc = self.dovecot
        ssl = kw.pop('ssl', self.ssl)
        if ssl and not dc.ssl:
            raise ValueError('ssl=True needs a Dovecot started with ssl=True')
        args = dict(localfolders=self.maildir, metadata=self.metadata, account=self.account,
                    host=dc.host, port=dc.ssl_port if ssl else dc.port, user=self.user,
                    password=dc.password(self.user), ssl=ssl,
                    sslcacertfile=dc.ca_path if ssl else None, local_opts=local_opts)
        args.update(kw)
        return write_config(self.config, **args)

    def run(self, *args: str, binary: str | os.PathLike | None = None,
            **kw) -> subprocess.CompletedProcess:
        """Run our binary (or `binary`) with this config; writes the config if missing."""
        if not self.config.exists():
            self.write_config()
        r = run_oimap(binary or self.binary, self.config, *args, home=self.workdir, **kw)
        self.runs.append(r)
        return r

    def sync(self, *extra: str, binary: str | os.PathLike | None = None,
             ok: bool = True, **kw) -> subprocess.CompletedProcess:
        """One sync: -o -u basic; asserts exit status 0 unless ok=False."""
        r = self.run('-o', '-u', 'basic', *extra, binary=binary, **kw)
        if ok and r.returncode != 0:
            raise AssertionError('sync failed:\n' + describe(r))
        return r

    def sync_oimap3(self, *extra: str, **kw) -> subprocess.CompletedProcess:
        return self.sync(*extra, binary=OFFLINEIMAP3, **kw)

    def snapshot(self) -> Snapshot:
        return snapshot(self.dovecot, self.maildir, user=self.user, sep=self.sep)

    def assert_in_sync(self, **kw) -> Snapshot:
        snap = self.snapshot()
        snap.assert_in_sync(**kw)
        return snap

    def local(self) -> dict[str, list[md.MaildirMessage]]:
        return md.read_tree(self.maildir, self.sep)

    def local_folder(self, folder: str) -> Path:
        """The local directory for a server folder name."""
        return md.folder_dir(self.maildir, folder.replace(self.dovecot.separator, self.sep))

    def status_db(self, folder: str) -> Path:
        return status_db_path(self.metadata, self.account, folder, self.dovecot.separator)

    def status_rows(self, folder: str) -> dict[int, tuple[str, int, str]]:
        return status_rows(self.status_db(folder))

    def folder_validity(self, side: str, folder: str) -> int:
        """side 'local' or 'remote'. Local names use the local separator."""
        repo = self.local_repo if side == 'local' else self.remote_repo
        return folder_validity(self.metadata, repo, folder)
