"""What the server and a local Maildir hold, compared with the expected state.

    server = scan_server(dc, user)          # {folder: {msgid: [ServerMsg]}}
    local = scan_local(root)                # {folder: {msgid: [LocalMsg]}}
    problems = compare(model, server, local, body=lambda f, uid: ...)

Messages are keyed by Message-ID (every corpus message has a unique one). The server is
read over IMAP (FLAGS, RFC822.SIZE and the Message-ID header field, one UID FETCH per
folder); a message whose size is not the expected one has its body fetched and compared
after normalization (mbsync adds an X-TUID header to the messages it copies). Local
files are read whole and hashed, unless a cache says the file was already seen.
"""

from __future__ import annotations

import imaplib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tests'))

from harness.imaputil import check, parse_list, quote  # noqa: E402

from corpus import FLAG_TO_LETTER, Model, digest  # noqa: E402

MSGID_RE = re.compile(rb'^Message-ID:[ \t]*(<[^>\r\n]*>)', re.I | re.M)
RE_UID = re.compile(rb'\bUID (\d+)')
RE_FLAGS = re.compile(rb'\bFLAGS \(([^)]*)\)')
RE_SIZE = re.compile(rb'\bRFC822\.SIZE (\d+)')
LOCAL_LETTERS = set('DFPRST')


@dataclass
class ServerMsg:
    uid: int
    flags: str
    size: int


@dataclass
class LocalMsg:
    path: str
    flags: str
    digest: bytes


def msgid_of(head: bytes) -> str | None:
    m = MSGID_RE.search(head)
    return m.group(1).decode('ascii', 'replace') if m else None


def letters(flags: bytes) -> str:
    out = []
    for f in flags.split():
        ltr = FLAG_TO_LETTER.get(f.decode())
        if ltr:
            out.append(ltr)
        elif f.lower() == b'\\deleted':
            out.append('T')
    return ''.join(sorted(out))


def list_folders(conn: imaplib.IMAP4) -> list[str]:
    typ, data = conn._simple_command('LIST', b'""', b'"*"')
    data = check(typ, conn._untagged_response(typ, data, 'LIST')[1], 'LIST')
    return sorted(name for flags, _d, name in parse_list(data)
                  if not flags & {'\\noselect', '\\nonexistent'})


def select(conn: imaplib.IMAP4, folder: str, readonly: bool = True) -> int:
    typ, data = conn._simple_command('EXAMINE' if readonly else 'SELECT', quote(folder))
    check(typ, data, f'SELECT {folder}')
    conn.state = 'SELECTED'
    exists = conn.untagged_responses.get('EXISTS', [b'0'])[-1]
    conn.untagged_responses.clear()
    return int(exists)


def client(dc, user: str) -> imaplib.IMAP4:
    """A logged-in connection with a generous socket timeout (the harness's 30 s is too
    short for Dovecot to index a folder of a million messages)."""
    conn = dc.client(user)
    conn.sock.settimeout(1800)
    return conn


def scan_server(dc, user: str) -> dict[str, dict[str | None, list[ServerMsg]]]:
    """Every selectable folder of `user`: {folder: {msgid: [ServerMsg]}} (msgid None for
    a message without one)."""
    out: dict[str, dict[str | None, list[ServerMsg]]] = {}
    conn = client(dc, user)
    try:
        for folder in list_folders(conn):
            msgs: dict[str | None, list[ServerMsg]] = {}
            out[folder] = msgs
            if select(conn, folder) == 0:
                continue
            typ, data = conn._simple_command(
                'UID', 'FETCH', '1:*',
                '(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])')
            data = check(typ, conn._untagged_response(typ, data, 'FETCH')[1], 'UID FETCH')
            for item in data:
                if not isinstance(item, tuple):
                    continue
                head, lit = item[0], item[1]
                um, fm, sm = RE_UID.search(head), RE_FLAGS.search(head), RE_SIZE.search(head)
                if not um:
                    continue
                msgs.setdefault(msgid_of(lit), []).append(
                    ServerMsg(int(um.group(1)), letters(fm.group(1)) if fm else '',
                              int(sm.group(1)) if sm else -1))
            conn.untagged_responses.clear()
    finally:
        try:
            conn.logout()
        except Exception:
            pass
    return out


def fetch_bodies(dc, user: str, wanted: dict[str, list[int]]) -> dict[tuple[str, int], bytes]:
    """{(folder, uid): bytes} for the given UIDs."""
    out = {}
    if not wanted:
        return out
    conn = client(dc, user)
    try:
        for folder, uids in wanted.items():
            select(conn, folder)
            for uid in uids:
                typ, data = conn._simple_command('UID', 'FETCH', str(uid), '(UID BODY.PEEK[])')
                data = check(typ, conn._untagged_response(typ, data, 'FETCH')[1], 'FETCH')
                for item in data:
                    if isinstance(item, tuple):
                        out[(folder, uid)] = item[1]
                conn.untagged_responses.clear()
    finally:
        try:
            conn.logout()
        except Exception:
            pass
    return out


