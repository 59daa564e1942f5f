"""What the non-curses interfaces write during real syncs against Dovecot.

machineui: every line is checked against protocol 7.2.0 as REFERENCE section 3 and
offlineimap3's ui/Machine.py define it (severity, command, URL-encoded thread and
payload, the fields of each command, which thread speaks, the order), on a sync with
changes on both sides; then the same sync is run by offlineimap3 and what we print is
compared with what it printed. The password is read from stdin after a getpass line.

syslog: -s and the syslog interface send their datagrams to a unix socket the test
binds (OIMAP_SYSLOG_SOCKET), each one "<PRI>offlineimap[pid]: message\\0" with
facility user and the message's severity, the same messages as the console, and no
password even with -d imap.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

import pytest

from harness import maildir as md
from harness import runner

LINE = re.compile(r'^(msg|warn|error|debug|critical):([A-Za-z_]*):([A-Za-z0-9_.~+%-]*):'
                  r'([A-Za-z0-9_.~+%-]*)$')
BANNER_2 = '  Licensed under the GNU GPL v2 or any later version (with an OpenSSL exception)'
ACCT = 'Account sync Test'


def folder_thread(name: str) -> str:
    return f'Folder {name} [acc: Test]'


def decode(line: str) -> tuple[str, str, str, str]:
    """One machineui line -> (severity, command, thread, payload), checking that the
    encoding is exactly urlencode's (quote_plus with safe='')."""
    m = LINE.match(line)
    assert m, f'not a machineui line: {line!r}'
    sev, cmd, th, pl = m.groups()
    thread = urllib.parse.unquote_plus(th)
    payload = urllib.parse.unquote_plus(pl)
    for raw, value in ((th, thread), (pl, payload)):
        assert urllib.parse.urlencode([('', value)])[1:] == raw, \
            f'{raw!r} is not how Python encodes {value!r}'
    return sev, cmd, thread, payload


def is_type(s: str) -> bool:
    return s in ('IMAP', 'Maildir', 'Gmail', 'GmailMaildir')


def is_uid_list(s: str) -> bool:
    return all(re.fullmatch(r'-?\d+', u) for u in s.split('\f'))


# command -> (number of '\n'-separated fields, who speaks, check of the fields)
SPEC = {
    'protocol': (1, 'main', lambda f: f == ['7.2.0']),
    'initbanner': (2, 'main', lambda f: f[0].startswith('OfflineIMAP ') and f[1] == BANNER_2),
    'acct': (1, 'account', lambda f: f == ['Test']),
    'acctdone': (1, 'account', lambda f: f == ['Test']),
    'connecting': (3, 'account', lambda f: f[0] == '127.0.0.1' and f[1].isdigit()
                   and f[2] == 'Test-Remote'),
    'syncfolders': (2, 'account', lambda f: f == ['IMAP', 'Maildir']),
    'syncingfolder': (5, 'folder', lambda f: f[0] == 'IMAP' and f[2] == 'Maildir'
                      and f[1] == f[3] and f[4] == ''),
    'syncingmessages': (5, 'folder', lambda f: is_type(f[0]) and is_type(f[2]) and f[4] == ''),
    'loadmessagelist': (2, 'folder', lambda f: is_type(f[0])),
    'messagelistloaded': (3, 'folder', lambda f: is_type(f[0]) and f[2].isdigit()),
    'copyingmessage': (4, 'folder', lambda f: re.fullmatch(r'-?\d+', f[0]) and is_type(f[1])
                       and re.fullmatch(r'(IMAP|Maildir)\[.+\]', f[3])),
    'ignorecopyingmessage': (4, 'folder', lambda f: re.fullmatch(r'\d+', f[0])),
    'deletingmessages': (2, 'folder', lambda f: is_uid_list(f[0])
                         and re.fullmatch(r'(IMAP|Maildir)\t.+', f[1])),
    'addingflags': (3, 'folder', lambda f: is_uid_list(f[0])
                    and all(len(x) == 1 for x in f[1].split('\f'))),
    'deletingflags': (3, 'folder', lambda f: is_uid_list(f[0])
                      and all(len(x) == 1 for x in f[1].split('\f'))),
    '_display': (None, 'any', lambda f: True),
    '': (None, 'any', lambda f: True),
    'getpass': (1, 'account', lambda f: f == ['test']),
    'terminate': (3, 'main', lambda f: f[0].isdigit()),
    'registerthread': (1, 'any', lambda f: f == ['Test']),
    'unregisterthread': (1, 'main', lambda f: True),
    'threadExited': (1, 'main', lambda f: True),
    'sleeping': (2, 'account', lambda f: f[0].isdigit() and f[1].isdigit()),
}


