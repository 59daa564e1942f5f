"""Message bytes, end to end against a real Dovecot.

Download: the Maildir file holds exactly the server's bytes with CRLF turned into LF,
whatever the message looks like (raw 8-bit headers in UTF-8 and Latin-1, lines longer than
998 bytes, odd or broken MIME, no final newline, base64 attachments, raw 8-bit bodies, a
5 MB message). Unlike offlineimap3 (which re-serialises through Python's email package),
no byte may change.

Upload: a local file reaches the server as its bytes with LF turned into CRLF (lines that
already end in CRLF keep a single CR), and the local file keeps its content.
"""

from __future__ import annotations

import hashlib
import random

from harness import maildir as md
from harness import runner
from harness.mailgen import CRLF, to_crlf, to_lf


def raw_8bit_body(gen, seed: int) -> bytes:
    """A text/plain 8bit message whose body lines are random bytes 0x20..0xff (no NUL,
    CR or LF): what a broken mailer sends as "binary"."""
    rng = random.Random(seed)
    alphabet = bytes(range(0x20, 0x100))
    lines = [bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 200))) for _ in range(60)]
    hdr = gen.headers(extra=['MIME-Version: 1.0',
                             'Content-Type: text/plain; charset=x-unknown',
                             'Content-Transfer-Encoding: 8bit'])
    return CRLF.join(h.encode() if isinstance(h, str) else h for h in hdr) + CRLF + CRLF + \
        CRLF.join(lines) + CRLF


def message_kinds(gen) -> dict[str, bytes]:
    kinds = {name: make() for name, make in gen.kinds().items()}
    kinds['attachment-binary'] = gen.attachment(150_000, 'image.png')
    kinds['raw-8bit-body'] = raw_8bit_body(gen, gen.seed)
    kinds['long-lines-4k'] = gen.long_lines(4000)
    return kinds


def describe_difference(name: str, want: bytes, got: bytes) -> str:
    if want == got:
        return ''
    n = next((i for i in range(min(len(want), len(got))) if want[i] != got[i]),
             min(len(want), len(got)))
    return (f'{name}: {len(got)} bytes, expected {len(want)}; first difference at offset {n}: '
            f'expected {want[max(0, n - 30):n + 30]!r}, got {got[max(0, n - 30):n + 30]!r}')


def output(r) -> str:
    return r.stdout + r.stderr


def copy_lines(r) -> list[str]:
    return [ln for ln in output(r).splitlines() if 'Copy message' in ln]


# ----------------------------------------------------------------------------- download


def test_downloaded_bytes_are_the_servers_with_lf(oimap, dovecot, mailgen):
    kinds = message_kinds(mailgen)
    uids = {name: dovecot.append('INBOX', msg) for name, msg in kinds.items()}
    served = dovecot.messages('INBOX')
    for name, uid in uids.items():
        assert served[uid][1] == kinds[name], f'{name}: Dovecot changed the message'
    r = oimap.sync()
    assert len(copy_lines(r)) == len(kinds), runner.describe(r)

    local = {m.uid: m for m in md.read_folder(oimap.maildir, 'INBOX')}
    probs = [describe_difference(name, to_lf(served[uid][1]), local[uid].content)
             for name, uid in uids.items() if uid in local]
    probs += [f'{name}: UID {uid} not downloaded' for name, uid in uids.items() if uid not in local]
    probs = [p for p in probs if p]
    assert not probs, 'downloaded messages differ from the server\'s bytes:\n  ' + \
        '\n  '.join(probs)

    # the properties that matter, spelled out
    assert b'\r\n' not in b''.join(m.content for m in local.values()), 'CRLF left in a file'
    assert not local[uids['no-final-newline']].content.endswith(b'\n'), \
        'a message without a final newline must not gain one'
    latin1 = local[uids['8bit-latin1']].content
    assert any(c in latin1 for c in (b'\xfc', b'\xe9', b'\xe7', b'\xe5', b'\xc5')), \
        'raw Latin-1 header bytes must be kept as they are'
    utf8 = local[uids['8bit-utf8']].content.split(b'\n\n')[0]
    assert any(c in utf8 for c in ('ü'.encode(), 'é'.encode(), 'ß'.encode(), 'å'.encode())), \
        'raw UTF-8 header bytes must be kept as they are'
    longest = max(len(ln) for ln in local[uids['long-lines-4k']].content.split(b'\n'))
    assert longest >= 4000, f'a long line was cut or folded (longest now {longest})'
    oimap.assert_in_sync()


