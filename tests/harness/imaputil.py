"""IMAP text helpers for the harness's imaplib clients: quoting, modified UTF-7 mailbox
names, UID sets, and parsers for imaplib's FETCH and LIST data."""

from __future__ import annotations

import base64
import imaplib
import re
from typing import Iterable


def quote(name: str | bytes) -> bytes:
    """An IMAP quoted string for a mailbox name (str is encoded to modified UTF-7)."""
    if isinstance(name, str):
        name = mutf7_encode(name)
    return b'"' + name.replace(b'\\', b'\\\\').replace(b'"', b'\\"') + b'"'


def mutf7_encode(s: str) -> bytes:
    """Encode a mailbox name to IMAP modified UTF-7 (RFC 3501 5.1.3)."""
    out = bytearray()
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = ''.join(pending).encode('utf-16-be')
            out.extend(b'&' + base64.b64encode(raw).rstrip(b'=').replace(b'/', b',') + b'-')
            pending.clear()

    for ch in s:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.extend(b'&-' if ch == '&' else ch.encode('ascii'))
        else:
            pending.append(ch)
    flush()
    return bytes(out)


def mutf7_decode(b: bytes) -> str:
    """Decode an IMAP modified UTF-7 mailbox name."""
    out = []
    i = 0
    while i < len(b):
        c = b[i:i + 1]
        if c != b'&':
            out.append(c.decode('ascii'))
            i += 1
            continue
        j = b.index(b'-', i)
        chunk = b[i + 1:j]
        if not chunk:
            out.append('&')
        else:
            chunk = chunk.replace(b',', b'/')
            chunk += b'=' * (-len(chunk) % 4)
            out.append(base64.b64decode(chunk).decode('utf-16-be'))
        i = j + 1
    return ''.join(out)


def uidset(uids: int | Iterable[int]) -> str:
    if isinstance(uids, int):
        return str(uids)
    uids = sorted(set(int(u) for u in uids))
    if not uids:
        raise ValueError('empty UID set')
    return ','.join(str(u) for u in uids)


def flag_list(flags: Iterable[str] | str) -> str:
    if isinstance(flags, str):
        flags = flags.split()
    return '(' + ' '.join(flags) + ')'


def check(typ: str, data, what: str) -> list:
    if typ != 'OK':
        raise imaplib.IMAP4.error(f'{what} failed: {typ} {data!r}')
    return data


FETCH_UID = re.compile(rb'\bUID (\d+)')
FETCH_FLAGS = re.compile(rb'\bFLAGS \(([^)]*)\)')
LIST_LINE = re.compile(rb'\((?P<flags>[^)]*)\) (?P<delim>"(?:[^"\\]|\\.)*"|NIL) (?P<name>.*)$')


def unquote(b: bytes) -> bytes:
    b = b.strip()
    if b.startswith(b'"') and b.endswith(b'"'):
        return re.sub(rb'\\(.)', rb'\1', b[1:-1])
    return b


def parse_fetch(data: list) -> dict[int, dict]:
    """Parse imaplib FETCH data into {uid: {'flags': set, 'body': bytes|None}}.

    Items without a UID (unsolicited FETCH responses) are ignored.
    """
    out: dict[int, dict] = {}
    i = 0
    while i < len(data):
        item = data[i]
        body = None
        if isinstance(item, tuple):
            text, body = item[0], item[1]
            if i + 1 < len(data) and isinstance(data[i + 1], bytes) and \
                    not re.match(rb'\d+ \(', data[i + 1]):
                text += data[i + 1]
                i += 1
        elif isinstance(item, bytes):
            text = item
        else:
            i += 1
            continue
        i += 1
        m = FETCH_UID.search(text)
        if not m:
            continue
        uid = int(m.group(1))
        ent = out.setdefault(uid, {'flags': None, 'body': None})
        fm = FETCH_FLAGS.search(text)
        if fm:
            ent['flags'] = {f.decode() for f in fm.group(1).split()} - {'\\Recent'}
        if body is not None:
            ent['body'] = body
    return out


def parse_list(data: list) -> list[tuple[set[str], str | None, str]]:
    """imaplib LIST data -> [(flags (lowercase), delimiter, decoded name)]."""
    out = []
    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):  # the name came as a literal
            head, raw = item[0], item[1]
            m = LIST_LINE.match(head.rsplit(b' {', 1)[0] + b' x')
        else:
            m = LIST_LINE.match(item)
            raw = unquote(m.group('name')) if m else b''
        if not m:
            raise imaplib.IMAP4.error(f'unparsable LIST response {item!r}')
        delim = m.group('delim')
        out.append(({f.decode().lower() for f in m.group('flags').split()},
                    None if delim == b'NIL' else unquote(delim).decode(),
                    mutf7_decode(raw)))
    return out