def check_protocol(stdout: str) -> list[tuple[str, str, str, str]]:
    """Check every line of a machineui run; returns the decoded lines after the banner."""
    lines = stdout.split('\n')
    assert lines[-1] == '', 'the output ends with a newline'
    lines.pop()
    assert lines[0].startswith('OfflineIMAP ') and lines[1] == BANNER_2, \
        'the banner comes first, as it is, before the formatter is installed'
    out = [decode(ln) for ln in lines[2:]]
    for sev, cmd, thread, payload in out:
        assert cmd in SPEC, f'unknown command {cmd!r}'
        n, who, check = SPEC[cmd]
        fields = payload.split('\n')
        if n is not None:
            assert len(fields) == n, f'{cmd}: {len(fields)} fields, not {n}: {payload!r}'
        assert check(fields), f'{cmd}: bad fields {fields!r}'
        expect = {'main': thread == 'MainThread', 'account': thread == ACCT,
                  'folder': re.fullmatch(r'Folder .+ \[acc: Test\]', thread) is not None,
                  'any': True}[who]
        assert expect, f'{cmd} from the wrong thread {thread!r}'
        want_sev = 'warn' if cmd in ('validityproblem',) else None
        if want_sev:
            assert sev == want_sev
        elif cmd not in ('', '_display'):
            assert sev in ('msg', 'debug'), f'{cmd} at {sev}'
    cmds = [c for _s, c, _t, _p in out]
    assert cmds[:2] == ['protocol', 'initbanner'], cmds[:3]
    assert cmds[-1] == 'terminate', cmds[-3:]
    assert cmds.count('acct') == cmds.count('acctdone') == 1
    first_folder = min(i for i, (_s, _c, t, _p) in enumerate(out) if t.startswith('Folder '))
    last_folder = max(i for i, (_s, _c, t, _p) in enumerate(out) if t.startswith('Folder '))
    assert cmds.index('acct') < cmds.index('connecting') < first_folder
    assert cmds.index('syncfolders') < first_folder and last_folder < cmds.index('acctdone')
    # Each folder thread starts with syncingfolder and lists the Maildir first.
    per_thread = defaultdict(list)
    for _s, c, t, p in out:
        if t.startswith('Folder '):
            per_thread[t].append((c, p))
    for t, seq in per_thread.items():
        folder = re.fullmatch(r'Folder (.+) \[acc: Test\]', t).group(1)
        seq = [x for x in seq if x[0] not in ('registerthread',)]
        assert seq[0] == ('syncingfolder', f'IMAP\n{folder}\nMaildir\n{folder}\n'), (t, seq)
        if len(seq) == 1:
            continue  # the skip list shows it unchanged on both sides: nothing is listed
        assert seq[1] == ('loadmessagelist', f'Maildir\n{folder}'), (t, seq)
        assert seq[2][0] == 'messagelistloaded' and seq[2][1].startswith(f'Maildir\n{folder}\n')
    return out


