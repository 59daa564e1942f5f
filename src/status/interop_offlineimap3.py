#!/usr/bin/python3
"""Interop test: offlineimap3's own status code against files our C code writes,
and our C code against files offlineimap3 writes.

Usage: interop_offlineimap3.py PATH-TO-status-interop-helper

Runs offlineimap3's LocalStatusSQLiteFolder, LocalStatusFolder,
BaseFolder.getfolderbasename / FolderValidity code and SyncableAccount's lock
from /usr/share/offlineimap3.  Exits 77 (skipped, for meson) when offlineimap3
is not installed there.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

OI_ROOT = os.environ.get('OFFLINEIMAP3_ROOT', '/usr/share/offlineimap3')

if not os.path.isdir(os.path.join(OI_ROOT, 'offlineimap')):
    print('offlineimap3 is not installed in %s: skipped' % OI_ROOT)
    sys.exit(77)
sys.path.insert(0, OI_ROOT)
try:
    from offlineimap.accounts import SyncableAccount
    from offlineimap.folder.Base import BaseFolder
    from offlineimap.folder.LocalStatus import LocalStatusFolder
    from offlineimap.folder.LocalStatusSQLite import LocalStatusSQLiteFolder
    from offlineimap.ui.UIBase import setglobalui
except ImportError as exc:  # a broken or partial installation
    print('cannot import offlineimap3 (%s): skipped' % exc)
    sys.exit(77)

HELPER = os.path.abspath(sys.argv[1])
PASSED = []
FAILED = []


class StubUI:
    """The few UI methods the status folders call."""

    def __init__(self):
        self.messages = []

    def _msg(self, msg):
        self.messages.append(msg)

    def warn(self, msg, *args, **kwargs):
        self.messages.append(msg)

    def debug(self, *args, **kwargs):
        pass


class StubConfig:
    def getdefaultboolean(self, section, option, default):
        return default

    def getdefault(self, section, option, default):
        return default


class StubRepo:
    """What BaseFolder.__init__ and the status folders read from a repository."""

    def __init__(self, root, uiddir=None):
        self.root = root
        self.uiddir = uiddir
        self.name = 'LocalStatus'
        self.newmail_hook = None

    def nametrans(self, name):
        return name

    def getconfig(self):
        return StubConfig()

    def should_sync_folder(self, name):
        return True

    def getuiddir(self):
        return self.uiddir

    def __str__(self):
        return self.name


UI = StubUI()
setglobalui(UI)


def helper(*args, stdin=None, check=True):
    res = subprocess.run([HELPER] + list(args), capture_output=True, text=True, input=stdin)
    if check and res.returncode != 0:
        raise AssertionError('helper %s failed (%d): %s%s' %
                             (args, res.returncode, res.stdout, res.stderr))
    return res


def check(name, got, want):
    if got == want:
        PASSED.append(name)
        print('ok    %s' % name)
    else:
        FAILED.append(name)
        print('FAIL  %s\n  got:  %r\n  want: %r' % (name, got, want))


def run_case(name, fn):
    try:
        fn()
    except Exception as exc:  # a crash is a failure of that case, not of the run
        import traceback
        traceback.print_exc()
        FAILED.append(name)
        print('FAIL  %s: %s' % (name, exc))


def master(path):
    con = sqlite3.connect(path)
    rows = con.execute('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid').fetchall()
    con.close()
    return rows


def oi_folder(root, name):
    folder = LocalStatusSQLiteFolder(name, StubRepo(root))
    folder.openfiles()
    folder.cachemessagelist()
    return folder


def oi_rows(folder):
    """offlineimap's message list as our helper prints rows."""
    out = []
    for uid in sorted(folder.messagelist):
        m = folder.messagelist[uid]
        out.append('%d|%s|%d|%s' % (uid, ''.join(sorted(m['flags'])), m['mtime'] or 0,
                                    ', '.join(sorted(m['labels']))))
    return out


def helper_dump(path):
    lines = helper('dump', path).stdout.splitlines()
    return lines[0], [l for l in lines[1:] if not l.startswith('state ')], \
        [l for l in lines[1:] if l.startswith('state ')]


def case_schema(tmp):
    ours = os.path.join(tmp, 'schema', 'ours')
    helper('create', ours)
    theirs_root = os.path.join(tmp, 'schema')
    folder = oi_folder(theirs_root, 'theirs')
    check('offlineimap3 reports a new db for its own file', folder.isnewfolder(), True)
    folder.closefiles()
    check('sqlite_master is identical', master(ours), master(os.path.join(theirs_root, 'theirs')))
    # offlineimap3 opens ours without creating anything.
    UI.messages.clear()
    folder = oi_folder(os.path.dirname(ours), 'ours')
    check('offlineimap3 takes our new db as existing', (folder.isnewfolder(), UI.messages),
          (False, []))
    folder.closefiles()
    head, rows, _ = helper_dump(os.path.join(theirs_root, 'theirs'))
    check('we take offlineimap3\'s new db as existing', (head, rows), ('created=0 upgraded=0', []))


