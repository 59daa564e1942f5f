"""IMAP-to-IMAP sync: a local repository of type IMAP (offlineimap's MappedIMAPFolder).

One Dovecot serves two users: 'remote' (the remote repository) and 'local' (the local
repository, type = IMAP). The status databases hold remote UIDs; Repository-<local>/
UIDMapping/<folder> holds "localuid:remoteuid" lines. Checked: the first sync copies every
folder and message both ways with their flags, flag changes and deletions go both ways, a
second run changes nothing, offlineimap3 takes our metadata as its own and we take its
(nothing copied again either way), and a run killed between a local APPEND and the map
write (or anywhere else in it) converges with nothing lost or duplicated.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from harness import runner

USERS = {'remote': 'rpass', 'local': 'lpass'}
CHANGE_MARKERS = ('Copy message', 'Deleting ', 'Adding flag', 'Deleting flag',
                  'Creating folder', 'Creating new Local Status db')
FLAG_NAMES = ('\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft')

pytestmark = pytest.mark.dovecot(users=USERS)


class Pair:
    """An IMAP-IMAP account over the two users of one Dovecot, run by one binary."""

    def __init__(self, dc, work: Path, binary, *, account: str = 'Test',
                 local_opts: dict | None = None, remote_opts: dict | None = None,
                 account_opts: dict | None = None, general: dict | None = None):
        self.dc, self.work, self.binary, self.account = dc, work, Path(binary), account
        self.metadata = work / 'metadata'
        self.config = work / 'offlineimaprc'
        lo = {'type': 'IMAP', 'localfolders': None, 'remotehost': dc.host,
              'remoteport': dc.port, 'remoteuser': 'local', 'remotepass': USERS['local'],
              'ssl': False, 'starttls': False}
        lo.update(local_opts or {})
        runner.write_config(self.config, localfolders=work / 'unused', metadata=self.metadata,
                            account=account, host=dc.host, port=dc.port, user='remote',
                            password=USERS['remote'], local_opts=lo, remote_opts=remote_opts,
                            account_opts=account_opts, general=general)

    @property
    def local_repo(self) -> str:
        return f'{self.account}-Local'

    @property
    def remote_repo(self) -> str:
        return f'{self.account}-Remote'

    def run(self, *args: str, ok: bool = True, env=None, binary=None):
        r = runner.run_oimap(binary or self.binary, self.config, '-o', '-u', 'basic', *args,
                             env=env)
        if ok:
            assert r.returncode == 0, runner.describe(r)
        return r

    def uidmap(self, folder: str) -> dict[int, int]:
        p = self.metadata / f'Repository-{self.local_repo}' / 'UIDMapping' / folder
        out = {}
        for line in p.read_text().splitlines():
            assert re.fullmatch(r'\d+:\d+', line), f'{p}: bad line {line!r}'
            loc, rem = map(int, line.split(':'))
            out[loc] = rem
        return out

    def status(self, folder: str) -> dict:
        return runner.status_rows(runner.status_db_path(self.metadata, self.account, folder))


def side(dc, user: str) -> dict[str, list[tuple[bytes, str]]]:
    """{folder: sorted [(bytes, flag letters)]} of one user."""
    out = {}
    for f in dc.list_folders(user=user, selectable_only=True):
        out[f] = sorted((body, runner.server_flags_to_letters(fl))
                        for fl, body in dc.messages(f, user=user).values())
    return out


def assert_same(dc) -> None:
    r, l = side(dc, 'remote'), side(dc, 'local')
    assert r == l, f'remote {summary(r)} != local {summary(l)}'
    for f, msgs in r.items():
        bodies = [b for b, _ in msgs]
        assert len(bodies) == len(set(bodies)), f'{f}: a message twice'


def summary(s) -> dict:
    return {f: [(b[:30], fl) for b, fl in m] for f, m in s.items()}


def changes(r) -> list[str]:
    return [ln for ln in (r.stdout + r.stderr).splitlines()
            if any(m in ln for m in CHANGE_MARKERS)]


def seed(dc, gen) -> None:
    dc.append('INBOX', gen.plain('r1'), flags=('\\Seen',), user='remote')
    dc.append('INBOX', gen.plain('r2'), flags=('\\Flagged',), user='remote')
    dc.append('INBOX', gen.html(), user='remote')
    dc.create('Work', user='remote')
    dc.append('Work', gen.plain('w1'), flags=('\\Answered', '\\Seen'), user='remote')
    dc.append('Work', gen.long_lines(), user='remote')
    dc.append('INBOX', gen.plain('l1'), flags=('\\Draft',), user='local')
    dc.create('Private', user='local')
    dc.append('Private', gen.plain('p1'), flags=('\\Seen',), user='local')


def test_first_sync_both_ways_then_changes(dovecot, tmp_path, our_binary, mailgen):
    dc = dovecot
    seed(dc, mailgen)
    p = Pair(dc, tmp_path, our_binary)
    r = p.run()
    assert_same(dc)
    assert set(dc.list_folders(user='local', selectable_only=True)) == {'INBOX', 'Work', 'Private'}
    assert len(side(dc, 'local')['INBOX']) == 4
    # The map pairs every local UID with a remote UID; the status holds remote UIDs.
    for f in ('INBOX', 'Work', 'Private'):
        m = p.uidmap(f)
        assert sorted(m) == sorted(dc.messages(f, user='local'))
        assert sorted(m.values()) == sorted(dc.messages(f, user='remote'))
        assert sorted(p.status(f)) == sorted(dc.messages(f, user='remote'))
    lval = (p.metadata / f'Repository-{p.local_repo}' / 'FolderValidity' / 'INBOX').read_text()
    assert int(lval) == dc.uidvalidity('INBOX', user='local')
    # A second run changes nothing.
    r = p.run()
    assert changes(r) == [], runner.describe(r)

    # Flags both ways.
    rmsgs = dc.messages('INBOX', user='remote')
    lmsgs = dc.messages('Work', user='local')
    ruid = min(rmsgs)
    luid = min(lmsgs)
    dc.set_flags('INBOX', ruid, '\\Answered', user='remote')
    dc.clear_flags('Work', luid, '\\Seen', user='local')
    r = p.run()
    assert_same(dc)
    assert len(changes(r)) == 2, runner.describe(r)

    # Deletions both ways.
    dc.expunge('INBOX', [ruid], user='remote')
    gone_local = max(dc.messages('Private', user='local'))
    dc.expunge('Private', [gone_local], user='local')
    r = p.run()
    assert_same(dc)
    assert len(side(dc, 'remote')['INBOX']) == 3 and side(dc, 'remote')['Private'] == []
    assert gone_local not in p.uidmap('Private')
    r = p.run()
    assert changes(r) == [], runner.describe(r)


def test_new_messages_later(dovecot, tmp_path, our_binary, mailgen):
    dc = dovecot
    seed(dc, mailgen)
    p = Pair(dc, tmp_path, our_binary)
    p.run()
    dc.append('INBOX', mailgen.plain('r-late'), user='remote')
    dc.append('Work', mailgen.plain('l-late'), flags=('\\Seen',), user='local')
    r = p.run()
    assert_same(dc)
    assert len(changes(r)) == 2, runner.describe(r)
    r = p.run()
    assert changes(r) == [], runner.describe(r)


oimap3_only = pytest.mark.skipif(not runner.OFFLINEIMAP3.exists(),
                                 reason=f'{runner.OFFLINEIMAP3} is not installed')


def changes_since(dc, gen) -> None:
    """A new message and a flag change on each side."""
    dc.append('INBOX', gen.plain('r-new'), user='remote')
    dc.append('Private', gen.plain('l-new'), flags=('\\Flagged',), user='local')
    dc.set_flags('Work', min(dc.messages('Work', user='remote')), '\\Flagged', user='remote')
    dc.set_flags('INBOX', max(dc.messages('INBOX', user='local')), '\\Seen', user='local')


@oimap3_only
@pytest.mark.interop
def test_offlineimap3_takes_our_metadata(dovecot, tmp_path, our_binary, mailgen):
    dc = dovecot
    seed(dc, mailgen)
    p = Pair(dc, tmp_path, our_binary)
    p.run()
    r = p.run(binary=runner.OFFLINEIMAP3)
    assert changes(r) == [], runner.describe(r)
    changes_since(dc, mailgen)
    r = p.run(binary=runner.OFFLINEIMAP3)
    assert_same(dc)
    r = p.run()
    assert changes(r) == [], runner.describe(r)
    assert_same(dc)


@oimap3_only
@pytest.mark.interop
def test_we_take_offlineimap3_metadata(dovecot, tmp_path, our_binary, mailgen):
    dc = dovecot
    seed(dc, mailgen)
    p = Pair(dc, tmp_path, our_binary)
    r = p.run(binary=runner.OFFLINEIMAP3)
    assert_same(dc)
    maps = {f: p.uidmap(f) for f in ('INBOX', 'Work', 'Private')}
    r = p.run()
    assert changes(r) == [], runner.describe(r)
    assert {f: p.uidmap(f) for f in maps} == maps
    changes_since(dc, mailgen)
    r = p.run()
    assert_same(dc)
    r = p.run(binary=runner.OFFLINEIMAP3)
    assert changes(r) == [], runner.describe(r)


def crash_scenario(dc, gen) -> None:
    seed(dc, gen)
    for i in range(3):
        dc.append('Work', gen.plain(f'rw{i}'), flags=('\\Seen',), user='remote')
        dc.append('Private', gen.plain(f'lp{i}'), user='local')


# Kill points around the UID map: after a local APPEND was answered and before the pair is in
# the map, around the map's write, after an upload was answered, around status commits.
CRASH_POINTS = ['uidmap-appended:1', 'uidmap-appended:3', 'uidmap-save:1', 'uidmap-saved:1',
                'upload-answered:1', 'status-commit:2', 'status-committed:2',
                'imap-append-written:2']


@pytest.mark.parametrize('point', CRASH_POINTS)
def test_killed_anywhere_converges(dovecot, tmp_path, our_binary, mailgen, point):
    dc = dovecot
    crash_scenario(dc, mailgen)
    p = Pair(dc, tmp_path, our_binary)
    log = tmp_path / 'points'
    env = dict(os.environ, OIMAP_CRASHPOINT=point, OIMAP_CRASHPOINT_LOG=str(log))
    r = p.run(ok=False, env=env)
    assert r.returncode != 0, f'{point} was not reached:\n{runner.describe(r)}'
    assert log.read_text().splitlines()[-1] == point.split(':')[0]
    r = p.run()
    if point.startswith('uidmap-appended'):
        # The stored copy is recognised, not copied again.
        assert 'was already copied by an interrupted run' in r.stdout + r.stderr, \
            runner.describe(r)
    assert_same(dc)
    assert len(side(dc, 'remote')['Private']) == 4
    assert len(side(dc, 'local')['Work']) == 5
    r = p.run()
    assert changes(r) == [], runner.describe(r)


def test_local_repository_options_are_its_own(dovecot, tmp_path, our_binary, mailgen):
    """folderfilter and maxconnections of the local IMAP repository apply to it."""
    dc = dovecot
    seed(dc, mailgen)
    dc.create('Notes', user='local')
    dc.append('Notes', mailgen.plain('n1'), user='local')
    p = Pair(dc, tmp_path, our_binary, local_opts={
        'folderfilter': "lambda f: f != 'Notes'", 'maxconnections': 2},
        remote_opts={'maxconnections': 2})
    r = p.run()
    assert 'Notes' not in dc.list_folders(user='remote'), runner.describe(r)
    r_side, l_side = side(dc, 'remote'), side(dc, 'local')
    del l_side['Notes']
    assert r_side == l_side
    r = p.run()
    assert changes(r) == [], runner.describe(r)


def without_marker(s):
    """Both sides with offlineimap's X-OfflineIMAP upload marker lines removed."""
    return {f: sorted((re.sub(rb'X-OfflineIMAP: [^\r\n]*\r\n', b'', b), fl) for b, fl in m)
            for f, m in s.items()}