def two_syncs(s: runner.Setup, dovecot, msgs, local_new, *, binary=None, user=None,
              args=('-u', 'machineui')):
    """A first sync, then changes on both sides, then the second sync; both runs are
    returned (with machineui unless args say otherwise)."""
    dovecot.create('Sub', user=user)
    for m in msgs[:3]:
        dovecot.append('INBOX', m, user=user)
    dovecot.append('Sub', msgs[3], user=user)
    s.write_config()
    first = s.run('-o', *args, binary=binary)
    assert first.returncode == 0, runner.describe(first)
    dovecot.set_flags('INBOX', 1, ['\\Flagged'], user=user)
    dovecot.set_flags('INBOX', 3, ['\\Answered'], user=user)
    dovecot.expunge('INBOX', 2, user=user)
    md.add_message(md.folder_dir(s.maildir, 'INBOX'), local_new)
    m3 = [m for m in md.read_folder(s.maildir, 'INBOX') if m.uid == 3][0]
    md.add_flags(m3.path, 'S')
    second = s.run('-o', *args, binary=binary)
    assert second.returncode == 0, runner.describe(second)
    return first, second


def test_machineui_protocol_line_by_line(oimap, dovecot, mailgen):
    msgs = [mailgen.plain() for _ in range(4)]
    first, second = two_syncs(oimap, dovecot, msgs, mailgen.plain())
    assert first.stderr == '' and second.stderr == ''
    out1 = check_protocol(first.stdout)
    out2 = check_protocol(second.stdout)
    got1 = {(c, t, p) for _s, c, t, p in out1}
    for folder, n in (('INBOX', 3), ('Sub', 1)):
        assert ('_display', ACCT, f'Creating new Local Status db for Test-Local:{folder}') in got1
        assert ('', ACCT, f'Creating folder {folder}[Test-Local]') in got1
        for uid in range(1, n + 1):
            assert ('copyingmessage', folder_thread(folder),
                    f'{uid}\nIMAP\n{folder}\nMaildir[{folder}]') in got1
    # As offlineimap3: the folder structure sync is announced once it is done.
    cmds1 = [(c, p) for _s, c, _t, p in out1]
    assert max(i for i, (c, p) in enumerate(cmds1) if p.startswith('Creating folder ')) < \
        cmds1.index(('syncfolders', 'IMAP\nMaildir')), cmds1
    got2 = [(c, t, p) for _s, c, t, p in out2]
    fi = folder_thread('INBOX')
    for want in (('deletingmessages', fi, '2\nMaildir\tINBOX'),
                 ('addingflags', fi, '1\nF\nINBOX'),
                 ('addingflags', fi, '3\nR\nINBOX'),
                 ('copyingmessage', fi, '-1\nMaildir\nINBOX\nIMAP[INBOX]'),
                 ('addingflags', fi, '3\nS\nINBOX'),
                 ('terminate', 'MainThread', '0\n\n')):
        assert want in got2, f'{want} not in:\n' + '\n'.join(map(str, got2))
    # offlineimap's order inside a folder: server to local, then local to server.
    order = [x for x in got2 if x[1] == fi and x[0] in ('deletingmessages', 'copyingmessage')]
    assert order[0][0] == 'deletingmessages' and order[1][0] == 'copyingmessage', order
    # Each direction's pass is announced (syncingmessages) after both lists are loaded
    # and before its first change.
    seq = [(c, p) for c, t, p in got2 if t == fi]
    down = seq.index(('syncingmessages', 'IMAP\nINBOX\nMaildir\nINBOX\n'))
    up = seq.index(('syncingmessages', 'Maildir\nINBOX\nIMAP\nINBOX\n'))
    assert seq.index(('messagelistloaded', 'IMAP\nINBOX\n2')) < down
    assert down < seq.index(('deletingmessages', '2\nMaildir\tINBOX'))
    assert seq.index(('addingflags', '3\nR\nINBOX')) < up
    assert up < seq.index(('copyingmessage', '-1\nMaildir\nINBOX\nIMAP[INBOX]'))
    # The thread lifecycle: each folder thread registers first, and MainThread (the
    # monitor) reports its end, then unregisters it.
    for folder in ('INBOX', 'Sub'):
        th = folder_thread(folder)
        assert [(c, p) for _s, c, t, p in out1 if t == th][0] == ('registerthread', 'Test')
        ends = [(c, p) for c, t, p in got2 if t == 'MainThread' and p == th]
        assert ends == [('threadExited', th), ('unregisterthread', th)], ends
    assert [(c, t, p) for c, t, p in got2 if p == ACCT] == [
        ('threadExited', 'MainThread', ACCT), ('unregisterthread', 'MainThread', ACCT)]


