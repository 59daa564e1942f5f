"""Folders the server opens read-only (SELECT answered [READ-ONLY]).

Dovecot's acl plugin gives the owner only `lr` (lookup, read) on the folder RO, so its
SELECT says [READ-ONLY] and APPEND/STORE/EXPUNGE are refused. As offlineimap3 means to
(folder/IMAP.py, ui/UIBase.py msgtoreadonly, flagstoreadonly, deletereadonly), a local
new message, flag change or deletion there is not sent, each with its warning, and the
run ends with status 0 (warnings only); [general] ignore-readonly = yes silences them.
Nothing is lost: the change stays pending and the next run warns again, while the
server's changes still arrive. Other folders sync normally.

Server-side changes to RO are made in the server's Maildir directly (IMAP may not
change it).
"""
from __future__ import annotations

import re
import time

import pytest

from harness import maildir as md
from harness import runner

pytestmark = pytest.mark.dovecot(acl={'RO': 'lr'})

UPLOAD = ('Attempted to synchronize message {uid} to folder IMAP[RO], but that folder is '
          'read-only.  The message will not be copied to that folder.')
FLAGS = ('Attempted to modify flags for messages {uids} in folder IMAP[RO], but that folder '
         'is read-only.  No flags have been modified for that message.')
DELETE = ('Attempted to delete messages {uids} in folder IMAP[RO], but that folder is '
          'read-only.  No messages have been deleted in that folder.')


def msg(n: int) -> bytes:
    return f'From: a@example.org\r\nSubject: m{n}\r\nMessage-Id: <m{n}@example.org>\r\n\r\nbody {n}\r\n'.encode()


def out(r) -> str:
    return r.stdout + r.stderr


def warnings(r) -> list[str]:
    return [ln for ln in out(r).splitlines() if 'Attempted to' in ln]


def by_subject(oimap, folder: str) -> dict[str, md.MaildirMessage]:
    res = {}
    for m in md.read_folder(oimap.maildir, folder):
        s = re.search(rb'^Subject: (\S+)', m.content, re.M).group(1).decode()
        assert s not in res, f'{s} twice in local {folder}'
        res[s] = m
    return res


def server_view(dc, folder: str) -> dict[int, tuple[frozenset, bytes]]:
    return {u: (frozenset(f), b) for u, (f, b) in dc.messages(folder).items()}


def setup_folders(dovecot, oimap, general=None):
    dovecot.create('RO')
    dovecot.create('RW')
    dovecot.write_file('RO', msg(1))
    dovecot.write_file('RO', msg(2), flags='S')
    dovecot.write_file('RO', msg(3))
    dovecot.append('RW', msg(10))
    oimap.write_config(general=general)
    r = oimap.sync()
    assert warnings(r) == []
    assert set(by_subject(oimap, 'RO')) == {'m1', 'm2', 'm3'}


def change_locally(oimap):
    """A new message, a flag added (m1) and a deletion (m2) in RO; a new message in RW."""
    ro = oimap.local_folder('RO')
    loc = by_subject(oimap, 'RO')
    md.add_message(ro, msg(4))
    md.add_flags(loc['m1'].path, 'F')
    md.delete(loc['m2'].path)
    md.add_message(oimap.local_folder('RW'), msg(11))


def uid_of(oimap, subject: str) -> int:
    return by_subject(oimap, 'RO')[subject].uid


def test_local_changes_skipped_with_warnings_and_kept(dovecot, oimap):
    setup_folders(dovecot, oimap)
    server_before = server_view(dovecot, 'RO')
    u1, u2 = uid_of(oimap, 'm1'), uid_of(oimap, 'm2')
    change_locally(oimap)
    dovecot.write_file('RO', msg(5))  # a server change in the same run

    expected = [UPLOAD.format(uid=-1), FLAGS.format(uids=f'[{u2}]'),
                DELETE.format(uids=f'[{u2}]'), FLAGS.format(uids=f'[{u1}]')]
    for run in range(3):
        time.sleep(0.3)  # so that no change is too recent to be trusted
        r = oimap.sync()
        assert r.returncode == 0
        assert warnings(r) == expected, out(r)
        assert 'ERROR' not in out(r)
        # The server's RO is untouched but for its own new message.
        now = server_view(dovecot, 'RO')
        assert {u: v for u, v in now.items() if u in server_before} == server_before
        assert len(now) == len(server_before) + 1
        # Locally: the server's message arrived once, the local changes are kept.
        loc = by_subject(oimap, 'RO')
        assert set(loc) == {'m1', 'm3', 'm4', 'm5'}, run
        assert loc['m4'].uid is None  # still only local, never got a UID
        assert loc['m1'].flag_set == {'F'}
        # RW synced normally (the upload happened in the first of these runs).
        assert sorted(b.split(b'\r\n')[1] for _, b in dovecot.messages('RW').values()) == \
            [b'Subject: m10', b'Subject: m11']
        assert len(re.findall(r'Copy message UID -1 \(1/1\) \S+:RW ->', out(r))) == \
            (1 if run == 0 else 0)
    # The server's own changes in RO still arrive: a flag and a deletion there.
    for p in dovecot.folder_path('RO').glob('cur/*'):
        body = p.read_bytes()
        if b'Subject: m3' in body:
            p.rename(p.with_name(p.name.split(':')[0] + ':2,S'))
        elif b'Subject: m1' in body:
            p.unlink()
    r = oimap.sync()
    loc = by_subject(oimap, 'RO')
    assert set(loc) == {'m3', 'm4', 'm5'}
    assert loc['m3'].flag_set == {'S'}
    # m1 (deleted on the server) took its pending flag change with it.
    assert warnings(r) == [UPLOAD.format(uid=-1), FLAGS.format(uids=f'[{u2}]'),
                           DELETE.format(uids=f'[{u2}]')]