@pytest.mark.dovecot(users=USERS, capabilities_remove=['UIDPLUS'])
@pytest.mark.parametrize('point', [None, 'uidmap-appended:2', 'upload-answered:1'])
def test_without_uidplus(dovecot, tmp_path, our_binary, mailgen, point):
    """Without UIDPLUS both sides mark what they store (X-OfflineIMAP) and find it by
    searching; a run killed after such an APPEND still converges without duplicates."""
    dc = dovecot
    crash_scenario(dc, mailgen)
    p = Pair(dc, tmp_path, our_binary)
    if point:
        r = p.run(ok=False, env=dict(os.environ, OIMAP_CRASHPOINT=point))
        assert r.returncode != 0, runner.describe(r)
    r = p.run()
    if point and point.startswith('uidmap-appended'):
        assert 'was already copied by an interrupted run' in r.stdout + r.stderr, \
            runner.describe(r)
    r_side, l_side = without_marker(side(dc, 'remote')), without_marker(side(dc, 'local'))
    assert r_side == l_side
    assert len(l_side['Work']) == 5 and len(r_side['Private']) == 4
    r = p.run()
    assert changes(r) == [], runner.describe(r)


def test_daemon_drops_the_local_servers_connections_between_syncs(dovecot, tmp_path,
                                                                  our_binary, mailgen):
    """Without holdconnectionopen, the daemon logs out of both servers after each
    sync, the local IMAP repository's too (it is an IMAP store inside the UID map's)."""
    import signal
    import subprocess
    import time
    seed(dovecot, mailgen)
    p = Pair(dovecot, tmp_path, our_binary, account_opts={'autorefresh': '0.02'})
    env = dict(os.environ, HOME=str(tmp_path), LC_ALL='C.UTF-8')
    proc = subprocess.Popen([str(p.binary), '-c', str(p.config), '-u', 'basic'],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, stdin=subprocess.DEVNULL)

    def logins(user):
        return len(re.findall(rf'Login: user=<{user}>', dovecot.log_path.read_text()))

    try:
        deadline = time.monotonic() + 60 * runner.timeout_scale()
        while logins('local') < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=60)[0]
    assert logins('local') >= 3, out

    def local_logouts():
        return len(re.findall(r'imap\(local\).*Disconnected: Logged out',
                              dovecot.log_path.read_text()))

    # Each sync logged out of the local server before the next logged in again. Dovecot's
    # log process writes a logout line a moment after the session ends (a run under load
    # read the log before the last one was there): give it up to 10 s.
    deadline = time.monotonic() + 10 * runner.timeout_scale()
    while local_logouts() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    text = dovecot.log_path.read_text()
    assert len(re.findall(r'imap\(local\).*Disconnected: Logged out', text)) >= 2, text[-3000:]
    assert_same(dovecot)