def offlineimap3_only(thread: str, line: tuple[str, str, str], unopened: dict[str, str]) -> bool:
    """Lines offlineimap3 prints that we do not, and why:
    - offlineimap3 fetches each message on a thread of its own ("Copy message from
      <repo>:<folder>": registered, then reported ended by MainThread); we stream the
      bodies on the folder's own connection, in its thread;
    - a folder that did not change on the server (its STATUS says so) and whose Maildir
      holds what the status says: we do not list the server folder (unopened[folder] ==
      'server'), or, when the skip list shows the Maildir unchanged too, neither side
      ('both'); and we run no message pass there."""
    _sev, cmd, payload = line
    if thread.startswith('Copy message from ') or payload.startswith('Copy message from '):
        return True
    m = re.fullmatch(r'Folder (.+) \[acc: Test\]', thread)
    if m and m.group(1) in unopened:
        listing = cmd in ('loadmessagelist', 'messagelistloaded')
        return cmd == 'syncingmessages' or (listing and (unopened[m.group(1)] == 'both'
                                                         or payload.startswith('IMAP\n')))
    return False


def compare_with_offlineimap3(ours: str, theirs: str, unopened: dict[str, str]) -> None:
    """The same lines as offlineimap3 printed, thread by thread, apart from the version
    and environment lines and offlineimap3_only(). A folder thread's lines come in the
    same order; the account thread's and MainThread's are compared as multisets (folder
    threads end in any order, and folders are created in the server's LIST order)."""
    skip = {'initbanner', ''}

    def by_thread(lines):
        d = defaultdict(list)
        for sev, c, t, p in lines:
            if c in skip and t == 'MainThread':
                continue
            d[t].append((sev, c, p))
        return d

    ours_t, theirs_t = by_thread(check_protocol(ours)), by_thread(check_protocol(theirs))
    for thread, seq in ours_t.items():
        assert thread in theirs_t, f'offlineimap3 has no thread {thread!r}'
        missing = [x for x in seq if x not in theirs_t[thread]]
        assert not missing, (f'{thread}: lines offlineimap3 did not print: {missing}\n'
                             f'it printed: {theirs_t[thread]}')
    for thread, seq in theirs_t.items():
        want = [x for x in seq if not offlineimap3_only(thread, x, unopened)]
        got = ours_t.get(thread, [])
        if thread.startswith('Folder '):
            assert got == want, f'{thread}: we print\n{got}\nofflineimap3 printed\n{want}'
        else:
            assert sorted(got) == sorted(want), \
                f'{thread}: we print\n{got}\nofflineimap3 printed\n{want}'