def case_we_write_they_read(tmp):
    root = os.path.join(tmp, 'c2py')
    path = os.path.join(root, 'INBOX')
    helper('write', path)
    folder = oi_folder(root, 'INBOX')
    check('offlineimap3 reads our rows', oi_rows(folder), [
        '1|FS|0|', '2|S|0|', '5|RTab|1700000000|\\Inbox, work', '10||0|', '4294967295|D|0|'])
    # offlineimap3 writes into our db, which has our extra state table.
    folder.savemessage(20, None, {'S', 'F'}, 0)
    folder.savemessageflags(1, {'R'})
    folder.deletemessage(2)
    folder.deletemessages([10, 4294967295])
    folder.savemessagelabels(5, {'b', 'a'}, mtime=7)
    folder.closefiles()
    head, rows, state = helper_dump(path)
    check('we read what offlineimap3 wrote into our db',
          rows, ['1|R|0|', '5|RTab|7|a, b', '20|FS|0|'])
    check('our state table survives offlineimap3', state, ['state highestmodseq=12345'])
    con = sqlite3.connect(path)
    check('integrity_check after both wrote', con.execute('PRAGMA integrity_check').fetchall(),
          [('ok',)])
    check('journal_mode stays delete', con.execute('PRAGMA journal_mode').fetchall(),
          [('delete',)])
    con.close()
    check('no journal or wal file is left', sorted(os.listdir(root)), ['INBOX'])


def case_they_write_we_read(tmp):
    root = os.path.join(tmp, 'py2c')
    folder = oi_folder(root, 'Sent')
    folder.savemessage(3, None, {'S'}, 0)
    folder.savemessage(1, None, {'F', 'S', 'a'}, 0, mtime=5, labels={'x y', '\\Important'})
    folder.savemessage(400, None, set(), 0)
    folder.closefiles()
    path = os.path.join(root, 'Sent')
    head, rows, state = helper_dump(path)
    check('we read offlineimap3\'s rows', (head, rows, state), (
        'created=0 upgraded=0', ['1|FSa|5|\\Important, x y', '3|S|0|', '400||0|'], []))
    helper('modify', path)  # changes 1, deletes 2 (absent), 10, ..., adds 30
    folder = oi_folder(root, 'Sent')
    check('offlineimap3 reads our changes', oi_rows(folder),
          ['1|RS|5|\\Important, x y', '3|S|0|', '30|F|0|', '400||0|'])
    folder.closefiles()


def case_upgrade(tmp):
    v1 = ("CREATE TABLE metadata (key VARCHAR(50) PRIMARY KEY, value VARCHAR(128));"
          "INSERT INTO metadata VALUES('db_version', '1');"
          "CREATE TABLE status (id INTEGER PRIMARY KEY, flags VARCHAR(50));"
          "INSERT INTO status VALUES (1, 'FS'); INSERT INTO status VALUES (2, 'S');")
    root = os.path.join(tmp, 'upgrade')
    os.makedirs(root)
    for name in ('theirs', 'ours'):
        con = sqlite3.connect(os.path.join(root, name))
        con.executescript(v1)
        con.close()
    folder = oi_folder(root, 'theirs')
    folder.closefiles()
    head, rows, _ = helper_dump(os.path.join(root, 'ours'))
    check('we upgrade v1', (head, rows), ('created=0 upgraded=1', ['1|FS|0|', '2|S|0|']))
    check('upgraded schema identical to offlineimap3\'s',
          master(os.path.join(root, 'ours')), master(os.path.join(root, 'theirs')))
    folder = oi_folder(root, 'ours')
    check('offlineimap3 reads our upgraded db', oi_rows(folder), ['1|FS|0|', '2|S|0|'])
    folder.closefiles()


def case_basenames(tmp):
    names = ['INBOX', '', '.', '/', 'a/b/c', 'a/.', '..', 'a.', '.\n', 'Sent Items',
             'Ärger/Übel', 'x/./y', '/lead', 'trail/']
    got, want = [], []
    for name in names:
        stub = object.__new__(BaseFolder)
        stub.name = name
        want.append(BaseFolder.getfolderbasename(stub))
        got.append(helper('basename', name).stdout)
    check('folder base names equal getfolderbasename()', got, want)


