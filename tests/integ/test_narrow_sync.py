"""The narrow sync (src/sync/sync_folder.c, narrow_possible): when the local folder
is as the status records it (its stamp) and the server's SELECT (QRESYNC) names
every change since the saved HIGHESTMODSEQ, the folder is synced over the UIDs of
those changes alone: only their status rows are read, and the Maildir folder is
opened knowing only their files (store op open_folder_uids), so a few server
changes in a big folder cost no reading of every file name into memory.

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


def test_a_local_change_means_the_full_sync(dovecot, oimap, mailgen):
    """The local folder changed as well (its stamp moved): no narrow sync, the local
    folder is read in full and both changes are synced."""
    seed(dovecot, mailgen)
    settled(oimap)
    uids = sorted(dovecot.flags('INBOX'))
    dovecot.set_flags('INBOX', uids[0], '\\Flagged')
    md.add_message(oimap.local_folder('INBOX'), mailgen.plain(subject='written here'))
    r = oimap.sync('-d', 'sync,maildir')
    assert narrowed(r) == {}, r.stdout + r.stderr
    assert len(opened_in_full(r)) == 1, r.stdout + r.stderr
    oimap.assert_in_sync()
    assert len(dovecot.flags('INBOX')) == N + 1


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


def test_a_new_file_of_a_listed_uid_is_not_missed(dovecot, oimap, mailgen):
    """A message whose file moved from new/ to cur/ with a flag (a mail reader) moves
    the stamp: the run is a full one and keeps the reader's flag."""
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
    assert narrowed(r) == {}, r.stdout + r.stderr
    oimap.assert_in_sync()
    server = dovecot.flags('INBOX')
    assert '\\Flagged' in server[uids[5]] and '\\Answered' in server[uids[1]]