@pytest.mark.novalgrind  # which folders a run reads depends on timings Valgrind stretches
def test_machineui_same_as_offlineimap3(dovecot, mailgen, tmp_path):
    msgs = [mailgen.plain() for _ in range(4)]
    local_new = mailgen.plain()
    dovecot.add_user('other', 'other-pass')
    ours = runner.Setup(dovecot, tmp_path / 'ours')
    theirs = runner.Setup(dovecot, tmp_path / 'theirs', user='other')
    our1, our2 = two_syncs(ours, dovecot, msgs, local_new)
    their1, their2 = two_syncs(theirs, dovecot, msgs, local_new, binary=runner.OFFLINEIMAP3,
                               user='other')
    # Same users' data, same folders, same changes: the same lines, thread by thread
    # (threads interleave differently). On the second sync Sub did not change.
    compare_with_offlineimap3(our1.stdout, their1.stdout, {})
    compare_with_offlineimap3(our2.stdout, their2.stdout, {'Sub': 'server'})
    # A sync where nothing changed: our skip list knows every folder (once the Maildir
    # stamps are old enough to be trusted, after one more run), and each folder is still
    # announced as a thread of its own.
    time.sleep(2.1)
    assert ours.run('-o', '-u', 'machineui').returncode == 0
    our3 = ours.run('-o', '-u', 'machineui')
    their3 = theirs.run('-o', '-u', 'machineui', binary=runner.OFFLINEIMAP3)
    assert our3.returncode == 0 and their3.returncode == 0, runner.describe(our3)
    listed = {p for _s, c, _t, p in check_protocol(our3.stdout) if c == 'loadmessagelist'}
    assert not listed, f'the skip list should have kept every folder: {listed}'
    compare_with_offlineimap3(our3.stdout, their3.stdout, {'INBOX': 'both', 'Sub': 'both'})
    # And the same outcome on both accounts.
    assert md.read_tree(ours.maildir).keys() == md.read_tree(theirs.maildir).keys()


def test_thread_debug_same_as_offlineimap3(dovecot, mailgen, tmp_path):
    """-d thread in the text interfaces (basic here): UIBase's "[thread]: Register new
    thread ..." and "[thread]: Unregister thread ..." lines, and the debug-level
    "Syncing messages A[f] -> B[f]" of each pass, as offlineimap3 prints them."""
    msgs = [mailgen.plain() for _ in range(4)]
    local_new = mailgen.plain()
    dovecot.add_user('other', 'other-pass')
    ours = runner.Setup(dovecot, tmp_path / 'ours')
    theirs = runner.Setup(dovecot, tmp_path / 'theirs', user='other')
    args = ('-u', 'basic', '-d', 'thread')
    our = two_syncs(ours, dovecot, msgs, local_new, args=args)
    their = two_syncs(theirs, dovecot, msgs, local_new, binary=runner.OFFLINEIMAP3,
                      user='other', args=args)

    def lines(out: str) -> list[str]:
        return [ln for ln in out.split('\n')
                if ln.startswith(('[thread]: ', 'Syncing messages ', 'Now debugging for '))
                and 'Copy message from ' not in ln]

    for run, (o, t) in enumerate(zip(our, their), 1):
        got, want = lines(o.stdout), lines(t.stdout)
        if run == 2:  # Sub did not change: no pass there (see offlineimap3_only)
            want = [ln for ln in want if not re.fullmatch(
                r'Syncing messages (IMAP|Maildir)\[Sub\] -> (IMAP|Maildir)\[Sub\]', ln)]
        assert sorted(got) == sorted(want), f'sync {run}: we print\n{got}\nofflineimap3:\n{want}'
        assert 'Syncing messages IMAP[INBOX] -> Maildir[INBOX]' in got
        assert "[thread]: Unregister thread 'Folder INBOX [acc: Test]'" in got
        # Each thread registers before it speaks and is unregistered after.
        for name in ('Account sync Test', 'Folder INBOX [acc: Test]'):
            reg = got.index(f"[thread]: Register new thread '{name}' (account 'Test')")
            assert reg < got.index(f"[thread]: Unregister thread '{name}'")


def test_machineui_password_from_stdin(oimap, dovecot, mailgen):
    uid = dovecot.append('INBOX', mailgen.plain())
    oimap.write_config(remote_opts={'remotepass': None})
    pw = dovecot.password()
    r = oimap.run('-o', '-u', 'machineui', input=pw + '\n')
    assert r.returncode == 0, runner.describe(r)
    out = check_protocol(r.stdout)
    assert ('msg', 'getpass', ACCT, 'test') in out, r.stdout
    assert pw not in r.stdout + r.stderr
    assert [m.uid for m in md.read_folder(oimap.maildir, 'INBOX')] == [uid]
    # At end of input, the prompt fails clearly and the run says so.
    r = oimap.run('-o', '-u', 'machineui', input='')
    assert r.returncode == 1, runner.describe(r)
    assert "No password for user 'test' on stdin: it reached end of file." in \
        urllib.parse.unquote_plus(r.stdout), r.stdout


