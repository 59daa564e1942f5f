"""The account's skip list (.oimapc-skip): a run where nothing changed reads no
status database and starts no thread, and anything that did change is still found.

Each folder's line holds its saved state and the identity of its status database;
a folder is skipped from the list only when the server's counters, the local stamp,
the selection options and the database file are all as the line says.
"""
import os
import re
import sqlite3
import time

from harness import maildir as md
from harness.runner import status_db_path

FOLDERS = ['INBOX', 'Archive', 'Lists.dev']


def seed(dovecot, mailgen, n=6):
    for f in FOLDERS[1:]:
        dovecot.create(f)
    for f in FOLDERS:
        for k in range(n):
            dovecot.append(f, mailgen.plain(), flags=('\\Seen',) if k % 2 else ())


def skip_file(oimap):
    return oimap.metadata / 'Account-Test' / '.oimapc-skip'


def settle(oimap):
    """Sync until every folder has its line: the directory and database times must
    be old enough to be trusted before a run records them."""
    oimap.sync()
    time.sleep(1.2)
    oimap.sync()
    time.sleep(0.2)
    oimap.sync()


def skipped_by_list(r):
    out = r.stdout + r.stderr
    return set(re.findall(r'folder (\S+): unchanged on both sides \(skip list\)', out))


def status_opens(r):
    """Folders whose status database the run opened (the full path logs its
    saved-state decisions; -d sync)."""
    out = r.stdout + r.stderr
    return set(re.findall(r'folder (\S+): (?:unchanged on both sides since|server unchanged)',
                          out))


def run(oimap, *extra):
    return oimap.sync('-d', 'sync,imap', *extra)


def lines(oimap):
    text = skip_file(oimap).read_text()
    body = text.splitlines()
    assert body[0] == 'oimapc-skip 1' and body[-1].startswith('sum ')
    return body[1:-1]


