"""Read and change a local Maildir tree the way offlineimap names it.

Layout (offlineimap's Maildir repository): each folder is a directory holding cur/, new/
and tmp/. With sep '.', folder "Archive.2024" is the directory <root>/Archive.2024;
with sep '/', folder "Archive/2024" is <root>/Archive/2024 and sub-directories are
searched recursively. INBOX is <root>/INBOX. Message files are named

    <time>_<seq>.<pid>.<host>,U=<uid>,FMD5=<md5 of the folder name>:2,<flags>

where the info part (":2,FLAGS", or "!2,FLAGS" with maildir-windows-compatible) is
present even in new/. Files written by a mail reader have a plain unique name and no
U=/FMD5=; add_message() makes such files, set_flags() renames like mutt.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

RE_UID = re.compile(r',U=(\d+)')
RE_FMD5 = re.compile(r',FMD5=([0-9a-fA-F]{32})')

_counter = itertools.count(1)


def folder_md5(name: str) -> str:
    """The FMD5 offlineimap puts in file names: md5 of the local folder name."""
    return hashlib.md5(name.encode('utf-8')).hexdigest()


def parse_name(name: str, infosep: str = ':') -> dict:
    """Split a message file name: base (before the info part), uid, fmd5, flags
    (the letters after ':2,', '' if none) and has_info."""
    m = re.search(re.escape(infosep) + r'2,(\w*)', name)
    flags = m.group(1) if m else ''
    base = name[:m.start()] if m else name
    um, fm = RE_UID.search(name), RE_FMD5.search(name)
    return {'base': base, 'uid': int(um.group(1)) if um else None,
            'fmd5': fm.group(1).lower() if fm else None, 'flags': flags,
            'has_info': m is not None}


@dataclass
class MaildirMessage:
    folder: str           # folder name with the local separator, e.g. "Archive.2024"
    path: Path            # full path of the file
    subdir: str           # 'new' or 'cur'
    name: str             # file name
    base: str             # name without the info part
    uid: int | None       # from ,U=<uid>
    fmd5: str | None      # from ,FMD5=<hex>
    flags: str            # flag letters as they appear after ':2,'
    has_info: bool        # the name carries ':2,...'
    _content: bytes | None = field(default=None, repr=False)

    @property
    def content(self) -> bytes:
        if self._content is None:
            self._content = self.path.read_bytes()
        return self._content

    @property
    def fmd5_matches(self) -> bool:
        """True when FMD5 is the md5 of this folder's name (offlineimap then trusts U=)."""
        return self.fmd5 == folder_md5(self.folder)

    @property
    def flag_set(self) -> frozenset:
        return frozenset(self.flags)


def is_maildir(path: Path) -> bool:
    return all((path / d).is_dir() for d in ('cur', 'new', 'tmp'))


def list_folders(root: str | os.PathLike, sep: str = '.') -> list[str]:
    """Folder names under root, as offlineimap's Maildir repository finds them."""
    root = Path(root)
    out: list[str] = []

    def scan(ext: str | None) -> None:
        top = root / ext if ext else root
        try:
            names = sorted(os.listdir(top))
        except FileNotFoundError:
            return
        for d in names + ([''] if ext is None else []):
            if d in ('cur', 'new', 'tmp'):
                continue
            full = top / d if d else top
            if not full.is_dir():
                continue
            name = f'{ext}/{d}' if ext else d
            if is_maildir(full):
                out.append(name)
            if sep == '/' and d:
                scan(name)

    scan(None)
    return sorted(out)


def folder_dir(root: str | os.PathLike, folder: str) -> Path:
    """The directory of a folder (the same rule for both separators)."""
    return Path(root) / folder if folder else Path(root)