def case_validity(tmp):
    uiddir = os.path.join(tmp, 'Repository-R', 'FolderValidity')
    os.makedirs(uiddir)
    stub = object.__new__(BaseFolder)
    stub.name = 'Archive/2020'
    stub.repository = StubRepo(tmp, uiddir)
    stub.get_uidvalidity = lambda: 1795503428
    stub.save_uidvalidity()
    path = os.path.join(uiddir, 'Archive.2020')
    check('we read offlineimap3\'s FolderValidity', helper('validity-read', path).stdout,
          '1795503428\n')
    helper('validity-write', path, '42')
    del stub._base_saved_uidvalidity
    check('offlineimap3 reads our FolderValidity', stub.get_saveduidvalidity(), 42)
    check('no .tmp left', sorted(os.listdir(uiddir)), ['Archive.2020'])
    check('missing FolderValidity', helper('validity-read', path + 'x').stdout, 'none\n')


def case_plain(tmp):
    root = os.path.join(tmp, 'plain')
    os.makedirs(root)
    folder = LocalStatusFolder('INBOX', StubRepo(root))
    for uid, flags, mtime, labels in ((9, {'S'}, 0, set()), (2, {'F', 'S', 'b'}, 33, {'w', 'v'}),
                                      (4294967295, set(), 0, set())):
        folder.messagelist[uid] = {'uid': uid, 'flags': flags, 'mtime': mtime, 'labels': labels,
                                   'time': 0}
    folder.saveall()
    out = helper('plain', os.path.join(root, 'INBOX')).stdout.splitlines()
    check('we read offlineimap3\'s plain FORMAT 2', out,
          ['present=1 format=2', '2|FSb|33|v, w', '9|S|0|', '4294967295||0|'])
    v1path = os.path.join(root, 'Old')
    with open(v1path, 'w') as f:
        f.write('OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 1\n12:RS\n3:\n')
    out = helper('plain', v1path).stdout.splitlines()
    old = LocalStatusFolder('Old', StubRepo(root))
    old.cachemessagelist()  # reads v1 and rewrites the file as v2
    want = ['present=1 format=1'] + oi_rows(old)
    check('we read plain FORMAT 1 as offlineimap3 does', out, want)
    with open(v1path, 'w') as f:  # offlineimap3 rewrote it as FORMAT 2
        f.write('OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 1\n12:RS\n3:\n'
                '4:S\nbad line\n')
    res = helper('plain', v1path, check=False)
    check('a corrupt plain line is an error naming file and line',
          (res.returncode, v1path in res.stdout, 'line 5 ' in res.stdout), (1, True, True))


def case_lock(tmp):
    meta = os.path.join(tmp, 'lockmeta')
    os.makedirs(meta)
    path = os.path.join(meta, 'Personal.lock')
    acc = object.__new__(SyncableAccount)
    acc.name = 'Personal'
    acc._lockfd = None
    acc._lockfilepath = path
    # We hold it: offlineimap3's own __lock() must fail.
    proc = subprocess.Popen([HELPER, 'lock', meta, 'Personal'], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    check('we take the lock', proc.stdout.readline(), 'locked\n')
    try:
        acc._SyncableAccount__lock()
        check('offlineimap3 is refused while we hold the lock', 'locked', 'refused')
        acc._unlock()
    except Exception as exc:
        check('offlineimap3 is refused while we hold the lock', str(exc).startswith(
            'Could not lock account Personal. Is another instance using this account?'), True)
    proc.stdin.close()
    proc.wait()
    check('our release removes the lock file', os.path.exists(path), False)
    # offlineimap3 holds it: we must fail with its message and its PID.
    acc._SyncableAccount__lock()
    res = helper('lock', meta, 'Personal', stdin='', check=False)
    check('we are refused while offlineimap3 holds the lock',
          (res.returncode, 'Could not lock account Personal. Is another instance using this '
           'account?' in res.stdout, 'held by process %d' % os.getpid() in res.stdout),
          (1, True, True))
    acc._unlock()
    check('offlineimap3\'s release removes the lock file', os.path.exists(path), False)
    res = helper('lock', meta, 'Personal', stdin='', check=False)
    check('we take the lock after offlineimap3 released it', res.stdout, 'locked\n')


def main():
    tmp = tempfile.mkdtemp(prefix='oimap-interop-')
    try:
        for case in (case_schema, case_we_write_they_read, case_they_write_we_read, case_upgrade,
                     case_basenames, case_validity, case_plain, case_lock):
            sub = os.path.join(tmp, case.__name__)
            os.makedirs(sub)
            run_case(case.__name__, lambda: case(sub))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d passed, %d failed' % (len(PASSED), len(FAILED)))
    return 1 if FAILED or not PASSED else 0


if __name__ == '__main__':
    sys.exit(main())
