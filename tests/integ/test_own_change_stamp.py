"""A folder the sync wrote to gets its skip-list line in the same run, from the
Maildir store's inotify watch (src/store/maildir_watch.c), so the next run with no
change reads neither its directory nor its status database; and a change another
program makes while the sync is running is never covered by that line.

The run is paused (OIMAP_CRASHPOINT_ACTION=pause:<file>) at the end of the folder's
sync, while the watch is still open: the test waits there until the
folder's times are old enough to be trusted (so the line is written whenever the
watch allows it), and for the negative cases changes the local folder meanwhile.
"""
import os
import re

import pytest

from harness import maildir as md
from harness.pause import paused_run

N = 8


def seed(dovecot, mailgen):
    for k in range(N):
        dovecot.append('INBOX', mailgen.plain(subject=f'seed {k}'),
                       flags=('\\Seen',) if k % 2 else ())


def skipped_by_list(r):
    return set(re.findall(r'folder (\S+): unchanged on both sides \(skip list\)',
                          r.stdout + r.stderr))


def sync_paused_once(oimap, meanwhile=None):
    """A sync paused at the end of the INBOX sync; `meanwhile(oimap)` runs while it
    waits, then, past the window in which a directory or file time is not trusted
    (50 ms), it goes on to the end."""
    return paused_run(oimap, 'folder-synced', (lambda: meanwhile(oimap)) if meanwhile else None,
                      settle=0.3)