# ----------------------------------------------------------------------------- syslog

class LogSocket:
    """A unix datagram socket bound by the test, standing in for /dev/log. A thread
    reads it while the program runs, as a syslog daemon does: a unix datagram socket
    queues only net.unix.max_dgram_qlen (10) datagrams, and a sender blocks beyond."""

    def __init__(self, directory: Path):
        self.path = str(directory / 'log.sock')
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.got: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop.is_set():
            try:
                self.got.append(self.sock.recv(65536))
            except socket.timeout:
                pass

    def read(self) -> list[bytes]:
        """Everything received so far, once the sender is done."""
        self.stop.set()
        self.thread.join()
        self.sock.setblocking(False)
        while True:
            try:
                self.got.append(self.sock.recv(65536))
            except BlockingIOError:
                break
        out, self.got = self.got, []
        return out

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()
        os.unlink(self.path)


SYSLOG = re.compile(rb'^<(\d+)>offlineimap\[(\d+)\]: (.*)\x00$', re.S)
PRI = {'INFO': 14, 'WARNING': 12, 'ERROR': 11, 'DEBUG': 15}


def run_with_socket(oimap, log, *args, input=None):
    env = dict(os.environ, OIMAP_SYSLOG_SOCKET=log.path)
    p = subprocess.Popen([str(oimap.binary), '-c', str(oimap.config), *args],
                         stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=dict(env, HOME=str(oimap.workdir), LC_ALL='C.UTF-8'))
    out, err = p.communicate(input, timeout=120 * runner.timeout_scale())
    for marker in runner.SANITIZER_MARKERS:
        assert marker not in err, err
    return p.pid, p.returncode, out, err


def parse_datagrams(dgrams: list[bytes], pid: int) -> list[tuple[int, str]]:
    out = []
    for d in dgrams:
        m = SYSLOG.match(d)
        assert m, f'not a syslog datagram as SysLogHandler sends it: {d!r}'
        assert int(m.group(2)) == pid, 'the pid is the process'
        out.append((int(m.group(1)), m.group(3).decode()))
    return out


def test_syslog_duplicate_with_s(oimap, dovecot, mailgen, tmp_path):
    dovecot.create('Sub')
    dovecot.append('INBOX', mailgen.plain())
    dovecot.append('Sub', mailgen.plain())
    oimap.write_config()
    log = LogSocket(tmp_path)
    try:
        pid, rc, out, err = run_with_socket(oimap, log, '-o', '-u', 'basic', '-s')
        assert rc == 0, out + err
        lines = parse_datagrams(log.read(), pid)
    finally:
        log.close()
    msgs = [m for _p, m in lines]
    assert all(p == PRI['INFO'] for p, _m in lines), lines
    # The console's lines after the banner (which goes to the console only), in order.
    console = out.split('\n')
    assert console[0].startswith('OfflineIMAP ') and console[1] == BANNER_2
    assert '\n'.join(msgs) + '\n' == '\n'.join(console[2:]), (msgs, console)
    for want in ('*** Processing account Test', 'Syncing INBOX: IMAP -> Maildir',
                 'Copy message UID 1 (1/1) Test-Remote:Sub -> Test-Local:Sub'):
        assert want in msgs, msgs
    assert re.fullmatch(r"\*\*\* Finished account 'Test' in \d+:\d\d", msgs[-1]), msgs[-1]