def test_only_local_flag_change_is_not_hidden_by_saved_state(dovecot, oimap):
    """No server change and nothing written locally: the folder must still not be
    recorded as unchanged (skip list, saved state), or the pending flag change would
    never be seen again."""
    setup_folders(dovecot, oimap)
    for _ in range(3):  # until the folder is known unchanged (skip list)
        time.sleep(0.3)  # past the window in which file times are not trusted
        r = oimap.sync('-d', 'sync')
        if 'folder RO: unchanged on both sides' in out(r):
            break
    else:
        raise AssertionError('RO never recorded as unchanged:\n' + out(r))
    loc = by_subject(oimap, 'RO')
    md.add_flags(loc['m3'].path, 'S')
    u3 = uid_of(oimap, 'm3')
    for _ in range(3):
        time.sleep(0.3)  # so that the change is not too recent to be trusted
        r = oimap.sync('-d', 'sync')
        assert warnings(r) == [FLAGS.format(uids=f'[{u3}]')], out(r)
        assert not re.search(r'folder RO: unchanged', out(r))
    assert dovecot.flags('RO')[u3] == set()


def test_ignore_readonly_silences_the_warnings(dovecot, oimap):
    setup_folders(dovecot, oimap, general={'ignore-readonly': 'yes'})
    server_before = server_view(dovecot, 'RO')
    change_locally(oimap)
    for _ in range(2):
        r = oimap.sync()
        assert warnings(r) == [], out(r)
        assert server_view(dovecot, 'RO') == server_before
        assert set(by_subject(oimap, 'RO')) == {'m1', 'm3', 'm4'}
    assert len(dovecot.messages('RW')) == 2
    # The changes were kept: without ignore-readonly they are warned about again.
    oimap.write_config(general={'ignore-readonly': 'no'})
    r = oimap.sync()
    assert len(warnings(r)) == 4, out(r)


def test_same_upload_warning_as_offlineimap3(dovecot, oimap, oimap3):
    """offlineimap3 on the same setup gives the same warning for a new local message
    (it then also reports an error of its own, "returned invalid uid -1", and exits 1;
    we end with the warning alone)."""
    if not runner.OFFLINEIMAP3.exists():
        pytest.skip('offlineimap3 is not installed')
    dovecot.create('RO')
    dovecot.write_file('RO', msg(1))
    lines = {}
    for name, s in (('ours', oimap), ('offlineimap3', oimap3)):
        s.write_config()
        s.sync(ok=False)
        md.add_message(s.local_folder('RO'), msg(4))
        r = s.sync(ok=False)
        lines[name] = warnings(r)
        if name == 'ours':
            assert r.returncode == 0, out(r)
    assert lines['ours'] == [UPLOAD.format(uid=-1)]
    assert lines['offlineimap3'] == lines['ours']


def test_mass_local_deletion_warned_not_refused(dovecot, oimap):
    """Emptying the local copy of a read-only folder deletes nothing on the server, so
    the deletion guard has nothing to refuse: the run warns and ends with status 0."""
    setup_folders(dovecot, oimap)
    oimap.write_config(account_opts={'deleteguard': 10, 'deleteguard_minimum': 1})
    server_before = server_view(dovecot, 'RO')
    for m in md.read_folder(oimap.maildir, 'RO'):
        md.delete(m.path)
    uids = sorted(server_before)
    for _ in range(2):
        r = oimap.sync()
        assert 'Refusing' not in out(r)
        assert warnings(r) == [FLAGS.format(uids=str(uids)), DELETE.format(uids=str(uids))]
        assert server_view(dovecot, 'RO') == server_before
        assert md.read_folder(oimap.maildir, 'RO') == []
