"""Command-line modes that do not sync: --info, --migrate-fmd5-using-nametrans, and -s.

--info prints what offlineimap3 prints (checked against it, on the same
configuration and Maildir) and changes nothing; --migrate-fmd5-using-nametrans
renames the files an offlineimap older than 6.3.5 wrote so that the next sync
neither uploads nor downloads them again (offlineimap3's crashes); -s sends
every message to syslog as well, in offlineimap3's format.
"""
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap

import pytest

from harness import maildir as md
from harness import runner

FOLDERS = ['INBOX', 'Work', 'Lists.dev', 'Trash']


def seed(dovecot, mailgen, n=2):
    for f in FOLDERS[1:]:
        dovecot.create(f)
    for f in FOLDERS:
        for _ in range(n):
            dovecot.append(f, mailgen.plain())


def info_part(text):
    """From 'Remote repository' on; the local folder list as a set (offlineimap3 lists
    Maildir folders in directory order)."""
    text = text[text.index("Remote repository"):]
    head, _, local = text.partition("Local repository")
    before, _, folders = local.partition('Folderlist:\n')
    return head, before, sorted(folders.split('\n'))


def test_info_matches_offlineimap3_and_changes_nothing(dovecot, oimap, mailgen):
    if not runner.OFFLINEIMAP3.exists():
        pytest.skip('offlineimap3 is not installed')
    seed(dovecot, mailgen)
    oimap.write_config(
        remote_opts={'folderfilter': "lambda f: f != 'Trash'",
                      'nametrans': "lambda f: f.lower()"},
        local_opts={'nametrans': "lambda f: f if f == 'INBOX' else f.capitalize()",
                    'folderfilter': "lambda f: f != 'work'"})
    oimap.sync()
    before = {p: p.stat().st_mtime_ns for p in oimap.workdir.rglob('*')}
    ours = oimap.run('--info')
    theirs = oimap.run('--info', binary=runner.OFFLINEIMAP3)
    assert ours.returncode == 0, runner.describe(ours)
    assert theirs.returncode == 0, runner.describe(theirs)
    # ttyui, forced by --info, writes to stderr.
    assert info_part(ours.stderr) == info_part(theirs.stderr)
    assert 'Folderlist:\n INBOX -> inbox\n Lists.dev -> lists.dev\n Trash -> trash (disabled)' \
        in ours.stderr
    assert re.search(r"^Server welcome string: b'\* OK \[CAPABILITY IMAP4rev1 .*\]", ours.stderr,
                     re.M)
    assert 'Folderlist:\n inbox -> Inbox\n lists.dev -> Lists.dev\n work -> Work (disabled)\n' \
        in ours.stderr
    after = {p: p.stat().st_mtime_ns for p in oimap.workdir.rglob('*')}
    assert after == before, 'nothing written, no lock, no status'


def test_info_connection_failure(dovecot, oimap):
    oimap.write_config(remote_opts={'remoteport': 1})
    r = oimap.run('--info')
    assert r.returncode == 1
    assert "Failed to connect. Reason" in r.stderr
    assert "Local repository 'Test-Local': type 'Maildir'" in r.stderr


def old_fmd5_files(root, folder, old_name):
    """Give every message file of `folder` the FMD5 of `old_name`, as offlineimap < 6.3.5."""
    old = hashlib.md5(old_name.encode()).hexdigest()
    for sub in ('new', 'cur'):
        d = root / folder / sub
        for f in d.iterdir():
            os.rename(f, d / re.sub(r'FMD5=[0-9a-f]{32}', f'FMD5={old}', f.name))
    return old


