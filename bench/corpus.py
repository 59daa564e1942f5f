"""A deterministic mail corpus, written straight into a Dovecot user's Maildir++.

    spec = SIZES['small']
    corpus = Corpus(spec, seed=1)
    model = corpus.write(maildir_root, uid, gid)    # the expected state

The same spec and seed always give the same folders, file names, bytes, flags and dates.
Messages are stored with LF line endings (as Maildir files usually are); Dovecot serves
them as CRLF. File names carry S= (file size) and W= (size with CRLF), so Dovecot never
has to read a file to learn its size.

Size mix (small and medium): most messages are text of 2-20 KB; a few percent carry an
attachment of 20-150 KB; a handful carry one of several MB; one message is 50 MB. The
large size is one folder of small text messages (1-4 KB).
"""

from __future__ import annotations

import base64
import datetime as _dt
import email.utils
import hashlib
import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

MB = 1 << 20
KB = 1 << 10

# Flags as Maildir letters (Dovecot's file names); only the system flags every tool maps
# the same way. \Deleted (T) is left out: mbsync with "Expunge Both" would expunge it.
LETTER_TO_FLAG = {'D': '\\Draft', 'F': '\\Flagged', 'R': '\\Answered', 'S': '\\Seen'}
FLAG_TO_LETTER = {v: k for k, v in LETTER_TO_FLAG.items()}


@dataclass(frozen=True)
class SizeSpec:
    name: str
    folders: tuple[str, ...]        # server names, '.' separator
    messages: int                   # regular messages (without the big ones)
    text_kb: tuple[int, int]        # size range of text messages
    mid_share: float                # share with a 20-150 KB attachment
    big: int                        # messages with an attachment of several MB
    big_mb: tuple[int, int]
    huge_mb: int                    # one message of this size (0: none)


def _medium_folders() -> tuple[str, ...]:
    names = ['INBOX', 'Sent', 'Drafts', 'Archive']
    names += [f'Archive.{y}' for y in range(2010, 2025)]
    names += ['Lists'] + [f'Lists.{n}' for n in (
        'announce', 'dev', 'users', 'security', 'debian-devel', 'lkml', 'netdev',
        'dovecot', 'isync', 'offlineimap', 'python', 'rust', 'golang', 'postgres',
        'nginx', 'openssl', 'git', 'gcc', 'llvm', 'meson')]
    names += ['Work'] + [f'Work.{n}' for n in (
        'alpha', 'beta', 'gamma', 'hiring', 'ops', 'planning', 'reports', 'travel',
        'vendors')]
    assert len(names) == 50, len(names)
    return tuple(names)


SIZES: dict[str, SizeSpec] = {
    'tiny': SizeSpec('tiny', ('INBOX', 'Sent', 'Archive', 'Archive.2024'), 120,
                     (2, 20), 0.05, 1, (1, 2), 8),
    'small': SizeSpec('small', ('INBOX', 'Sent', 'Drafts', 'Archive', 'Archive.2023',
                                'Archive.2024', 'Lists', 'Lists.dev', 'Lists.announce',
                                'Work'),
                      2000, (2, 20), 0.04, 3, (2, 5), 50),
    'medium': SizeSpec('medium', _medium_folders(), 20000, (2, 20), 0.03, 8, (2, 6), 50),
    'large': SizeSpec('large', ('INBOX',), 1_000_000, (1, 4), 0.0, 0, (0, 0), 0),
}

_FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan',
          'Judy', 'Mallory', 'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent',
          'Victor', 'Walter', 'Yolanda', 'Zoë', 'Jürgen', 'François', 'Åsa']
_LAST = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies',
         'Robinson', 'Wright', 'Thompson', 'Evans', 'Walker', 'White', 'Roberts', 'Green',
         'Müller', 'Lefèvre']
_DOMAINS = ['example.org', 'example.com', 'example.net', 'mail.example.org',
            'lists.example.com', 'corp.example']
_WORDS = ('the quick brown fox jumps over lazy dog meeting tomorrow report draft review '
          'budget release schedule patch build server backup invoice project status '
          'update question answer thanks please attached see below regards cheers agenda '
          'minutes notes deploy rollback incident ticket fix test merge branch kernel '
          'memory latency throughput mailbox folder message header quoted printable '
          'customer contract shipping order delivery calendar holiday office coffee').split()