def test_a_folder_written_by_the_sync_is_skipped_next_time(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    first = sync_paused_once(oimap)
    assert len(oimap.local()['INBOX']) == N
    r = oimap.sync('-d', 'sync,imap')
    assert skipped_by_list(r) == {'INBOX'}, (first.stdout + first.stderr + '\n-----\n' +
                                             r.stdout + r.stderr)
    assert not re.search(r'> A\d+ (SELECT|EXAMINE|UID FETCH)', r.stdout + r.stderr)
    oimap.assert_in_sync()


def flag_a_message(oimap):
    cur = oimap.local_folder('INBOX') / 'cur'
    name = sorted(n for n in os.listdir(cur) if ':2,' in n)[0]
    base, flags = name.split(':2,')
    os.rename(cur / name, cur / f'{base}:2,F{flags}')


def add_a_message(oimap):
    md.add_message(oimap.local_folder('INBOX'), b'From: a@example.org\r\n'
                   b'Subject: written while the sync ran\r\n\r\nbody\r\n')


def delete_a_message(oimap):
    cur = oimap.local_folder('INBOX') / 'cur'
    os.unlink(cur / sorted(os.listdir(cur))[0])


@pytest.mark.parametrize('change', [flag_a_message, add_a_message, delete_a_message],
                         ids=['flag', 'add', 'delete'])
def test_a_change_made_during_the_sync_is_found_by_the_next(dovecot, oimap, mailgen,
                                                            change):
    seed(dovecot, mailgen)
    sync_paused_once(oimap, change)
    r = oimap.sync('-d', 'sync')
    assert 'INBOX' not in skipped_by_list(r), r.stdout + r.stderr
    oimap.assert_in_sync()
    server = dovecot.messages('INBOX')
    if change is flag_a_message:
        assert sum('\\Flagged' in fl for fl, _ in server.values()) == 1
    elif change is add_a_message:
        assert len(server) == N + 1
        assert any(b'written while the sync ran' in body for _, body in server.values())
    else:
        assert len(server) == N - 1


def test_renames_and_deletions_of_our_own_are_covered_too(dovecot, oimap, mailgen):
    """Flags changed and a message expunged on the server: the sync renames and
    deletes local files, and the folder still gets its line."""
    seed(dovecot, mailgen)
    sync_paused_once(oimap)
    uids = sorted(dovecot.flags('INBOX'))
    dovecot.set_flags('INBOX', uids[0], '\\Flagged')
    dovecot.replace_flags('INBOX', uids[1], ('\\Seen', '\\Answered'))
    dovecot.expunge('INBOX', uids[2])
    second = sync_paused_once(oimap)
    assert 'INBOX' not in skipped_by_list(second)
    local = oimap.local()['INBOX']
    assert len(local) == N - 1 and sum('F' in m.flags for m in local) == 1
    r = oimap.sync('-d', 'sync')
    assert skipped_by_list(r) == {'INBOX'}, second.stdout + second.stderr + r.stdout
    oimap.assert_in_sync()


def local_lists(r):
    """Folders whose local message list the run read (offlineimap's event)."""
    return set(re.findall(r'Loading message list for Maildir\[(\S+)\]', r.stdout + r.stderr))


def own_changes_seen(r):
    return set(re.findall(r"folder (\S+): the server's changes are all in the status",
                          r.stdout + r.stderr))


def send_local_changes(oimap, mailgen):
    """A flag change, a deletion and a new message in INBOX, sent to the server by a run
    that then gets the folder's skip-list line: the server's counters in it are those
    from before these changes."""
    cur = oimap.local_folder('INBOX') / 'cur'
    names = sorted(n for n in os.listdir(cur) if ':2,' in n)
    os.rename(cur / names[0], cur / (names[0].split(':2,')[0] + ':2,FS'))
    os.unlink(cur / names[1])
    md.add_message(oimap.local_folder('INBOX'), mailgen.plain(subject='written here'))
    return sync_paused_once(oimap)


def test_our_own_changes_are_not_read_back(dovecot, oimap, mailgen):
    """The run after one that sent local changes sees the server moved, by our own
    APPEND, STORE and EXPUNGE. The changes since the saved HIGHESTMODSEQ are all in the
    status and the local folder still has the stamp of its line, so the folder is done
    without opening the local folder (a scan of every file name), and its line gets the
    server's new counters: the run after that skips it from the list."""
    seed(dovecot, mailgen)
    oimap.sync()
    sent = send_local_changes(oimap, mailgen)
    assert 'INBOX' in local_lists(sent)
    r = oimap.sync('-d', 'sync,imap,maildir')
    out = sent.stdout + sent.stderr + '\n-----\n' + r.stdout + r.stderr
    assert own_changes_seen(r) == {'INBOX'}, out
    assert 'INBOX' not in local_lists(r), out
    # Not even opened: opening a Maildir folder reads every file name.
    assert not re.search(r'Maildir folder \S+: \d+ messages', r.stdout + r.stderr), out
    assert re.search(r'> A\d+ UID FETCH .*\(CHANGEDSINCE \d+ VANISHED\)', out), out
    oimap.assert_in_sync()
    r = oimap.sync('-d', 'sync,imap')
    assert skipped_by_list(r) == {'INBOX'}, r.stdout + r.stderr
    assert not re.search(r'> A\d+ (SELECT|EXAMINE|UID FETCH)', r.stdout + r.stderr)
    oimap.assert_in_sync()


def test_changes_after_our_own_are_synced(dovecot, oimap, mailgen):
    """After our own changes, one by someone else is not taken for ours: on the server
    (its change is not in the status: synced over the changed UIDs, see
    test_narrow_sync.py) or locally (the stamp moved: read and synced in full)."""
    seed(dovecot, mailgen)
    oimap.sync()
    send_local_changes(oimap, mailgen)
    uid = sorted(dovecot.flags('INBOX'))[-1]
    dovecot.set_flags('INBOX', uid, '\\Answered')
    r = oimap.sync('-d', 'sync')
    assert own_changes_seen(r) == set() and 'INBOX' in local_lists(r), r.stdout + r.stderr
    oimap.assert_in_sync()
    assert sum('R' in m.flags for m in oimap.local()['INBOX']) == 1

    send_local_changes(oimap, mailgen)
    cur = oimap.local_folder('INBOX') / 'cur'
    name = sorted(n for n in os.listdir(cur) if ':2,' in n and 'D' not in n.split(':2,')[1])[0]
    os.rename(cur / name, cur / (name.split(':2,')[0] + ':2,' +
                                 ''.join(sorted(name.split(':2,')[1] + 'D'))))
    r = oimap.sync('-d', 'sync')
    assert own_changes_seen(r) == set() and 'INBOX' in local_lists(r), r.stdout + r.stderr
    oimap.assert_in_sync()
    assert sum('\\Draft' in fl for fl, _ in dovecot.messages('INBOX').values()) == 1
