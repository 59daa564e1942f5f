"""Interoperation with offlineimap3 (/usr/bin/offlineimap) on the same Maildir and metadata.

A user switching in either direction must see no re-download, no re-upload, no folder
created again and no "Creating new Local Status db": each program takes the other's file
names, status databases and FolderValidity files as its own, and later changes on either
side still sync. The metadata ours writes must be what offlineimap3 writes: the same
files, the same sqlite schema and rows, the same FolderValidity contents.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from harness import maildir as md
from harness import runner
from harness.imaputil import mutf7_encode
from harness.mailgen import to_crlf, to_lf

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not runner.OFFLINEIMAP3.exists(),
                       reason=f'{runner.OFFLINEIMAP3} is not installed'),
]

OIMAP3 = runner.OFFLINEIMAP3
CHANGE_MARKERS = ('Copy message', 'Deleting ', 'Adding flag', 'Deleting flag',
                  'Creating folder', 'Creating new Local Status db')
FOLDERS = ['INBOX', 'Work', 'Archive.2024', 'Empty', 'My Folder', 'Ünïcødé']
FLAGS = [(), ('\\Seen',), ('\\Seen', '\\Flagged'), ('\\Answered', '\\Seen'), ('\\Draft',),
         ('\\Flagged',), ('\\Seen', '$Forwarded')]
# message kinds both programs store the same way (offlineimap3 re-serialises a multipart
# without its final boundary or without a boundary parameter; see test_sync_bytes.py)
KINDS = ['plain', '8bit-utf8', '8bit-latin1', 'encoded-words', 'long-lines', 'html', 'nested',
         'no-final-newline', 'attachment-small']


def output(r) -> str:
    return r.stdout + r.stderr


def change_lines(r) -> list[str]:
    return [ln for ln in output(r).splitlines() if any(m in ln for m in CHANGE_MARKERS)]


def raw(name: str) -> str:
    return mutf7_encode(name).decode('ascii')


def seed(dc, gen) -> None:
    kinds = gen.kinds()
    i = 0
    for f in FOLDERS:
        if f != 'INBOX':
            dc.create(f)
        if f == 'Empty':
            continue
        for _ in range(4 if f == 'INBOX' else 2):
            dc.append(f, kinds[KINDS[i % len(KINDS)]](), flags=FLAGS[i % len(FLAGS)])
            i += 1


def snap(s: runner.Setup) -> runner.Snapshot:
    sn = runner.snapshot(s.dovecot, s.maildir, sep=s.sep)
    sn.server = {raw(f): v for f, v in sn.server.items()}
    return sn


def local_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*'))
            if p.is_file() and p.parent.name in ('new', 'cur', 'tmp')}


def server_state(dc) -> dict:
    return {f: (dc.status(f, ('MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'HIGHESTMODSEQ')),
                dc.messages(f)) for f in dc.list_folders(selectable_only=True)}


def db_dump(db: Path) -> dict:
    """What offlineimap3 reads of a status DB.  Our own extra table (oimapc_state: saved
    counters and upload intents, which offlineimap3 never reads) is left out on purpose."""
    con = sqlite3.connect(f'file:{db}?mode=ro', uri=True)
    try:
        return {
            'schema': sorted(r for r in con.execute(
                'SELECT type, name, tbl_name, sql FROM sqlite_master')
                if not r[2].startswith('oimapc_')),
            'metadata': sorted(con.execute('SELECT key, value FROM metadata')),
            'status': sorted(con.execute('SELECT id, flags, mtime, labels FROM status')),
        }
    finally:
        con.close()


def metadata_state(meta: Path) -> dict[str, object]:
    """Every file under the metadata directory: sqlite DBs dumped, others read."""
    out: dict[str, object] = {}
    for p in sorted(meta.rglob('*')):
        # Our private lock file (offlineimap3 removes its own lock file even when
        # it failed to take it, so ours keeps a second one that nothing removes),
        # and our skip list (a cache of the saved states, which offlineimap3 never
        # reads; test_skip_list.py checks that a database offlineimap3 wrote is read).
        if p.is_file() and p.name not in ('.oimapc.lock', '.oimapc-skip'):
            rel = str(p.relative_to(meta))
            out[rel] = db_dump(p) if p.parent.name == 'LocalStatus-sqlite' else p.read_bytes()
    return out


def state(s: runner.Setup) -> dict:
    return {'local': local_files(s.maildir), 'server': server_state(s.dovecot),
            'metadata': metadata_state(s.metadata)}


def assert_same(before: dict, after: dict, what: str) -> None:
    probs = []
    for k in ('local', 'server', 'metadata'):
        b, a = before[k], after[k]
        for name in sorted(set(b) | set(a)):
            if name not in a:
                probs.append(f'{k}: {name} vanished')
            elif name not in b:
                probs.append(f'{k}: {name} appeared')
            elif a[name] != b[name]:
                probs.append(f'{k}: {name} changed')
    assert not probs, f'{what} changed something:\n  ' + '\n  '.join(probs[:40])


def changes_on_both_sides(s: runner.Setup, gen) -> dict:
    """Server: a new message, a flag added, a message expunged. Local: a new message from
    a mail reader, a flag changed by renaming, a file deleted."""
    dc = s.dovecot
    work = sorted(dc.flags('Work'))
    inbox = sorted(dc.flags('INBOX'))
    ch = {'srv_new': dc.append('INBOX', gen.plain(), flags=['\\Seen'])}
    dc.set_flags('INBOX', inbox[0], '\\Flagged')
    ch['srv_flag'] = inbox[0]
    dc.expunge('Work', work[0])
    ch['srv_gone'] = work[0]
    ch['loc_new'] = to_lf(gen.plain())
    md.add_message(s.local_folder('Archive.2024'), ch['loc_new'])
    loc = {m.uid: m for m in md.read_folder(s.maildir, 'INBOX')}
    md.set_flags(loc[inbox[1]].path, loc[inbox[1]].flags + 'R')
    ch['loc_flag'] = inbox[1]
    md.delete(loc[inbox[2]].path)
    ch['loc_gone'] = inbox[2]
    return ch


def check_changes(s: runner.Setup, ch: dict) -> None:
    dc = s.dovecot
    snap(s).assert_in_sync()
    loc = {m.uid: m for m in md.read_folder(s.maildir, 'INBOX')}
    assert ch['srv_new'] in loc
    assert 'F' in loc[ch['srv_flag']].flags
    assert ch['srv_gone'] not in {m.uid for m in md.read_folder(s.maildir, 'Work')}
    assert any(b == to_crlf(ch['loc_new']) for _f, b in dc.messages('Archive.2024').values())
    assert '\\Answered' in dc.flags('INBOX')[ch['loc_flag']]
    assert ch['loc_gone'] not in dc.flags('INBOX')


# ----------------------------------------------------------------------------- switching


@pytest.mark.threads
def test_ours_takes_over_from_offlineimap3(oimap, dovecot, mailgen):
    seed(dovecot, mailgen)
    oimap.write_config(remote_opts={'maxconnections': 2})
    r = oimap.sync(binary=OIMAP3)
    assert 'ERROR' not in output(r), runner.describe(r)
    snap(oimap).assert_in_sync()
    before = state(oimap)

    r = oimap.sync()
    assert change_lines(r) == [], \
        f'ours redid work offlineimap3 had done:\n{runner.describe(r)}'
    assert_same(before, state(oimap), "our first run after offlineimap3's")

    ch = changes_on_both_sides(oimap, mailgen)
    r = oimap.sync()
    assert len([ln for ln in output(r).splitlines() if 'Copy message' in ln]) == 2, \
        f'one download and one upload:\n{runner.describe(r)}'
    check_changes(oimap, ch)

    # and back to offlineimap3: it accepts what ours wrote
    before = state(oimap)
    r = oimap.sync(binary=OIMAP3)
    assert change_lines(r) == [], runner.describe(r)
    assert_same(before, state(oimap), "offlineimap3's run after ours")


@pytest.mark.threads
def test_offlineimap3_takes_over_from_ours(oimap, dovecot, mailgen):
    seed(dovecot, mailgen)
    oimap.write_config(remote_opts={'maxconnections': 2})
    oimap.sync()
    # files renamed by ours after an upload are part of what offlineimap3 must accept
    up = to_lf(mailgen.plain())
    md.add_message(oimap.local_folder('Work'), up, flags='S')
    oimap.sync()
    snap(oimap).assert_in_sync()
    before = state(oimap)

    r = oimap.sync(binary=OIMAP3)
    out = output(r)
    assert 'Creating new Local Status db' not in out, \
        f'offlineimap3 did not accept our status DBs:\n{runner.describe(r)}'
    assert change_lines(r) == [], \
        f'offlineimap3 redid work ours had done:\n{runner.describe(r)}'
    assert 'ERROR' not in out and 'UID validity' not in out, runner.describe(r)
    assert_same(before, state(oimap), "offlineimap3's first run after ours")

    ch = changes_on_both_sides(oimap, mailgen)
    r = oimap.sync(binary=OIMAP3)
    assert 'ERROR' not in output(r), runner.describe(r)
    check_changes(oimap, ch)

    before = state(oimap)
    r = oimap.sync()
    assert change_lines(r) == [], runner.describe(r)
    assert_same(before, state(oimap), "our run after offlineimap3's")


def test_slash_separator_interop(dovecot, tmp_path, our_binary, mailgen):
    """sep = /: nested directories, FMD5 of 'A/B', status and FolderValidity names."""
    dc = dovecot
    for f in ('Archive.2024', 'Lists.dev.announce'):
        dc.create(f)
        dc.append(f, mailgen.plain(), flags=['\\Seen'])
    dc.append('INBOX', mailgen.plain())
    s = runner.Setup(dc, tmp_path / 'w', binary=our_binary, sep='/')
    s.sync()
    before = state(s)
    r = s.sync(binary=OIMAP3)
    assert change_lines(r) == [], runner.describe(r)
    assert_same(before, state(s), 'offlineimap3 after ours with sep = /')
    dc.append('Archive.2024', mailgen.plain())
    r = s.sync(binary=OIMAP3)
    r = s.sync()
    assert change_lines(r) == [], runner.describe(r)
    s.assert_in_sync()


# ----------------------------------------------------------------------------- metadata


def test_metadata_is_what_offlineimap3_writes(dovecot, oimap, oimap3, mailgen):
    """Ours and offlineimap3 sync the same server into two work directories: the metadata
    trees hold the same files with the same contents, and the Maildirs the same messages
    under names that differ only in time, sequence number and pid."""
    seed(dovecot, mailgen)
    r3 = oimap3.sync()
    assert 'ERROR' not in output(r3), runner.describe(r3)
    r = oimap.sync()
    ours, theirs = metadata_state(oimap.metadata), metadata_state(oimap3.metadata)
    assert sorted(ours) == sorted(theirs), \
        f'metadata files differ: ours only {sorted(set(ours) - set(theirs))}, ' \
        f'offlineimap3 only {sorted(set(theirs) - set(ours))}'
    for name in sorted(ours):
        assert ours[name] == theirs[name], \
            f'{name}: ours {ours[name]!r}\n  offlineimap3 {theirs[name]!r}'
    # (offlineimap3 also makes an empty mbnames/ whether or not mbnames is enabled; it
    # creates it itself when needed, so its absence does not matter)
    dirs = lambda root: sorted(str(p.relative_to(root)) for p in root.rglob('*')
                               if p.is_dir() and not (p.name == 'mbnames' and
                                                      not any(p.iterdir())))
    assert dirs(oimap.metadata) == dirs(oimap3.metadata), 'metadata directories differ'
    for f in FOLDERS:
        vf = runner.folder_validity_path(oimap.metadata, oimap.remote_repo, raw(f))
        assert re.fullmatch(rb'\d+\n', vf.read_bytes()), f'{vf}: not "<uidvalidity>\\n"'
    # the same messages under offlineimap's names
    strip = re.compile(r'^\d+_\d+\.\d+\.')
    tree = lambda s: {f: sorted((m.subdir, strip.sub('', m.name), m.content)
                                for m in ms) for f, ms in s.local().items()}
    assert tree(oimap) == tree(oimap3), 'the Maildirs differ beyond time/seq/pid'