@pytest.mark.dovecot(users={'test': 'Sekr1t-pw "q"'})
def test_syslog_interface_with_debug_and_errors(oimap, dovecot, mailgen, tmp_path):
    from harness.dovecot import free_port
    dovecot.append('INBOX', mailgen.plain())
    # A second account whose server does not answer: an error to log.
    bad = {'Account Bad': {'localrepository': 'Bad-Local', 'remoterepository': 'Bad-Remote'},
           'Repository Bad-Local': {'type': 'Maildir', 'localfolders': tmp_path / 'BadMail'},
           'Repository Bad-Remote': {'type': 'IMAP', 'remotehost': '127.0.0.1',
                                     'remoteport': free_port(), 'remoteuser': 'x',
                                     'remotepass': 'Sekr1t-other', 'ssl': 'no',
                                     'starttls': 'no'}}
    oimap.write_config(remote_opts={'auth_mechanisms': 'LOGIN'},
                       general={'accounts': 'Test,Bad'}, extra_sections=bad)
    log = LogSocket(tmp_path)
    try:
        pid, rc, out, err = run_with_socket(oimap, log, '-o', '-u', 'Noninteractive.Syslog',
                                            '-d', 'imap')
        lines = parse_datagrams(log.read(), pid)
    finally:
        log.close()
    # The syslog interface writes nothing on the console but the old-name warning.
    assert out == '', out
    assert err == ('WARNING:root:Using old interface name, consider using one of ttyui, '
                   'basic, quiet, syslog, machineui, blinkenlights\n'), err
    text = '\n'.join(m for _p, m in lines)
    assert 'Sekr1t' not in text, 'no password in syslog, even with -d imap'
    assert any(p == PRI['DEBUG'] and m.startswith('[imap]:') for p, m in lines), text
    assert any(p == PRI['DEBUG'] and 'LOGIN <secret hidden>' in m for p, m in lines), text
    assert (PRI['INFO'], 'Copy message UID 1 (1/1) Test-Remote:INBOX -> Test-Local:INBOX') \
        in lines, text
    errors = [m for p, m in lines if p == PRI['ERROR']]
    assert errors and all(m.startswith('ERROR: ') for m in errors), text
    assert any('Bad' in m or '127.0.0.1' in m for m in errors), errors
    # The end-of-run summary repeats the errors, as warnings.
    assert (PRI['WARNING'], 'ERROR: Exceptions occurred during the run!') in lines, text
    assert rc == 1


@pytest.mark.dovecot(users={'test': 'Sekr1t-pw "q"'})
def test_debug_all_in_console_log_file_and_syslog_without_secret(oimap, dovecot, mailgen,
                                                                   tmp_path):
    """-d ALL is imap, maildir and thread: each announced, the IMAP conversation and the
    Maildir debug lines on the console, in the -l file and in syslog (-s), and the
    password (sent with LOGIN) in none of them."""
    dovecot.append('INBOX', mailgen.plain())
    oimap.write_config(remote_opts={'auth_mechanisms': 'LOGIN'})
    logfile = tmp_path / 'run.log'
    log = LogSocket(tmp_path)
    try:
        pid, rc, out, err = run_with_socket(oimap, log, '-o', '-u', 'basic', '-d', 'ALL',
                                            '-l', str(logfile), '-s')
        lines = parse_datagrams(log.read(), pid)
    finally:
        log.close()
    assert rc == 0, out + err
    syslog_text = '\n'.join(m for _p, m in lines)
    file_text = logfile.read_text()
    for name, text in (('console', out + err), ('-l file', file_text),
                       ('syslog', syslog_text)):
        for what, desc in (('imap', 'IMAP protocol debugging'),
                           ('maildir', 'Maildir repository debugging'),
                           ('thread', 'Threading debugging')):
            assert f'Now debugging for {what}: {desc}' in text, f'{name}:\n{text}'
        assert re.search(r'\[imap\]:.*LOGIN <secret hidden>', text), f'{name}:\n{text}'
        assert re.search(r'\[maildir\]:', text), f'{name}:\n{text}'
        assert 'Copy message UID 1 (1/1) Test-Remote:INBOX -> Test-Local:INBOX' in text, name
        assert 'Sekr1t' not in text, f'the password is in the {name}'
    assert any(p == PRI['DEBUG'] and m.startswith('[imap]:') for p, m in lines), syslog_text
    assert [m.uid for m in md.read_folder(oimap.maildir, 'INBOX')] == [1]