def test_migrate_fmd5_using_nametrans(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    oimap.write_config(
        remote_opts={'nametrans': "lambda f: 'inbox' if f == 'INBOX' else 'srv-' + f"},
        local_opts={'nametrans': "lambda f: 'INBOX' if f == 'inbox' else re.sub('^srv-', '', f)"})
    oimap.sync()
    local = oimap.local()
    assert sorted(local) == ['inbox', 'srv-Lists.dev', 'srv-Trash', 'srv-Work']
    # The Maildir as an old offlineimap left it: FMD5 from the untranslated names.
    for f in local:
        old_fmd5_files(oimap.maildir, f, f)
    stray = md.add_message(oimap.maildir / 'inbox', mailgen.plain())
    foreign = oimap.maildir / 'inbox' / 'cur' / ('1700000000_0.1.host,U=99,FMD5=' + '0' * 32 +
                                                 ':2,S')
    foreign.write_bytes(mailgen.plain())
    names = sorted(p.name for p in oimap.maildir.rglob('*') if p.is_file())

    r = oimap.run('--migrate-fmd5-using-nametrans', '--dry-run')
    assert r.returncode == 0, runner.describe(r)
    assert sorted(p.name for p in oimap.maildir.rglob('*') if p.is_file()) == names
    assert '8 message files in 4 folders would get' in r.stdout + r.stderr

    r = oimap.run('--migrate-fmd5-using-nametrans')
    assert r.returncode == 0, runner.describe(r)
    out = r.stdout + r.stderr
    assert '8 message files in 4 folders got' in out
    assert "Inconsistent FMD5 for file" in out and '0' * 32 in out
    migrated = oimap.local()
    assert all(m.fmd5 == md.folder_md5('INBOX') for m in migrated['inbox']
               if m.uid and m.uid < 99)
    assert all(m.fmd5 == md.folder_md5('Work') for m in migrated['srv-Work'])
    # The next sync recognises every message: nothing copied either way, except the new
    # local message (and the foreign file, which is new to this folder).
    r = oimap.sync()
    copies = re.findall(r'^Copy message .*$', r.stdout, re.M)
    assert len(copies) == 2, r.stdout
    assert len(dovecot.messages('INBOX')) == 4
    # Again: nothing left to migrate.
    r = oimap.run('--migrate-fmd5-using-nametrans')
    assert '0 message files in 0 folders got' in r.stdout + r.stderr


def test_migrate_fmd5_without_nametrans_is_a_no_op(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    oimap.sync()
    names = sorted(p.name for p in oimap.maildir.rglob('*') if p.is_file())
    r = oimap.run('--migrate-fmd5-using-nametrans')
    assert r.returncode == 0, runner.describe(r)
    assert sorted(p.name for p in oimap.maildir.rglob('*') if p.is_file()) == names
    assert 'Inconsistent' not in r.stdout + r.stderr


SYSLOG_RUNNER = textwrap.dedent('''
    import json, socket, subprocess, sys, threading
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind('/dev/log')
    s.settimeout(0.5)
    got, done = [], threading.Event()
    def reader():
        # Read while the program runs: a full datagram queue would block its sends.
        while True:
            try:
                got.append(s.recv(65536).decode('utf-8', 'replace'))
            except socket.timeout:
                if done.is_set():
                    return
    t = threading.Thread(target=reader)
    t.start()
    r = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=100)
    done.set()
    t.join()
    print(json.dumps({'rc': r.returncode, 'stdout': r.stdout, 'stderr': r.stderr,
                      'syslog': got}))
''')


def run_with_private_syslog(tmp_path, argv, env):
    """Run argv in a private mount namespace whose /dev/log is a datagram socket we read."""
    if os.geteuid() != 0 or not shutil.which('unshare'):
        pytest.skip('needs root and unshare for a private /dev/log')
    script = tmp_path / 'syslog_runner.py'
    script.write_text(SYSLOG_RUNNER)
    shell = ('set -e; T=$(mktemp -d); mkdir $T/dev; mount --rbind /dev $T/dev; '
             'mount -t tmpfs tmpfs /dev; for f in $T/dev/*; do ln -s $f /dev/${f##*/}; done; '
             f'exec {sys.executable} {script} "$@"')
    r = subprocess.run(['unshare', '-m', 'sh', '-c', shell, 'sh', *argv], capture_output=True,
                       text=True, env=env, timeout=120)
    if r.returncode != 0:
        pytest.skip(f'no private mount namespace here: {r.stderr[-300:]}')
    import json
    return json.loads(r.stdout)


def test_syslog_flag(dovecot, oimap, mailgen, tmp_path):
    seed(dovecot, mailgen, n=1)
    oimap.write_config()
    env = dict(os.environ, HOME=str(oimap.workdir), LC_ALL='C.UTF-8')
    out = {}
    for name, binary in (('ours', oimap.binary), ('theirs', runner.OFFLINEIMAP3)):
        if not binary.exists():
            continue
        shutil.rmtree(oimap.maildir, ignore_errors=True)
        shutil.rmtree(oimap.metadata, ignore_errors=True)
        out[name] = run_with_private_syslog(
            tmp_path, [str(binary), '-c', str(oimap.config), '-o', '-u', 'basic', '-s'], env)
        assert out[name]['rc'] == 0, out[name]
    lines = out['ours']['syslog']
    assert any(re.fullmatch(r'<14>offlineimap\[\d+\]: Syncing INBOX: IMAP -> Maildir\x00', x)
               for x in lines), lines
    # The console still gets everything.
    assert 'Syncing INBOX: IMAP -> Maildir' in out['ours']['stdout']
    if 'theirs' in out:
        def shape(msgs):
            return sorted({re.sub(r'\[\d+\]', '[PID]', m.split(': ', 1)[0]) for m in msgs})
        assert shape(lines) == shape(out['theirs']['syslog'])
        common = [m.split(': ', 1)[1] for m in out['theirs']['syslog']
                  if m.split(': ', 1)[1].startswith('Syncing ')]
        assert common and all(c in [m.split(': ', 1)[1] for m in lines] for c in common)


def read_profiles(d):
    """{context: {(kind, operation): (count, total_s, max_ms, bytes)}} over every file."""
    out, files = {}, sorted(d.glob('*.prof'))
    for f in files:
        ctx = None
        for line in f.read_text().splitlines():
            if line.startswith('['):
                ctx = line[1:-1]
                assert ctx not in out, f'context {ctx} in two files'
                out[ctx] = {}
            elif ctx and line and not line.startswith('kind '):
                kind, rest = line.split(None, 1)
                op, count, total, mx, nbytes = rest.rsplit(None, 4)
                out[ctx][(kind, op.strip())] = (int(count), float(total), float(mx), int(nbytes))
    return files, out


@pytest.mark.threads
def test_profile_mode(dovecot, oimap, mailgen):
    seed(dovecot, mailgen, n=3)
    oimap.write_config(remote_opts={'maxconnections': 2})
    prof = oimap.workdir / 'prof'
    r = oimap.sync('-P', str(prof))
    assert "Profile mode: Potentially large data will be created in" in r.stdout + r.stderr
    files, tables = read_profiles(prof)
    # The main thread and the folder workers each wrote a file, named after the thread.
    assert len(files) >= 2, files
    assert any(re.fullmatch(r'\d{14}_\d+_Account_sync_Test\.prof', f.name) for f in files)
    assert all(f.read_text().startswith('# offlineimap -P profile of thread') for f in files)
    for folder in FOLDERS:
        t = tables[f'Folder {folder} [acc: Test]']
        assert t[('sync', 'folder')][0] == 1
        assert t[('imap', 'SELECT')][0] >= 1
        # Bytes saved = the bytes of the files in the Maildir.
        size = sum(m.path.stat().st_size for m in oimap.local()[folder])
        assert t[('maildir', 'save message')][0] == 3
        assert t[('maildir', 'save message')][3] == size
        assert t[('net', 'read')][3] >= size
    acct = tables['Account sync Test']
    assert acct[('imap', 'LIST')][0] >= 1
    # Profiling does not change the result.
    oimap.assert_in_sync()
    # An existing directory is used, with offlineimap's warning.
    r = oimap.sync('-P', str(prof))
    assert f"Profile mode: Directory '{prof}' already exists!" in r.stdout + r.stderr