def test_five_megabyte_message_both_ways(oimap, dovecot, mailgen):
    big = mailgen.attachment(5 << 20, 'big.bin')
    assert len(big) > 5_000_000
    uid = dovecot.append('INBOX', big, flags=['\\Seen'])
    r = oimap.sync()
    (m,) = [m for m in md.read_folder(oimap.maildir, 'INBOX') if m.uid == uid]
    want = to_lf(big)
    assert hashlib.sha256(m.content).hexdigest() == hashlib.sha256(want).hexdigest(), \
        describe_difference('5 MB download', want, m.content) + '\n' + runner.describe(r)

    # and a big one the other way, written locally with LF
    path = oimap.local_folder('INBOX') / 'tmp' / 'bigupload'
    with open(path, 'wb') as f:
        mailgen.write_attachment(f, 5 << 20, lf=True, filename='up.bin')
    content = path.read_bytes()
    final = oimap.local_folder('INBOX') / 'new' / md.unique_name()
    path.rename(final)
    r = oimap.sync()
    srv = dovecot.messages('INBOX')
    ups = [u for u in srv if u != uid]
    assert len(ups) == 1, f'expected one uploaded message:\n{runner.describe(r)}'
    got = srv[ups[0]][1]
    assert got == to_crlf(content), describe_difference('5 MB upload', to_crlf(content), got)
    (m,) = [m for m in md.read_folder(oimap.maildir, 'INBOX') if m.uid == ups[0]]
    assert m.content == content, 'the uploaded local file must keep its bytes'
    oimap.assert_in_sync()


# ----------------------------------------------------------------------------- upload


def test_uploaded_bytes_are_the_files_with_crlf(oimap, dovecot, mailgen):
    dovecot.append('INBOX', mailgen.plain())
    oimap.sync()
    kinds = {name: to_lf(msg) for name, msg in message_kinds(mailgen).items()}
    # a file some tool wrote with CRLF line endings: no CR may be doubled
    kinds['crlf-file'] = mailgen.plain()
    # a file with mixed endings
    kinds['mixed-endings'] = to_lf(mailgen.plain()).replace(b'\n\n', b'\r\n\r\n', 1)
    inbox = oimap.local_folder('INBOX')
    for name, content in kinds.items():
        md.add_message(inbox, content)

    r = oimap.sync()
    assert len(copy_lines(r)) == len(kinds), runner.describe(r)
    srv = [b for _f, b in dovecot.messages('INBOX').values()]
    probs = []
    for name, content in kinds.items():
        want = to_crlf(content)
        if want not in srv:
            near = min(srv, key=lambda b: abs(len(b) - len(want)))
            probs.append(describe_difference(name, want, near) or f'{name}: not on the server')
    assert not probs, 'uploaded messages differ from the local files with CRLF:\n  ' + \
        '\n  '.join(probs)
    assert len(srv) == len(kinds) + 1, 'every file uploaded exactly once'
    local = [m.content for m in md.read_folder(oimap.maildir, 'INBOX')]
    for name, content in kinds.items():
        assert local.count(content) == 1, f'{name}: the local file changed or was duplicated'
    oimap.assert_in_sync()
    r = oimap.sync()
    assert copy_lines(r) == [], runner.describe(r)