def test_no_change_run_uses_the_list_only(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    settle(oimap)
    assert len(lines(oimap)) == len(FOLDERS)
    before = skip_file(oimap).stat().st_mtime_ns
    r = run(oimap)
    assert skipped_by_list(r) == set(FOLDERS), r.stdout + r.stderr
    assert not re.search(r'> A\d+ (SELECT|EXAMINE|UID FETCH)', r.stdout + r.stderr)
    # Nothing changed: the file is left as it is.
    assert skip_file(oimap).stat().st_mtime_ns == before
    oimap.assert_in_sync()


def test_server_and_local_changes_are_found(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    settle(oimap)
    dovecot.append('Archive', mailgen.plain(subject='new on the server'))
    md.add_message(oimap.local_folder('Lists.dev'), mailgen.plain(subject='new here'))
    r = run(oimap)
    assert skipped_by_list(r) == {'INBOX'}, r.stdout + r.stderr
    oimap.assert_in_sync()
    assert any(b'new on the server' in m.content for m in oimap.local()['Archive'])
    assert any(b'new here' in body for _, body in dovecot.messages('Lists.dev').values())


def test_a_flag_change_on_the_server_is_found(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    settle(oimap)
    uid = sorted(dovecot.flags('INBOX'))[0]
    dovecot.set_flags('INBOX', uid, '\\Flagged')
    r = run(oimap)
    assert 'INBOX' not in skipped_by_list(r)
    oimap.assert_in_sync()
    assert any('F' in m.flags for m in oimap.local()['INBOX'])


def test_a_local_flag_change_is_found(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    settle(oimap)
    cur = oimap.local_folder('Archive') / 'cur'
    name = sorted(os.listdir(cur))[0]
    base = name.split(':2,')[0]
    os.rename(cur / name, cur / (base + ':2,FS'))
    r = run(oimap)
    assert 'Archive' not in skipped_by_list(r)
    oimap.assert_in_sync()
    assert any('\\Flagged' in fl for fl, _ in dovecot.messages('Archive').values())


def test_a_status_database_changed_by_another_program_is_read(dovecot, oimap, mailgen):
    """offlineimap3 (or anything) writing a folder's status makes its line useless,
    even with the same size: the database is read."""
    seed(dovecot, mailgen)
    settle(oimap)
    path = status_db_path(oimap.metadata, 'Test', 'Archive')
    con = sqlite3.connect(path)
    with con:
        # Same size, other contents: the flags of one message (both sides then
        # look as if they had dropped a draft flag: nothing to do on either side).
        n = con.execute("UPDATE status SET flags = 'D' WHERE id = (SELECT MIN(id) FROM status)"
                        ).rowcount
    assert n == 1
    con.close()
    r = run(oimap)
    assert 'Archive' not in skipped_by_list(r), r.stdout + r.stderr
    assert skipped_by_list(r) == {'INBOX', 'Lists.dev'}
    oimap.assert_in_sync()


def test_other_options_do_not_use_the_old_lines(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    settle(oimap)
    oimap.write_config(remote_opts={'readonly': 'True'})
    r = run(oimap)
    assert skipped_by_list(r) == set(), r.stdout + r.stderr
    oimap.assert_in_sync()


def test_a_damaged_list_is_ignored(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    settle(oimap)
    p = skip_file(oimap)
    text = p.read_text()
    # The first line's status file size changed: the sum no longer matches.
    bad = re.sub(r' (\d+) (\d+) (\d+) (\d+) ', lambda m: f' {m.group(1)} {m.group(2)} '
                 f'{int(m.group(3)) + 1} {m.group(4)} ', text, count=1)
    assert bad != text
    p.write_text(bad)
    dovecot.append('INBOX', mailgen.plain(subject='after the damage'))
    r = run(oimap)
    assert skipped_by_list(r) == set(), 'a damaged list is not used at all'
    oimap.assert_in_sync()
    assert any(b'after the damage' in m.content for m in oimap.local()['INBOX'])
    # Garbage, an empty file, a directory: ignored, and the run succeeds.
    for junk in (b'\x00\xff garbage\n', b''):
        p.write_bytes(junk)
        oimap.sync()
    p.unlink()
    p.mkdir()
    r = oimap.sync(ok=False)
    assert r.returncode == 0, r.stdout + r.stderr
    oimap.assert_in_sync()


def test_a_single_folder_run_keeps_the_other_lines(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    settle(oimap)
    dovecot.append('Archive', mailgen.plain())
    oimap.sync('-f', 'Archive')
    kept = lines(oimap)
    assert sum('/INBOX ' in ln for ln in kept) == 1
    assert sum('/Lists.dev ' in ln for ln in kept) == 1
    r = run(oimap)
    assert {'INBOX', 'Lists.dev'} <= skipped_by_list(r)
    oimap.assert_in_sync()


def test_a_recreated_local_folder_is_synced(dovecot, oimap, mailgen):
    """The Maildir folder removed and made again empty (other inodes): the stamp
    differs, the folder is read, and its messages come back from the server."""
    seed(dovecot, mailgen)
    settle(oimap)
    import shutil
    shutil.rmtree(oimap.local_folder('Archive'))
    for sub in ('cur', 'new', 'tmp'):
        (oimap.local_folder('Archive') / sub).mkdir(parents=True)
    r = run(oimap)
    assert 'Archive' not in skipped_by_list(r)
    oimap.assert_in_sync()


def test_an_old_list_is_not_trusted(dovecot, oimap, mailgen):
    """A crash after the status databases were written and before the list was
    rewritten leaves the list of an earlier run: its lines no longer describe the
    databases, and the changes they would hide are synced."""
    seed(dovecot, mailgen)
    settle(oimap)
    old = skip_file(oimap).read_bytes()
    # Changes on both sides, synced, and the old list put back.
    dovecot.append('Archive', mailgen.plain(subject='second'))
    md.add_message(oimap.local_folder('INBOX'), mailgen.plain(subject='local second'))
    oimap.sync()
    time.sleep(0.2)
    skip_file(oimap).write_bytes(old)
    # Both changed folders' databases differ from the old lines: read in full.
    r = run(oimap)
    assert skipped_by_list(r) <= {'Lists.dev'}, r.stdout + r.stderr
    assert 'INBOX' not in skipped_by_list(r) and 'Archive' not in skipped_by_list(r)
    oimap.assert_in_sync()


def test_folders_are_announced_in_foldersort_order(dovecot, oimap, mailgen):
    """Folders done by the skip list and folders synced in full are announced
    ("Syncing ...") in one sequence, the foldersort order of a full run, whichever
    folder changed."""
    def announced(r):
        return re.findall(r'^Syncing (\S+): IMAP -> Maildir$', r.stdout, re.M)
    seed(dovecot, mailgen)
    first = oimap.sync()
    order = announced(first)
    assert sorted(order) == sorted(FOLDERS)
    settle(oimap)
    for folder in order:
        dovecot.append(folder, mailgen.plain(subject=f'new in {folder}'))
        r = oimap.sync('-d', 'sync')
        assert skipped_by_list(r) == set(FOLDERS) - {folder}, r.stdout + r.stderr
        assert announced(r) == order, r.stdout
        time.sleep(0.2)
        oimap.sync()
