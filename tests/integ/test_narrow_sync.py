"""The narrow sync (src/sync/sync_folder.c, narrow_possible): when the local folder
is as the status records it (its stamp) and the server's SELECT (QRESYNC) names
every change since the saved HIGHESTMODSEQ, the folder is synced over the UIDs of
those changes alone: only their status rows are read, and the Maildir folder is
opened knowing only their files (store op open_folder_uids), so a few server
changes in a big folder cost no reading of every file name into memory.

The same when the local folder changed: it is opened knowing only the files that
differ from the status (store op open_folder_diff), and the sync runs over those, the
rows no file carries any more and the server's changes (none, or named by QRESYNC).

Each test checks the outcome against the server (the same as a full sync gives) and
that the narrow path was the one taken (debug lines of -d sync,maildir)."""
import os
import re
import time

from harness import maildir as md

N = 12


def seed(dovecot, mailgen, n=N):
    for k in range(n):
        dovecot.append('INBOX', mailgen.plain(subject=f'seed {k}'),
                       flags=('\\Seen',) if k % 2 else ())


def settled(oimap):
    """Two runs: the first downloads, the second finds the folder as in the status and
    gives its skip-list line the local stamp, which the next run trusts."""
    oimap.sync()
    time.sleep(0.2)  # past the window in which a directory time is not trusted
    oimap.sync()
    time.sleep(0.2)


def narrowed(r):
    """{folder: number of UIDs} of the folders the run synced narrowly."""
    return {m[0]: int(m[1]) for m in re.findall(
        r'folder (\S+): (\d+) changes on the server, local folder unchanged: syncing '
        r'those messages only', r.stdout + r.stderr)}


def opened_in_full(r):
    """Maildir folders the run opened reading every file name."""
    return re.findall(r'Maildir folder (\S+): \d+ messages, FMD5', r.stdout + r.stderr)


def status_matches_server(oimap, dovecot):
    rows = oimap.status_rows('INBOX')
    server = dovecot.flags('INBOX')
    assert sorted(rows) == sorted(server), (rows, server)


def test_server_changes_sync_only_their_messages(dovecot, oimap, mailgen):
    """A flag added, a flag removed, an expunge and a new message on the server: the
    run reads the files of those UIDs only and ends as a full sync would."""
    seed(dovecot, mailgen)
    settled(oimap)
    uids = sorted(dovecot.flags('INBOX'))
    dovecot.set_flags('INBOX', uids[2], '\\Flagged')
    dovecot.clear_flags('INBOX', uids[3], '\\Seen')
    dovecot.expunge('INBOX', uids[4])
    dovecot.append('INBOX', mailgen.plain(subject='new on the server'), flags=('\\Answered',))
    r = oimap.sync('-d', 'sync,maildir')
    out = r.stdout + r.stderr
    assert narrowed(r) == {'INBOX': 4}, out
    # The three that exist locally, of the four asked (the new one is not there yet).
    assert re.search(r'Maildir folder \S+INBOX: 3 of the 4 UIDs asked', out), out
    assert opened_in_full(r) == [], out
    oimap.assert_in_sync()
    status_matches_server(oimap, dovecot)
    local = {m.uid: m.flags for m in oimap.local()['INBOX']}
    assert len(local) == N and uids[4] not in local
    assert 'F' in local[uids[2]] and 'S' not in local[uids[3]]
    new = max(local)
    assert new > uids[-1] and local[new] == 'R'
    # Each status row carries the server's flags (the rows not read are untouched).
    rows = oimap.status_rows('INBOX')
    assert rows[uids[2]][0] == ''.join(sorted(local[uids[2]]))
    assert rows[uids[0]][0] == ''


def diffed(r):
    """{folder: (local differences, gone, server changes)} of the folders the run synced
    over the local files that differ from the status."""
    return {m[0]: (int(m[1]), int(m[2]), int(m[3])) for m in re.findall(
        r'folder (\S+): the local folder differs from the status in (\d+) messages '
        r'\((\d+) gone\), (\d+) changes on the server: syncing those messages only',
        r.stdout + r.stderr)}


def test_local_changes_sync_only_the_files_that_differ(dovecot, oimap, mailgen):
    """The local folder changed (a new file, a flag renamed, a file deleted) and the
    server did not: the folder is opened knowing only the files that differ from the
    status, and the run ends as a full sync would."""
    seed(dovecot, mailgen)
    settled(oimap)
    uids = sorted(dovecot.flags('INBOX'))
    local = {m.uid: m for m in oimap.local()['INBOX']}
    md.add_flags(local[uids[0]].path, 'F')
    md.delete(local[uids[1]].path)
    md.add_message(oimap.local_folder('INBOX'), mailgen.plain(subject='written here'))
    r = oimap.sync('-d', 'sync,maildir')
    out = r.stdout + r.stderr
    assert diffed(r) == {'INBOX': (3, 1, 0)}, out
    assert re.search(r'Maildir folder \S+INBOX: 2 messages differ from the 12 known', out), out
    assert opened_in_full(r) == [] and narrowed(r) == {}, out
    # The count offlineimap's UI shows is the folder's, not the files read.
    assert re.search(r'Message list for Maildir\[INBOX\] loaded: 12 messages', out), out
    oimap.assert_in_sync()
    status_matches_server(oimap, dovecot)
    server = dovecot.flags('INBOX')
    assert len(server) == N and uids[1] not in server and '\\Flagged' in server[uids[0]]


