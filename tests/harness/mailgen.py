"""Deterministic, realistic test messages.

    gen = MailGen(seed=7)
    gen.plain()                    # bytes, CRLF line endings, as on the wire
    gen.attachment(5 << 20)        # a 5 MiB base64 attachment
    for chunk in gen.attachment_chunks(200 << 20): ...   # streamed, never all in memory
    gen.mixed(40)                  # a varied list of messages

Every message has a unique Message-ID and a Date that moves forward. The same seed and the
same sequence of calls give the same bytes. All generators return CRLF line endings;
to_lf() gives the form a Maildir file usually has.
"""

from __future__ import annotations

import base64
import datetime as _dt
import email.utils
import hashlib
import random
from typing import BinaryIO, Callable, Iterator

CRLF = b'\r\n'

_FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan',
          'Judy', 'Mallory', 'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent',
          'Victor', 'Walter', 'Yolanda']
_LAST = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies',
         'Robinson', 'Wright', 'Thompson', 'Evans', 'Walker', 'White', 'Roberts', 'Green']
_DOMAINS = ['example.org', 'example.com', 'example.net', 'mail.example.org',
            'lists.example.com']
_WORDS = ('the quick brown fox jumps over lazy dog meeting tomorrow report draft review '
          'budget release schedule patch build server backup invoice project status '
          'update question answer thanks please attached see below regards cheers agenda '
          'minutes notes deploy rollback incident ticket fix test merge branch').split()
_SUBJECTS = ['Meeting notes', 'Quarterly report', 'Re: build failure on main',
             'Lunch on Friday?', 'Invoice #{n}', 'Fwd: travel plans',
             '[dev] patch v{n}: fix the parser', 'Re: Re: schedule', 'Welcome aboard',
             'Your order {n} has shipped', 'Minutes of the {n}th meeting',
             'Question about the release']


def to_lf(data: bytes) -> bytes:
    """CRLF -> LF (bare CR bytes are kept)."""
    return data.replace(CRLF, b'\n')


def to_crlf(data: bytes) -> bytes:
    """LF -> CRLF for every LF not already preceded by CR."""
    return data.replace(CRLF, b'\n').replace(b'\n', CRLF)


def _lines(*lines: bytes | str) -> bytes:
    out = []
    for ln in lines:
        out.append(ln.encode('utf-8') if isinstance(ln, str) else ln)
    return CRLF.join(out) + CRLF