def local_folders(root: Path) -> list[str]:
    """Folder directories directly under root (flattened names such as Archive.2024)."""
    out = []
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return out
    for e in entries:
        if e.is_dir() and os.path.isdir(os.path.join(e.path, 'cur')):
            out.append(e.name)
    return sorted(out)


def parse_info(name: str) -> tuple[str, str]:
    """(base name, flag letters) of a Maildir file name."""
    i = name.rfind(':2,')
    if i < 0:
        return name, ''
    return name[:i], ''.join(sorted(c for c in name[i + 3:] if c in LOCAL_LETTERS))


def scan_local(root: str | os.PathLike, cache: dict | None = None
               ) -> dict[str, dict[str | None, list[LocalMsg]]]:
    """{folder: {msgid: [LocalMsg]}} of a local Maildir tree. With `cache` (a dict kept
    between calls), a file whose directory, base name and inode were seen before is not
    read again."""
    root = Path(root)
    out: dict[str, dict[str | None, list[LocalMsg]]] = {}
    for folder in local_folders(root):
        msgs: dict[str | None, list[LocalMsg]] = {}
        out[folder] = msgs
        for sub in ('new', 'cur'):
            d = root / folder / sub
            try:
                entries = list(os.scandir(d))
            except FileNotFoundError:
                continue
            for e in entries:
                if e.name.startswith('.'):
                    continue
                base, flags = parse_info(e.name)
                key = (folder, base, e.inode())
                hit = cache.get(key) if cache is not None else None
                if hit is None:
                    with open(e.path, 'rb') as fh:
                        data = fh.read()
                    end = data.find(b'\n\n')
                    hit = (msgid_of(data[:end if end >= 0 else len(data)]), digest(data))
                    if cache is not None:
                        cache[key] = hit
                msgs.setdefault(hit[0], []).append(LocalMsg(e.path, flags, hit[1]))
    return out


def compare(model: Model, server: dict, local: dict | None, body_digest=None,
            limit: int = 30) -> list[str]:
    """Every difference between the expected state and both sides, as readable lines.

    body_digest(folder, [uids]) -> {uid: digest} is asked for the server messages whose
    size is not the expected one. local None checks the server only."""
    probs: list[str] = []
    exp_folders = set(model.folders)
    sides = (('server', server), ('local', local)) if local is not None else \
        (('server', server),)
    for side, tree in sides:
        for f in sorted(set(tree) - exp_folders):
            probs.append(f'{side}: unexpected folder {f!r} ({sum(map(len, tree[f].values()))} '
                         f'messages)')
        for f in sorted(exp_folders - set(tree)):
            probs.append(f'{side}: folder {f!r} missing')
    size_check: dict[str, list[tuple[int, str]]] = {}
    for f in sorted(exp_folders):
        exp = model.folders[f]
        srv = server.get(f, {})
        loc = local.get(f, {}) if local is not None else None
        for side, tree in (('server', srv), ('local', loc)):
            if tree is None:
                continue
            for msgid in tree:
                if msgid not in exp:
                    n = len(tree[msgid])
                    what = 'a message without Message-ID' if msgid is None else msgid
                    probs.append(f'{side} {f}: unexpected {what} (x{n})')
        for msgid, flags in exp.items():
            want_digest, want_size = model.info[msgid]
            s = srv.get(msgid, [])
            if len(s) != 1:
                probs.append(f'server {f}: {msgid} present {len(s)} times')
            else:
                if s[0].flags != flags:
                    probs.append(f'server {f}: {msgid} (UID {s[0].uid}) flags {s[0].flags!r},'
                                 f' expected {flags!r}')
                if s[0].size != want_size:
                    size_check.setdefault(f, []).append((s[0].uid, msgid))
            if loc is None:
                continue
            lo = loc.get(msgid, [])
            if len(lo) != 1:
                probs.append(f'local {f}: {msgid} present {len(lo)} times'
                             + (f' ({", ".join(x.path for x in lo[:3])})' if lo else ''))
            else:
                if lo[0].flags != flags:
                    probs.append(f'local {f}: {msgid} flags {lo[0].flags!r}, expected '
                                 f'{flags!r} ({lo[0].path})')
                if lo[0].digest != want_digest:
                    probs.append(f'local {f}: {msgid} content differs ({lo[0].path})')
    if size_check and body_digest is not None:
        for f, items in size_check.items():
            got = body_digest(f, [u for u, _m in items])
            for uid, msgid in items:
                if got.get(uid) != model.info[msgid][0]:
                    probs.append(f'server {f}: {msgid} (UID {uid}) content differs')
    elif size_check:
        for f, items in size_check.items():
            probs.append(f'server {f}: {len(items)} messages of unexpected size')
    if len(probs) > limit:
        probs = probs[:limit] + [f'... and {len(probs) - limit} more']
    return probs


def server_body_digests(dc, user: str):
    """A body_digest callable for compare()."""
    def fn(folder: str, uids: list[int]) -> dict[int, bytes]:
        bodies = fetch_bodies(dc, user, {folder: uids})
        return {uid: digest(b) for (_f, uid), b in bodies.items()}
    return fn