def test_changes_on_both_sides(dovecot, oimap, mailgen):
    """Local changes and server changes (QRESYNC) in the same run: the sync runs over
    both sets of UIDs."""
    seed(dovecot, mailgen)
    settled(oimap)
    uids = sorted(dovecot.flags('INBOX'))
    dovecot.set_flags('INBOX', uids[0], '\\Flagged')
    dovecot.expunge('INBOX', uids[6])
    local = {m.uid: m for m in oimap.local()['INBOX']}
    md.add_flags(local[uids[3]].path, 'R')
    md.add_message(oimap.local_folder('INBOX'), mailgen.plain(subject='written here'))
    r = oimap.sync('-d', 'sync,maildir')
    out = r.stdout + r.stderr
    assert diffed(r) == {'INBOX': (2, 0, 2)}, out
    assert opened_in_full(r) == [], out
    oimap.assert_in_sync()
    status_matches_server(oimap, dovecot)
    server = dovecot.flags('INBOX')
    assert len(server) == N and uids[6] not in server
    assert '\\Flagged' in server[uids[0]] and '\\Answered' in server[uids[3]]


def test_a_uid_on_two_files_means_the_full_sync(dovecot, oimap, mailgen):
    """A copy of a message's file (same U=) cannot be told apart by the diff: the
    folder is opened in full, and the copy is uploaded as a new message."""
    seed(dovecot, mailgen)
    settled(oimap)
    m = sorted(oimap.local()['INBOX'], key=lambda m: m.uid)[2]
    dup = m.path.with_name('1700000000.copy.host' + m.name[m.name.index(','):])
    dup.write_bytes(m.path.read_bytes())
    r = oimap.sync('-d', 'sync,maildir')
    out = r.stdout + r.stderr
    assert diffed(r) == {} and len(opened_in_full(r)) == 1, out
    assert len(dovecot.flags('INBOX')) == N + 1
    assert len(oimap.local()['INBOX']) == N + 1
    assert len(oimap.status_rows('INBOX')) == N + 1


def test_local_deletions_are_guarded_against_every_row(dovecot, oimap, mailgen):
    """12 of 40 files deleted locally (30%) reach the server: the guard counts every
    status row, not the rows the narrow sync read (12, which would be 100%)."""
    seed(dovecot, mailgen, 40)
    settled(oimap)
    local = sorted(oimap.local()['INBOX'], key=lambda m: m.uid)
    for m in local[:12]:
        md.delete(m.path)
    r = oimap.sync('-d', 'sync,maildir')
    assert diffed(r) == {'INBOX': (12, 12, 0)}, r.stdout + r.stderr
    assert len(dovecot.flags('INBOX')) == 28
    oimap.assert_in_sync()


def test_the_deletion_guard_counts_every_status_row(dovecot, oimap, mailgen):
    """The guard compares the deletions to the whole status, not to the rows the
    narrow sync read: 12 expunges of 40 (30%) go through, then 20 of the 28 left
    (71%) are refused and nothing is deleted."""
    seed(dovecot, mailgen, 40)
    settled(oimap)
    uids = sorted(dovecot.flags('INBOX'))
    dovecot.expunge('INBOX', uids[:12])
    r = oimap.sync('-d', 'sync,maildir')
    assert narrowed(r) == {'INBOX': 12}, r.stdout + r.stderr
    assert len(oimap.local()['INBOX']) == 28
    oimap.assert_in_sync()

    time.sleep(0.2)
    oimap.sync()  # the run after the deletions: the folder settles again
    time.sleep(0.2)
    dovecot.expunge('INBOX', uids[12:32])
    r = oimap.sync('-d', 'sync,maildir', ok=False)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert 'Refusing to delete 20 of the 28 messages' in out, out
    assert len(oimap.local()['INBOX']) == 28
    assert len(oimap.status_rows('INBOX')) == 28


def test_a_readers_rename_is_synced_with_the_servers_change(dovecot, oimap, mailgen):
    """A mail reader's flag (a rename in cur/) moves the stamp; with a server change in
    the same folder both are synced, over those two UIDs."""
    seed(dovecot, mailgen)
    settled(oimap)
    folder = oimap.local_folder('INBOX')
    uids = sorted(dovecot.flags('INBOX'))
    dovecot.set_flags('INBOX', uids[1], '\\Answered')
    cur = folder / 'cur'
    name = next(n for n in sorted(os.listdir(cur)) if f',U={uids[5]},' in n)
    base, fl = name.split(':2,')
    os.rename(cur / name, cur / f'{base}:2,{"".join(sorted(fl + "F"))}')
    r = oimap.sync('-d', 'sync,maildir')
    assert diffed(r) == {'INBOX': (1, 0, 1)}, r.stdout + r.stderr
    oimap.assert_in_sync()
    server = dovecot.flags('INBOX')
    assert '\\Flagged' in server[uids[5]] and '\\Answered' in server[uids[1]]