class MailGen:
    """A seeded message factory. See the module docstring."""

    def __init__(self, seed: int = 0, *,
                 start: _dt.datetime = _dt.datetime(2024, 3, 1, 9, 0, 0,
                                                    tzinfo=_dt.timezone.utc),
                 domain: str = 'example.org'):
        self.seed = seed
        self.rng = random.Random(seed)
        self.domain = domain
        self.count = 0
        self._when = start

    # ------------------------------------------------------------------ pieces

    def _person(self) -> tuple[str, str]:
        first, last = self.rng.choice(_FIRST), self.rng.choice(_LAST)
        addr = f'{first.lower()}.{last.lower()}@{self.rng.choice(_DOMAINS)}'
        return f'{first} {last}', addr

    def _addr_header(self) -> str:
        name, addr = self._person()
        return f'{name} <{addr}>'

    def _sentence(self, n: int | None = None) -> str:
        n = n or self.rng.randint(6, 16)
        words = [self.rng.choice(_WORDS) for _ in range(n)]
        return ' '.join(words).capitalize() + '.'

    def _paragraphs(self, k: int | None = None) -> list[str]:
        k = k or self.rng.randint(1, 4)
        lines: list[str] = []
        for i in range(k):
            if i:
                lines.append('')
            text = ' '.join(self._sentence() for _ in range(self.rng.randint(1, 4)))
            line = ''
            for w in text.split():  # wrap at 72 like a mail client
                if len(line) + len(w) + 1 > 72:
                    lines.append(line)
                    line = w
                else:
                    line = f'{line} {w}' if line else w
            lines.append(line)
        return lines

    def _subject(self) -> str:
        return self.rng.choice(_SUBJECTS).format(n=self.rng.randint(2, 9999))

    def message_id(self) -> str:
        """A fresh unique Message-ID (counts as one message)."""
        self.count += 1
        h = hashlib.sha1(f'{self.seed}:{self.count}'.encode()).hexdigest()[:12]
        return f'<{self.seed}.{self.count}.{h}@{self.domain}>'

    def _date(self) -> str:
        self._when += _dt.timedelta(minutes=self.rng.randint(1, 180),
                                    seconds=self.rng.randint(0, 59))
        return email.utils.format_datetime(self._when)

    @property
    def last_date(self) -> _dt.datetime:
        """The Date of the most recent message."""
        return self._when

    def headers(self, subject: str | bytes | None = None, *,
                from_: str | bytes | None = None, to: str | bytes | None = None,
                extra: list[bytes | str] = ()) -> list[bytes | str]:
        """Standard header lines (no trailing blank line)."""
        mid = self.message_id()
        hdr: list[bytes | str] = [
            'Return-Path: <bounce@example.org>',
            b'From: ' + (from_ if isinstance(from_, bytes) else
                         (from_ or self._addr_header()).encode()),
            b'To: ' + (to if isinstance(to, bytes) else (to or self._addr_header()).encode()),
            b'Subject: ' + (subject if isinstance(subject, bytes) else
                            (subject or self._subject()).encode()),
            f'Date: {self._date()}',
            f'Message-ID: {mid}',
        ]
        hdr.extend(extra)
        return hdr

    # ------------------------------------------------------------------ messages

    def plain(self, subject: str | None = None, body: str | None = None) -> bytes:
        """A plain text/plain message."""
        hdr = self.headers(subject, extra=['MIME-Version: 1.0',
                                           'Content-Type: text/plain; charset=us-ascii',
                                           'Content-Transfer-Encoding: 7bit'])
        lines = body.split('\n') if body is not None else self._paragraphs()
        sig = ['', '-- ', self.rng.choice(_FIRST)]
        return _lines(*hdr, '', *lines, *sig)

    def eight_bit_headers(self, charset: str = 'utf-8') -> bytes:
        """Raw 8-bit bytes (UTF-8 or Latin-1) in Subject and From, 8bit body."""
        if charset.lower() in ('utf-8', 'utf8'):
            enc, cs = 'utf-8', 'utf-8'
        elif charset.lower() in ('latin-1', 'latin1', 'iso-8859-1'):
            enc, cs = 'latin-1', 'iso-8859-1'
        else:
            raise ValueError(charset)
        names = ['Jürgen Müller', 'Zoë Lefèvre', 'François Gaßner', 'Ångström Ødegård']
        subjects = ['Grüße aus Köln', 'Café crème à la française', 'Überweisung für März',
                    'Smörgåsbord på fredag']
        name = self.rng.choice(names)
        subj = self.rng.choice(subjects)
        if enc == 'utf-8' and self.rng.random() < 0.5:
            subj += ' — ✓ 日本語'
        frm = f'{name} <j.m@{self.rng.choice(_DOMAINS)}>'.encode(enc)
        hdr = self.headers(subj.encode(enc), from_=frm,
                           extra=['MIME-Version: 1.0',
                                  f'Content-Type: text/plain; charset={cs}',
                                  'Content-Transfer-Encoding: 8bit'])
        body = [f'{subj}: {self._sentence()}'.encode(enc),
                'Schöne Grüße, ça va très bien.'.encode(enc), b'', name.encode(enc)]
        return _lines(*hdr, '', *body)

    def encoded_words(self) -> bytes:
        """RFC 2047 encoded words (B and Q, UTF-8 and Latin-1) in Subject, From, To."""
        subj_raw = 'Réunion: budget 2024 — prévisions'
        b64 = base64.b64encode(subj_raw.encode('utf-8')).decode()
        subject = f'=?UTF-8?B?{b64}?= =?ISO-8859-1?Q?=28mise_=E0_jour=29?='
        frm = '=?ISO-8859-1?Q?Andr=E9_Gr=FCn?= <andre@example.net>'
        to = '=?utf-8?q?Bj=C3=B6rn?= <bjorn@example.com>, plain@example.org'
        hdr = self.headers(subject, from_=frm, to=to,
                           extra=['MIME-Version: 1.0',
                                  'Content-Type: text/plain; charset=utf-8',
                                  'Content-Transfer-Encoding: quoted-printable'])
        body = ['Bonjour =C3=A0 tous,', '', 'voici les pr=C3=A9visions: ' + self._sentence(),
                'Ligne tr=C3=A8s longue coup=C3=A9e en quoted-printable avec un soft break=',
                ' qui continue ici.']
        return _lines(*hdr, '', *body)

    def long_lines(self, length: int = 1500) -> bytes:
        """A body line and a header line longer than `length` (> 998) bytes."""
        long_body = ' '.join(self.rng.choice(_WORDS) for _ in range(length // 3))[:length]
        long_hdr = 'X-Long-Header: ' + ''.join(self.rng.choice('abcdef0123456789')
                                              for _ in range(length))
        hdr = self.headers(extra=[long_hdr, 'MIME-Version: 1.0',
                                  'Content-Type: text/plain; charset=us-ascii'])
        return _lines(*hdr, '', 'Short first line.', long_body, 'x' * length, 'Last line.')

    def html(self) -> bytes:
        """multipart/alternative with a text part and a quoted-printable HTML part."""
        b = self._boundary()
        paras = self._paragraphs(2)
        html = ['<!DOCTYPE html>', '<html><head><meta http-equiv=3D"Content-Type" '
                'content=3D"text/html; charset=3Dutf-8"></head>', '<body style=3D"font:14px">']
        html += [f'<p>{p}</p>' for p in paras if p]
        html += ['<table border=3D"1"><tr><td>caf=C3=A9</td><td>=E2=82=AC 12</td></tr></table>',
                 '</body></html>']
        hdr = self.headers(extra=['MIME-Version: 1.0',
                                  f'Content-Type: multipart/alternative; boundary="{b}"'])
        return _lines(*hdr, '', 'This is a multi-part message in MIME format.', '',
                      f'--{b}', 'Content-Type: text/plain; charset=utf-8',
                      'Content-Transfer-Encoding: 7bit', '', *paras, '',
                      f'--{b}', 'Content-Type: text/html; charset=utf-8',
                      'Content-Transfer-Encoding: quoted-printable', '', *html, '',
                      f'--{b}--')

    def nested_multipart(self, depth: int = 3) -> bytes:
        """multipart/mixed nesting multipart/alternative, multipart/related, a small
        attachment and an embedded message/rfc822, `depth` levels deep."""
        hdr = self.headers(extra=['MIME-Version: 1.0'])
        return _lines(*hdr) + self._nested_part(depth)

    def _nested_part(self, depth: int) -> bytes:
        b = self._boundary()
        if depth <= 1:
            return _lines('Content-Type: text/plain; charset=us-ascii', '',
                          *self._paragraphs(1))
        inner = self._nested_part(depth - 1)
        att = base64.encodebytes(self.rng.randbytes(300)).replace(b'\n', CRLF)
        embedded = _lines(f'From: {self._addr_header()}', f'Subject: {self._subject()}',
                          f'Date: {self._date()}', f'Message-ID: {self.message_id()}', '',
                          *self._paragraphs(1))
        kind = ['mixed', 'alternative', 'related'][depth % 3]
        return (_lines(f'Content-Type: multipart/{kind}; boundary="{b}"', '',
                       'Preamble text that readers ignore.', f'--{b}') + inner
                + _lines('', f'--{b}', 'Content-Type: application/octet-stream; name="d.bin"',
                         'Content-Transfer-Encoding: base64',
                         'Content-Disposition: attachment; filename="d.bin"', '')
                + att + _lines(f'--{b}', 'Content-Type: message/rfc822', '') + embedded
                + _lines(f'--{b}--', 'Epilogue.'))

    def missing_final_boundary(self) -> bytes:
        """A multipart whose closing boundary line (--b--) never comes."""
        b = self._boundary()
        hdr = self.headers(extra=['MIME-Version: 1.0',
                                  f'Content-Type: multipart/mixed; boundary="{b}"'])
        return _lines(*hdr, '', f'--{b}', 'Content-Type: text/plain', '',
                      *self._paragraphs(1), f'--{b}', 'Content-Type: text/plain', '',
                      'The message ends here, without the final boundary.')

    def multipart_without_boundary(self) -> bytes:
        """Content-Type multipart/mixed with no boundary parameter."""
        hdr = self.headers(extra=['MIME-Version: 1.0', 'Content-Type: multipart/mixed'])
        return _lines(*hdr, '', '--notaboundary', 'Content-Type: text/plain', '',
                      *self._paragraphs(1), '--notaboundary--')

    def no_final_newline(self) -> bytes:
        """A message whose last line has no line ending."""
        return self.plain().rstrip(CRLF)

    # ------------------------------------------------------------------ attachments

    def _attachment_head(self, size: int, filename: str | None) -> tuple[bytes, bytes, str]:
        b = self._boundary()
        filename = filename or f'data-{self.count + 1}.bin'
        hdr = self.headers(f'Attachment {filename} ({size} bytes)',
                           extra=['MIME-Version: 1.0',
                                  f'Content-Type: multipart/mixed; boundary="{b}"'])
        head = _lines(*hdr, '', f'--{b}', 'Content-Type: text/plain; charset=us-ascii', '',
                      f'See the attached file, {size} bytes.', '', f'--{b}',
                      f'Content-Type: application/octet-stream; name="{filename}"',
                      'Content-Transfer-Encoding: base64',
                      f'Content-Disposition: attachment; filename="{filename}"', '')
        tail = _lines(f'--{b}--')
        return head, tail, f'{self.seed}:{self.count}:{size}'

    def attachment_chunks(self, size: int, filename: str | None = None,
                          chunk: int = 57 * 1024) -> Iterator[bytes]:
        """A message with a base64 attachment of `size` raw bytes, as an iterator of
        chunks (memory stays at about `chunk` bytes whatever the size)."""
        head, tail, key = self._attachment_head(size, filename)
        data_rng = random.Random(key)
        yield head
        left = size
        chunk -= chunk % 57  # whole base64 lines of 76 characters per chunk
        while left > 0:
            n = min(chunk, left)
            raw = data_rng.randbytes(n)
            left -= n
            out = bytearray()
            for i in range(0, n, 57):
                out += base64.b64encode(raw[i:i + 57]) + CRLF
            yield bytes(out)
        yield tail

    def attachment(self, size: int, filename: str | None = None) -> bytes:
        """attachment_chunks() joined into one bytes object."""
        return b''.join(self.attachment_chunks(size, filename))

    def write_attachment(self, out: BinaryIO, size: int, *, lf: bool = False,
                         filename: str | None = None) -> int:
        """Stream an attachment message to a binary file; returns the bytes written."""
        total = 0
        for c in self.attachment_chunks(size, filename):
            if lf:
                c = to_lf(c)
            out.write(c)
            total += len(c)
        return total

    # ------------------------------------------------------------------ collections

    def _boundary(self) -> str:
        return '=_' + ''.join(self.rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')
                              for _ in range(24))

    def kinds(self) -> dict[str, Callable[[], bytes]]:
        """The small message kinds by name."""
        return {
            'plain': self.plain,
            '8bit-utf8': lambda: self.eight_bit_headers('utf-8'),
            '8bit-latin1': lambda: self.eight_bit_headers('latin-1'),
            'encoded-words': self.encoded_words,
            'long-lines': self.long_lines,
            'html': self.html,
            'nested': self.nested_multipart,
            'missing-final-boundary': self.missing_final_boundary,
            'multipart-no-boundary': self.multipart_without_boundary,
            'no-final-newline': self.no_final_newline,
            'attachment-small': lambda: self.attachment(self.rng.randint(1000, 40000)),
        }

    def one_of_each(self) -> list[bytes]:
        """One message of every kind, in a fixed order."""
        return [f() for f in self.kinds().values()]

    def mixed(self, n: int, *, plain_share: float = 0.6) -> list[bytes]:
        """n messages: plain ones (share `plain_share`), the others cycling through
        every other kind."""
        others = [f for name, f in self.kinds().items() if name != 'plain']
        out, j = [], 0
        for _ in range(n):
            if self.rng.random() < plain_share:
                out.append(self.plain())
            else:
                out.append(others[j % len(others)]())
                j += 1
        return out


def mixed(n: int, seed: int = 0) -> list[bytes]:
    """Shortcut for MailGen(seed).mixed(n)."""
    return MailGen(seed).mixed(n)