_SUBJECTS = ['Meeting notes', 'Quarterly report', 'Re: build failure on main',
             'Lunch on Friday?', 'Invoice #{n}', 'Fwd: travel plans',
             '[dev] [PATCH v{n}] fix the parser', 'Re: Re: schedule', 'Welcome aboard',
             'Your order {n} has shipped', 'Minutes of the {n}th meeting',
             'Question about the release', 'Re: incident {n} follow-up',
             'Weekly status {n}', 'Re: [announce] version 1.{n} released']
_ATTACH = [('report.pdf', 'application/pdf'), ('photo.jpg', 'image/jpeg'),
           ('data.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'),
           ('slides.odp', 'application/vnd.oasis.opendocument.presentation'),
           ('archive.zip', 'application/zip')]

EPOCH = _dt.datetime(2015, 1, 5, 8, 0, 0, tzinfo=_dt.timezone.utc)


def crlf_size(data: bytes) -> int:
    """The size Dovecot reports (RFC822.SIZE) for LF-only data."""
    return len(data) + data.count(b'\n')


def normalize(data: bytes) -> bytes:
    """The comparable form of a message: LF line endings, without the X-TUID header that
    mbsync adds to every message it copies, or offlineimap's X-OfflineIMAP."""
    if b'\r' in data:
        data = data.replace(b'\r\n', b'\n')
    end = data.find(b'\n\n')
    head = data if end < 0 else data[:end + 1]
    if b'X-TUID:' in head or b'X-OfflineIMAP:' in head:
        lines = head.split(b'\n')
        keep = [ln for ln in lines if not (ln.startswith(b'X-TUID:')
                                           or ln.startswith(b'X-OfflineIMAP:'))]
        data = b'\n'.join(keep) + (data[end + 1:] if end >= 0 else b'')
    return data


def digest(data: bytes) -> bytes:
    """sha1 of the normalized message (16 bytes are plenty)."""
    return hashlib.sha1(normalize(data)).digest()[:16]


@dataclass
class Model:
    """The expected state: {folder: {message-id: flag letters}} and, per message-id,
    (digest of the normalized bytes, size as served with CRLF)."""
    folders: dict[str, dict[str, str]] = field(default_factory=dict)
    info: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    huge_msgid: str | None = None
    huge_file: str | None = None      # relative path in the Maildir of the 50 MB file

    def total(self) -> int:
        return sum(len(v) for v in self.folders.values())

    def copy(self) -> 'Model':
        m = Model({f: dict(v) for f, v in self.folders.items()}, self.info,
                  self.huge_msgid, self.huge_file)
        return m


