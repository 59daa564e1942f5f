"""Cost grows with what changed: skipping unchanged folders, CONDSTORE/QRESYNC listings.

After a clean sync the status holds the server's state and the folder's counters
(UIDVALIDITY, UIDNEXT, message count, HIGHESTMODSEQ) are remembered with the
Maildir folder's stamp.  A later run:
- skips a folder whose counters and stamp have not moved (no SELECT at all);
- lists only what changed (UID FETCH ... CHANGEDSINCE, with VANISHED under
  QRESYNC or UID SEARCH ALL under CONDSTORE alone) when the server moved;
- falls back to the full listing when the server has no CONDSTORE.
Each case checks the protocol used (-d imap) and that the result is right.
"""
import os
import re
import sqlite3
import time

import pytest

from harness import maildir as md
from harness.runner import status_db_path

FOLDERS = ['INBOX', 'Archive', 'Lists.dev']


def seed(dovecot, mailgen, n=8):
    for f in FOLDERS[1:]:
        dovecot.create(f)
    for f in FOLDERS:
        for k in range(n):
            dovecot.append(f, mailgen.plain(), flags=('\\Seen',) if k % 3 else ())


def commands(r):
    """The IMAP commands a -d imap run sent, without tags."""
    out = r.stdout + r.stderr
    return re.findall(r'> A\d+ (.*)', out)


def count(cmds, prefix):
    return sum(1 for c in cmds if c.startswith(prefix))


def settle(oimap):
    """Sync, wait until the Maildir directories' times are old enough to be trusted
    (a stamp younger than about a second is not), and sync again to record them."""
    oimap.sync()
    time.sleep(1.2)
    oimap.sync()


def run_debug(oimap):
    r = oimap.sync('-d', 'imap')
    return r, commands(r)