def read_folder(root: str | os.PathLike, folder: str, *, infosep: str = ':',
                load: bool = True) -> list[MaildirMessage]:
    """Messages in new/ and cur/ of one folder, dot files skipped, sorted by subdir and
    name. load=True reads the contents now."""
    d = folder_dir(root, folder)
    out = []
    for sub in ('new', 'cur'):
        try:
            names = sorted(os.listdir(d / sub))
        except FileNotFoundError:
            continue
        for n in names:
            if n.startswith('.'):
                continue
            p = parse_name(n, infosep)
            m = MaildirMessage(folder=folder, path=d / sub / n, subdir=sub, name=n,
                               base=p['base'], uid=p['uid'], fmd5=p['fmd5'],
                               flags=p['flags'], has_info=p['has_info'])
            if load:
                m.content  # noqa: B018 (read now)
            out.append(m)
    return out


def read_tree(root: str | os.PathLike, sep: str = '.', *, infosep: str = ':',
              load: bool = True) -> dict[str, list[MaildirMessage]]:
    """{folder: [MaildirMessage]} for every folder under root."""
    return {f: read_folder(root, f, infosep=infosep, load=load)
            for f in list_folders(root, sep)}


def make_folder(root: str | os.PathLike, folder: str) -> Path:
    """Create a folder (with cur/new/tmp) like offlineimap's makefolder."""
    d = folder_dir(root, folder)
    for sub in ('cur', 'new', 'tmp'):
        (d / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def unique_name(hostname: str = 'testhost', when: float | None = None) -> str:
    """A plain Maildir unique name, as delivery agents and mail readers make them."""
    t = time.time() if when is None else when
    sec = int(t)
    usec = int((t - sec) * 1e6)
    return f'{sec}.M{usec}P{os.getpid()}Q{next(_counter)}.{hostname}'


def add_message(folder_path: str | os.PathLike, content: bytes, *, flags: str = '',
                subdir: str | None = None, hostname: str = 'testhost',
                when: float | None = None, infosep: str = ':') -> Path:
    """Deliver a message like a mail reader: write tmp/<unique>, then rename into new/
    (no info part) or, when flags are given or subdir='cur', into cur/ as
    <unique>:2,<sorted flags>. No U= or FMD5=. Returns the final path."""
    d = Path(folder_path)
    if not is_maildir(d):
        raise FileNotFoundError(f'{d} is not a Maildir folder (cur/new/tmp missing)')
    name = unique_name(hostname, when)
    tmp = d / 'tmp' / name
    with open(tmp, 'xb') as f:
        f.write(content)
    if subdir is None:
        subdir = 'cur' if flags else 'new'
    final = d / subdir / (name + (f'{infosep}2,{"".join(sorted(flags))}'
                                  if subdir == 'cur' else ''))
    os.rename(tmp, final)
    if when is not None:
        os.utime(final, (when, when))
    return final


def set_flags(path: str | os.PathLike, flags: str, *, infosep: str = ':') -> Path:
    """Change a message's flags by renaming, as mutt does: the file moves to cur/ and
    its info part becomes ':2,' + the sorted flags; the rest of the name is kept.
    Returns the new path."""
    p = Path(path)
    parts = parse_name(p.name, infosep)
    new = p.parent.parent / 'cur' / f'{parts["base"]}{infosep}2,{"".join(sorted(set(flags)))}'
    if new != p:
        os.rename(p, new)
    return new


def add_flags(path: str | os.PathLike, flags: str, *, infosep: str = ':') -> Path:
    cur = parse_name(Path(path).name, infosep)['flags']
    return set_flags(path, ''.join(set(cur) | set(flags)), infosep=infosep)


def remove_flags(path: str | os.PathLike, flags: str, *, infosep: str = ':') -> Path:
    cur = parse_name(Path(path).name, infosep)['flags']
    return set_flags(path, ''.join(set(cur) - set(flags)), infosep=infosep)


def delete(path: str | os.PathLike) -> None:
    """Delete a message file (a mail reader's expunge)."""
    os.unlink(path)


def hostname() -> str:
    """socket.gethostname() with '/' replaced, as offlineimap puts it in names."""
    return socket.gethostname().replace('/', '-')