class MessageFactory:
    """Seeded message maker. Text comes from a pool of pseudo-English lines, so a 20 KB
    body costs a slice, not 3,000 random draws."""

    def __init__(self, seed: int, tag: str):
        self.rng = random.Random(f'{seed}:{tag}')
        self.seed = seed
        self.tag = tag
        self.count = 0
        self.when = EPOCH
        lines, n = [], 0
        while n < 2 * MB:
            words = [self.rng.choice(_WORDS) for _ in range(self.rng.randint(9, 13))]
            ln = ' '.join(words)
            if self.rng.random() < 0.08:
                ln = '> ' + ln
            lines.append(ln.encode())
            if self.rng.random() < 0.15:
                lines.append(b'')
            n += len(ln) + 1
        self.pool = b'\n'.join(lines) + b'\n'
        self.line_starts = [0]
        for i, b in enumerate(self.pool):
            if b == 10:
                self.line_starts.append(i + 1)
        self.line_starts.pop()

    def _person(self) -> tuple[str, str]:
        first, last = self.rng.choice(_FIRST), self.rng.choice(_LAST)
        ascii_first = first.encode('ascii', 'ignore').decode().lower() or 'user'
        ascii_last = last.encode('ascii', 'ignore').decode().lower() or 'user'
        return f'{first} {last}', f'{ascii_first}.{ascii_last}@{self.rng.choice(_DOMAINS)}'

    def _text(self, n: int) -> bytes:
        """About n bytes of text, whole lines."""
        out = []
        left = n
        while left > 0:
            start = self.line_starts[self.rng.randrange(len(self.line_starts))]
            piece = self.pool[start:start + min(left, 64 * KB)]
            cut = piece.rfind(b'\n')
            piece = piece[:cut + 1] if cut > 0 else piece + b'\n'
            out.append(piece)
            left -= len(piece)
        return b''.join(out)

    def headers(self, content_type: str, extra: list[str] = ()) -> tuple[bytes, str, float]:
        self.count += 1
        self.when += _dt.timedelta(seconds=self.rng.randint(60, 5400))
        date = email.utils.format_datetime(self.when)
        h = hashlib.sha1(f'{self.seed}:{self.tag}:{self.count}'.encode()).hexdigest()
        msgid = f'<{self.tag}.{self.count}.{h[:16]}@bench.example.org>'
        fname, faddr = self._person()
        tname, taddr = self._person()
        lines = [
            f'Return-Path: <{faddr}>',
            f'Received: from mx{self.rng.randint(1, 9)}.{faddr.split("@")[1]} '
            f'(mx.{faddr.split("@")[1]} [192.0.2.{self.rng.randint(1, 254)}])',
            f'\tby mail.example.org (Postfix) with ESMTPS id {h[16:28].upper()}',
            f'\tfor <{taddr}>; {date}',
            f'From: {fname} <{faddr}>',
            f'To: {tname} <{taddr}>',
        ]
        if self.rng.random() < 0.3:
            cname, caddr = self._person()
            lines.append(f'Cc: {cname} <{caddr}>')
        subject = self.rng.choice(_SUBJECTS).format(n=self.rng.randint(2, 9999))
        lines += [f'Subject: {subject}', f'Date: {date}', f'Message-ID: {msgid}',
                  'MIME-Version: 1.0', f'Content-Type: {content_type}', *extra]
        return ('\n'.join(lines) + '\n').encode(), msgid, self.when.timestamp()

    def text_message(self, size: int) -> tuple[bytes, str, float]:
        head, msgid, when = self.headers('text/plain; charset=utf-8',
                                         ['Content-Transfer-Encoding: 8bit'])
        body = self._text(max(64, size - len(head) - 1))
        return head + b'\n' + body, msgid, when

    def attachment_message(self, size: int) -> tuple[bytes, str, float]:
        """A multipart/mixed message of about `size` bytes with one base64 attachment."""
        boundary = '=_bench_' + ''.join(self.rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')
                                        for _ in range(20))
        fname, ctype = self.rng.choice(_ATTACH)
        head, msgid, when = self.headers(f'multipart/mixed; boundary="{boundary}"')
        text = self._text(self.rng.randint(300, 2000))
        raw_len = max(57, (size - len(head) - len(text) - 400) * 57 // 77)
        raw = self.rng.randbytes(raw_len)
        b64 = base64.encodebytes(raw)  # 76-character lines ending in LF
        parts = [head, b'\nThis is a multi-part message in MIME format.\n\n',
                 f'--{boundary}\nContent-Type: text/plain; charset=utf-8\n'
                 f'Content-Transfer-Encoding: 8bit\n\n'.encode(), text,
                 f'\n--{boundary}\nContent-Type: {ctype}; name="{fname}"\n'
                 f'Content-Transfer-Encoding: base64\n'
                 f'Content-Disposition: attachment; filename="{fname}"\n\n'.encode(),
                 b64, f'--{boundary}--\n'.encode()]
        return b''.join(parts), msgid, when

    def regular(self, text_kb: tuple[int, int], mid_share: float) -> tuple[bytes, str, float]:
        """One message of the everyday mix: log-uniform text size, sometimes a small
        attachment."""
        if mid_share and self.rng.random() < mid_share:
            size = int(math.exp(self.rng.uniform(math.log(20 * KB), math.log(150 * KB))))
            return self.attachment_message(size)
        lo, hi = text_kb
        size = int(math.exp(self.rng.uniform(math.log(lo * KB), math.log(hi * KB))))
        return self.text_message(size)


def random_flags(rng: random.Random, folder: str) -> str:
    """Maildir flag letters (sorted) with a realistic mix."""
    if folder == 'Drafts':
        return 'DS' if rng.random() < 0.5 else 'D'
    u = rng.random()
    if u < 0.25:
        letters = ''
    elif u < 0.9:
        letters = 'S'
    else:
        letters = 'RS'
    if rng.random() < 0.05:
        letters += 'F'
    return ''.join(sorted(letters))


class Corpus:
    """The corpus of one size and seed. See the module docstring."""

    def __init__(self, spec: SizeSpec, seed: int = 1):
        self.spec = spec
        self.seed = seed

    def folder_counts(self) -> dict[str, int]:
        """Messages per folder (regular ones), a skewed but fixed split."""
        rng = random.Random(f'{self.seed}:split')
        names = self.spec.folders
        weights = []
        for n in names:
            w = rng.lognormvariate(0, 0.8)
            if n == 'INBOX':
                w *= 3
            elif n == 'Drafts':
                w *= 0.05
            weights.append(w)
        total = sum(weights)
        counts = {n: max(1, int(self.spec.messages * w / total)) for n, w in zip(names, weights)}
        diff = self.spec.messages - sum(counts.values())
        counts[names[0]] += diff
        return counts

    def folder_dir(self, root: Path, folder: str) -> Path:
        return root if folder == 'INBOX' else root / f'.{folder}'

    def write(self, root: str | os.PathLike, uid: int = -1, gid: int = -1,
              progress=None) -> Model:
        """Write every message into the Maildir++ tree at `root` (owned by uid:gid) and
        return the expected state."""
        root = Path(root)
        spec = self.spec
        rng = random.Random(f'{self.seed}:layout')
        fac = MessageFactory(self.seed, f'c{self.seed}')
        model = Model()
        counts = self.folder_counts()
        total = sum(counts.values())
        # Which regular-message slots become the big ones, and where the 50 MB one goes.
        big_slots = set(rng.sample(range(total), spec.big)) if spec.big else set()
        huge_slot = rng.randrange(total) if spec.huge_mb else -1
        if huge_slot in big_slots:
            big_slots.discard(huge_slot)

        def mkdirs(d: Path) -> None:
            for sub in ('', 'cur', 'new', 'tmp'):
                p = d / sub if sub else d
                p.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chown(p, uid, gid)

        for parent in (root.parent, root):
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chown(parent, uid, gid)
        slot = 0
        seq = 0
        for folder in spec.folders:
            d = self.folder_dir(root, folder)
            mkdirs(d)
            if folder != 'INBOX':
                (d / 'maildirfolder').touch()
                os.chown(d / 'maildirfolder', uid, gid)
            fmodel = model.folders.setdefault(folder, {})
            for _ in range(counts[folder]):
                if slot == huge_slot:
                    data, msgid, when = fac.attachment_message(spec.huge_mb * MB)
                elif slot in big_slots:
                    size = rng.randint(spec.big_mb[0] * MB, spec.big_mb[1] * MB)
                    data, msgid, when = fac.attachment_message(size)
                else:
                    data, msgid, when = fac.regular(spec.text_kb, spec.mid_share)
                flags = random_flags(rng, folder)
                seq += 1
                name = (f'{int(when)}.M{seq % 1000000}P4242Q{seq}.benchhost,'
                        f'S={len(data)},W={crlf_size(data)}:2,{flags}')
                path = d / 'cur' / name
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fchown(fd, uid, gid)
                finally:
                    os.close(fd)
                os.utime(path, (when, when))
                fmodel[msgid] = flags
                model.info[msgid] = (digest(data), crlf_size(data))
                if slot == huge_slot:
                    model.huge_msgid = msgid
                    model.huge_file = str(path.relative_to(root))
                slot += 1
                if progress and slot % 20000 == 0:
                    progress(slot, total)
        subs = root / 'subscriptions'
        subs.write_text(''.join(f'{f}\n' for f in spec.folders if f != 'INBOX'))
        os.chown(subs, uid, gid)
        return model

    def describe(self, model: Model) -> str:
        counts = {f: len(v) for f, v in model.folders.items()}
        sizes = sorted(sz for _d, sz in model.info.values())
        total = sum(sizes)
        big = [s for s in sizes if s >= MB]
        return (f'{len(counts)} folders, {sum(counts.values())} messages, '
                f'{total / MB:.1f} MiB as served (CRLF); median message '
                f'{sizes[len(sizes) // 2] / KB:.1f} KiB; {len(big)} messages of 1 MiB or more'
                + (f' (largest {big[-1] / MB:.1f} MiB)' if big else ''))