def test_unchanged_folders_are_not_even_opened(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    settle(oimap)
    r, cmds = run_debug(oimap)
    assert not any('RETURN (STATUS' in c for c in cmds), 'STATUS, not LIST-STATUS'
    lst = next(i for i, c in enumerate(cmds) if c.startswith('LIST '))
    asked = sorted(c.split()[1] for c in cmds[:lst] if c.startswith('STATUS '))
    assert asked == sorted(FOLDERS), f'every counter asked with the list:\n{cmds}'
    assert count(cmds, 'SELECT') == 0, f'no folder should be opened:\n{cmds}'
    assert count(cmds, 'UID FETCH') == 0
    oimap.assert_in_sync()


def status_names(cmds):
    """The folders of the STATUS commands before and after the LIST."""
    lst = next(i for i, c in enumerate(cmds) if c.startswith('LIST '))
    names = [(i < lst, c.split()[1]) for i, c in enumerate(cmds) if c.startswith('STATUS ')]
    return (sorted(n for b, n in names if b), sorted(n for b, n in names if not b))


def test_counters_of_new_and_vanished_folders(dovecot, oimap, mailgen):
    """The counters of the last run's folders are asked with the folder list; a
    folder new on the server is asked for after it; one gone from the server only
    gets a NO: the other folders' counters still skip them."""
    seed(dovecot, mailgen)
    settle(oimap)
    dovecot.create('Fresh')
    dovecot.append('Fresh', mailgen.plain())
    r, cmds = run_debug(oimap)
    assert status_names(cmds) == (sorted(FOLDERS), ['Fresh']), cmds
    assert [c for c in cmds if c.startswith('SELECT')] == ['SELECT Fresh'], cmds
    oimap.assert_in_sync()
    settle(oimap)
    dovecot.delete('Archive')
    r = oimap.sync('-d', 'imap,sync', ok=False)
    cmds = commands(r)
    out = r.stdout + r.stderr
    assert 'cannot list folders' not in out, out
    assert status_names(cmds) == (sorted(FOLDERS + ['Fresh']), []), cmds
    tag = re.search(r'> (A\d+) STATUS Archive', out).group(1)
    assert re.search(rf'< {tag} NO ', out), out
    skipped = re.findall(r'folder (\S+): unchanged on both sides \(skip list\)', out)
    assert sorted(skipped) == ['Fresh', 'INBOX', 'Lists.dev'], out


def touch_folders(oimap):
    """Move the Maildir folders' times without changing a message: the stamps
    no longer match, so the folders must be read."""
    for f in FOLDERS:
        for sub in ('new', 'cur'):
            os.utime(oimap.local_folder(f) / sub)


def drop_local_stamps(oimap):
    """No local stamp anywhere: not in the skip list, not in the databases."""
    skip = oimap.metadata / 'Account-Test' / '.oimapc-skip'
    assert skip.exists(), 'a settled account has a skip list'
    skip.unlink()
    for f in FOLDERS:
        con = sqlite3.connect(status_db_path(oimap.metadata, 'Test', f))
        with con:
            con.execute("DELETE FROM oimapc_state WHERE key = 'local'")
        con.close()


def test_a_local_folder_equal_to_the_status_needs_no_server(dovecot, oimap, mailgen):
    """Stamps that cannot tell (moved, or too recent): the local folders are read
    and, as they equal the status and the server's counters have not moved, no
    folder is opened on the server; the stamps are then recorded again."""
    seed(dovecot, mailgen)
    settle(oimap)
    touch_folders(oimap)
    time.sleep(0.2)
    r, cmds = run_debug(oimap)
    assert count(cmds, 'SELECT') == 0 and count(cmds, 'EXAMINE') == 0, cmds
    oimap.assert_in_sync()
    # The stamps were recorded by that run in the skip list (not in the databases,
    # which it did not write): the next one reads no local folder either.
    con = sqlite3.connect(status_db_path(oimap.metadata, 'Test', 'INBOX'))
    assert con.execute("SELECT count(*) FROM oimapc_state WHERE key = 'local'").fetchone()[0] == 0
    con.close()
    time.sleep(0.1)
    r = oimap.sync('-d', 'imap,sync')
    cmds = commands(r)
    assert count(cmds, 'SELECT') == 0, cmds
    out = r.stdout + r.stderr
    assert len(re.findall(r'unchanged on both sides \(skip list\)', out)) == len(FOLDERS), out


def test_a_local_change_without_a_stamp_is_found(dovecot, oimap, mailgen):
    """No saved stamp (as after an unclean sync): a local flag change and a new
    local message are found by reading the folder, though the server is unchanged."""
    seed(dovecot, mailgen)
    settle(oimap)
    drop_local_stamps(oimap)
    local = oimap.local()
    md.add_flags(sorted(local['Archive'], key=lambda m: m.uid)[0].path, 'F')
    os.utime(oimap.local_folder('Archive') / 'cur', (1, 1))  # even an old, odd time
    md.add_message(oimap.local_folder('Lists.dev'), mailgen.plain())
    r, cmds = run_debug(oimap)
    assert count(cmds, 'SELECT') == 2, f'Archive and Lists.dev only:\n{cmds}'
    assert any(c.startswith('UID STORE') for c in cmds)
    assert any(c.startswith('APPEND') for c in cmds)
    snap = oimap.assert_in_sync()
    assert len(snap.local['Lists.dev']) == 9
    assert '\\Flagged' in dovecot.flags('Archive')[1]


def test_a_server_change_is_listed_incrementally(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    settle(oimap)
    dovecot.set_flags('Archive', 2, '\\Flagged')
    dovecot.append('Archive', mailgen.plain())
    dovecot.expunge('Archive', 5)
    r, cmds = run_debug(oimap)
    assert count(cmds, 'SELECT') == 1, f'only the changed folder is opened:\n{cmds}'
    fetches = [c for c in cmds if c.startswith('UID FETCH')]
    assert any('CHANGEDSINCE' in c for c in fetches), fetches
    assert not any(re.match(r'UID FETCH 1:\* \(UID FLAGS\)$', c) for c in fetches), \
        f'no full listing:\n{fetches}'
    # The changes are asked for with the SELECT, before its answer: one round trip.
    out = r.stdout + r.stderr
    sel = re.search(r'> (A\d+) SELECT Archive', out)
    chg = re.search(r'> A\d+ UID FETCH .*CHANGEDSINCE', out)
    sel_ok = re.search(r'< %s OK' % sel.group(1), out)
    assert sel and chg and sel_ok and sel.start() < chg.start() < sel_ok.start(), out
    snap = oimap.assert_in_sync()
    assert len(snap.local['Archive']) == 8
    flagged = [e for e in snap.local['Archive'] if e.uid == 2]
    assert flagged and 'F' in flagged[0].flags


def test_a_local_change_needs_no_server_listing(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    settle(oimap)
    local = oimap.local()
    md.add_flags(sorted(local['INBOX'], key=lambda m: m.uid)[0].path, 'F')
    r, cmds = run_debug(oimap)
    assert count(cmds, 'SELECT') == 1, cmds
    assert not any(c.startswith('UID FETCH') and 'BODY' not in c for c in cmds), \
        f'the server did not change: its list comes from the status:\n{cmds}'
    assert any(c.startswith('UID STORE') for c in cmds)
    oimap.assert_in_sync()
    assert dovecot.flags('INBOX')[1] >= {'\\Flagged'}


def test_the_local_pass_goes_out_in_one_round_trip(dovecot, oimap, mailgen):
    """A new local message, a deletion and a flag change in one folder: the APPEND,
    the \\Deleted STORE with its UID EXPUNGE and the flag STORE are all sent before
    the server's answer to the expunge is read, and each is recorded once answered."""
    seed(dovecot, mailgen)
    settle(oimap)
    msgs = sorted(oimap.local()['Archive'], key=lambda m: m.uid)
    md.add_flags(msgs[0].path, 'F')
    md.delete(msgs[1].path)
    md.add_message(oimap.local_folder('Archive'), mailgen.plain())
    r, cmds = run_debug(oimap)
    out = r.stdout + r.stderr
    app = re.search(r'> A\d+ APPEND Archive', out)
    dele = re.search(r'> A\d+ UID STORE %d \+FLAGS\.SILENT \(\\Deleted\)' % msgs[1].uid, out)
    exp = re.search(r'> (A\d+) UID EXPUNGE %d' % msgs[1].uid, out)
    flag = re.search(r'> A\d+ UID STORE %d \+FLAGS\.SILENT \(\\Flagged\)' % msgs[0].uid, out)
    assert app and dele and exp and flag, out
    exp_ok = re.search(r'< %s OK' % exp.group(1), out)
    assert exp_ok, out
    assert app.start() < dele.start() < exp.start() < flag.start() < exp_ok.start(), out
    snap = oimap.assert_in_sync()
    assert len(snap.local['Archive']) == 8
    srv = dovecot.flags('Archive')
    assert msgs[1].uid not in srv and '\\Flagged' in srv[msgs[0].uid]
    con = sqlite3.connect(status_db_path(oimap.metadata, 'Test', 'Archive'))
    rows = dict(con.execute('SELECT id, flags FROM status').fetchall())
    con.close()
    assert msgs[1].uid not in rows and 'F' in rows[msgs[0].uid] and len(rows) == 8, rows
    # Nothing left over: the next run has nothing to do in Archive.
    r, cmds = run_debug(oimap)
    assert not any(c.startswith(('APPEND', 'UID STORE', 'UID EXPUNGE')) for c in cmds), cmds


@pytest.mark.dovecot(capabilities_remove=['QRESYNC'])
def test_condstore_without_qresync(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    oimap.sync()
    oimap.sync()
    dovecot.expunge('INBOX', [1, 2])
    dovecot.set_flags('INBOX', 3, '\\Answered')
    r, cmds = run_debug(oimap)
    assert any('CHANGEDSINCE' in c for c in cmds), cmds
    assert any(c.startswith('UID SEARCH') for c in cmds), 'expunges found from the UID list'
    snap = oimap.assert_in_sync()
    assert sorted(e.uid for e in snap.local['INBOX']) == list(range(3, 9))


@pytest.mark.dovecot(capabilities_remove=['CONDSTORE', 'QRESYNC'])
def test_no_condstore_lists_in_full_every_time(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    oimap.sync()
    oimap.sync()
    dovecot.set_flags('Lists.dev', 1, '\\Flagged')
    r, cmds = run_debug(oimap)
    assert count(cmds, 'SELECT') == 3, 'without modification sequences nothing is skipped'
    assert not any('CHANGEDSINCE' in c for c in cmds)
    oimap.assert_in_sync()
    assert '\\Flagged' in dovecot.flags('Lists.dev')[1]


def test_changes_on_both_sides_after_skips(dovecot, oimap, mailgen):
    """Several rounds mixing skipped folders and changes: always in sync, never a repeat."""
    seed(dovecot, mailgen, n=5)
    oimap.sync()
    for rnd in range(4):
        dovecot.append(FOLDERS[rnd % 3], mailgen.plain())
        f = FOLDERS[(rnd + 1) % 3]
        md.add_message(oimap.local_folder(f), mailgen.plain())
        oimap.sync()
        oimap.assert_in_sync()
        r = oimap.sync()
        assert 'Copy message' not in r.stdout, 'the second run changes nothing'
