"""Daemon mode against a real Dovecot: autorefresh, quick cycles, the account loop's
error counting, several accounts, held connections, and offlineimap's signals.

The daemon runs with -u machineui; tests follow its lines (acct, acctdone, sleeping,
copyingmessage ...) through harness.daemon.DaemonProc instead of sleeping blindly.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from harness import maildir as md
from harness import runner
from harness.daemon import DaemonProc, local_count, lock_path, start_daemon, wait_until
from harness.faultproxy import Fault, FaultProxy
from harness.mailgen import to_lf

pytestmark = pytest.mark.daemon
DEBUG = tuple(os.environ.get('OIMAP_DAEMON_DEBUG', '').split()) 


def slow_proxy(dc, delay: float = 0.02, chunk: int = 2048) -> FaultProxy:
    """A proxy that slows every body download, so that a sync lasts a few seconds."""
    proxy = FaultProxy(dc.host, dc.port)  # started by `with`
    proxy.add(Fault('delay', 's2c', pattern=b'BODY[] {', after=0, delay=delay, chunk=chunk))
    return proxy


# ----------------------------------------------------------------------------- loop


def test_autorefresh_syncs_again_and_again(oimap, dovecot, mailgen):
    """autorefresh in fractional minutes: changes on both sides arrive without a restart;
    each sleep is announced in offlineimap's 10 s slices; SIGTERM while sleeping ends
    the run at once, with status 0 and no lock file."""
    oimap.write_config(account_opts={'autorefresh': '0.02'})
    dovecot.append('INBOX', mailgen.plain('first'))
    d = start_daemon(oimap)
    try:
        d.wait_sleeping()
        assert local_count(oimap) == 1
        dovecot.append('INBOX', mailgen.plain('second from the server'))
        md.add_message(oimap.local_folder('INBOX'), to_lf(mailgen.plain('from here')))
        mark = d.mark()
        d.wait_cmd('acctdone', after=d.wait_cmd('acct', after=mark, timeout=10))
        wait_until(lambda: len(dovecot.messages('INBOX')) == 3 and local_count(oimap) == 3,
                   10, 'both sides to hold 3 messages')
        # Each sleep: "10\n1" (1.2 s left, one slice), then "0\n0" when it ends.
        sleeps = [ev.fields for ev in d.events if ev.cmd == 'sleeping']
        assert ['10', '1'] in sleeps and ['0', '0'] in sleeps, sleeps
        d.wait_sleeping(after=d.mark())
        t0 = time.monotonic()
        assert d.stop() == 0, d.describe()
        assert time.monotonic() - t0 < 5
    finally:
        d.kill()
    assert not lock_path(oimap).exists()
    oimap.assert_in_sync()
    assert d.count('acct') >= 2 and d.count('acct') == d.count('acctdone')


def test_run_once_ignores_autorefresh(oimap, dovecot, mailgen):
    oimap.write_config(account_opts={'autorefresh': '10'})
    dovecot.append('INBOX', mailgen.plain())
    r = oimap.run('-o', '-u', 'machineui', timeout=30)
    assert r.returncode == 0, runner.describe(r)
    assert 'msg:sleeping:' not in r.stdout
    oimap.assert_in_sync()


def test_sigusr1_during_sleep_syncs_at_once(oimap, dovecot, mailgen):
    oimap.write_config(account_opts={'autorefresh': '10'})
    d = start_daemon(oimap)
    try:
        d.wait_sleeping()
        dovecot.append('INBOX', mailgen.plain('wake up'))
        mark = d.mark()
        t0 = time.monotonic()
        d.signal(signal.SIGUSR1)
        d.wait_cmd('acct', after=mark, timeout=2)
        wait_until(lambda: local_count(oimap) == 1, 2, 'the message to arrive')
        assert time.monotonic() - t0 < 2.5
        # The interrupted sleep ended with offlineimap's "0\n0" before the sync.
        ends = [i for i, ev in enumerate(d.events[mark:]) if ev.cmd == 'sleeping']
        assert ends and d.events[mark + ends[0]].fields == ['0', '0']
        # ...and the loop goes on: back to sleep for the full period.
        i = d.wait_sleeping(after=mark)
        assert int(d.events[i].fields[1]) >= 595
    finally:
        assert d.stop() == 0, d.describe()
    oimap.assert_in_sync()


def test_quick_cycle_and_sync_modes(oimap, dovecot, mailgen):
    """quick = 2: full, quick, quick, full, ... as offlineimap counts; SIGUSR1 makes the
    next sync a full one.  The hooks see the mode in OFFLINEIMAPSYNCMODE."""
    modes = oimap.workdir / 'modes'
    oimap.write_config(account_opts={
        'autorefresh': '0.01', 'quick': '2',
        'presynchook': f'echo "$OFFLINEIMAPSYNCMODE" >> {modes}'})
    d = start_daemon(oimap)
    try:
        wait_until(lambda: modes.exists() and len(modes.read_text().split()) >= 5, 20,
                   'five syncs')
        seq = modes.read_text().split()
        assert seq[:5] == ['full', 'quick', 'quick', 'full', 'quick'], seq
        d.wait_sleeping(after=d.mark())
        n = len(modes.read_text().split())
        d.signal(signal.SIGUSR1)
        wait_until(lambda: len(modes.read_text().split()) > n, 10, 'the next sync')
        assert modes.read_text().split()[n] == 'full'
    finally:
        assert d.stop() == 0, d.describe()


def test_quick_always_with_q(oimap, dovecot, mailgen):
    modes = oimap.workdir / 'modes'
    oimap.write_config(account_opts={'autorefresh': '0.01',
                                     'presynchook': f'echo "$OFFLINEIMAPSYNCMODE" >> {modes}'})
    d = start_daemon(oimap, '-q')
    try:
        wait_until(lambda: modes.exists() and len(modes.read_text().split()) >= 3, 20,
                   'three syncs')
    finally:
        assert d.stop() == 0, d.describe()
    assert set(modes.read_text().split()) == {'quick'}


def test_three_failures_end_the_account(oimap, dovecot):
    """A refused login is a failure of the account: after three in a row the loop ends
    (offlineimap's 'looping = 3'), and the exit status says there were errors."""
    oimap.write_config(account_opts={'autorefresh': '0.01'},
                       remote_opts={'remotepass': 'wrong'})
    d = start_daemon(oimap)
    rc = d.wait(timeout=60)
    assert rc == 1, d.describe()
    assert d.count('acct') == 3 and d.count('acctdone') == 3
    assert d.count('sleeping') >= 2


def test_unreachable_server_does_not_end_the_loop(oimap, dovecot, mailgen):
    """A server that cannot be reached does not count towards the three failures: the
    daemon keeps trying and syncs once the server is back."""
    oimap.write_config(account_opts={'autorefresh': '0.02'})
    dovecot.stop()
    d = start_daemon(oimap)
    try:
        for _ in range(4):
            d.wait_cmd('acctdone', after=d.mark(), timeout=20)
        assert d.alive()
        dovecot.start(keep_ports=True)
        dovecot.append('INBOX', mailgen.plain('back'))
        wait_until(lambda: local_count(oimap) == 1, 20, 'the message once the server is back')
    finally:
        assert d.stop() in (0, 1), d.describe()
    oimap.assert_in_sync()


def two_account_config(path: Path, dc, tmp_path: Path, general: dict) -> Path:
    sections = {'general': {'accounts': 'A, B', 'metadata': tmp_path / 'meta', **general}}
    for acc, user in (('A', 'alice'), ('B', 'bob')):
        sections[f'Account {acc}'] = {'localrepository': f'{acc}-L',
                                      'remoterepository': f'{acc}-R', 'autorefresh': '0.02'}
        sections[f'Repository {acc}-L'] = {'type': 'Maildir', 'localfolders': tmp_path / acc}
        sections[f'Repository {acc}-R'] = {'type': 'IMAP', 'remotehost': dc.host,
                                           'remoteport': dc.port, 'remoteuser': user,
                                           'remotepass': dc.password(user), 'ssl': 'no',
                                           'starttls': 'no'}
    text = ''.join(f'[{name}]\n' + ''.join(f'{k} = {v}\n' for k, v in opts.items()) + '\n'
                   for name, opts in sections.items())
    path.write_text(text)
    return path


def test_two_accounts_share_one_turn(dovecot_factory, tmp_path, our_binary, mailgen):
    """maxsyncaccounts = 1 and two accounts with autorefresh: both keep syncing (an
    account holds its turn only while it syncs), never both at once."""
    dc = dovecot_factory(users={'alice': 'pw1', 'bob': 'pw2'})
    cfg = two_account_config(tmp_path / 'rc', dc, tmp_path, {'maxsyncaccounts': 1})
    dc.append('INBOX', mailgen.plain('for alice'), user='alice')
    dc.append('INBOX', mailgen.plain('for bob'), user='bob')
    d = DaemonProc(our_binary, cfg).start()
    try:
        def done(acc):
            return sum(1 for ev in d.events if ev.cmd == 'acctdone' and ev.payload == acc)
        wait_until(lambda: done('A') >= 3 and done('B') >= 3, 30, 'three syncs of each account')
        # Never two accounts between acct and acctdone at once.
        active = set()
        for ev in list(d.events):
            if ev.cmd == 'acct':
                assert not active, f'{ev.payload} started while {active} was syncing'
                active.add(ev.payload)
            elif ev.cmd == 'acctdone':
                active.discard(ev.payload)
    finally:
        assert d.stop() == 0, d.describe()
    assert len(md.read_folder(tmp_path / 'A', 'INBOX')) == 1
    assert len(md.read_folder(tmp_path / 'B', 'INBOX')) == 1


@pytest.mark.threads
def test_two_accounts_at_once(dovecot_factory, tmp_path, our_binary, mailgen):
    """maxsyncaccounts = 2: the accounts sync side by side."""
    dc = dovecot_factory(users={'alice': 'pw1', 'bob': 'pw2'})
    cfg = two_account_config(tmp_path / 'rc', dc, tmp_path, {'maxsyncaccounts': 2})
    d = DaemonProc(our_binary, cfg).start()
    try:
        d.wait_for(lambda ev: ev.cmd == 'acctdone' and ev.payload == 'A')
        d.wait_for(lambda ev: ev.cmd == 'acctdone' and ev.payload == 'B')
    finally:
        assert d.stop() == 0, d.describe()
    threads = {ev.thread for ev in d.events if ev.cmd == 'registerthread'}
    assert {'Account sync A', 'Account sync B'} <= threads


def test_held_connection_is_reused_and_replaced(oimap, dovecot, mailgen):
    """holdconnectionopen: one login for many syncs; when the server drops the held
    connection (a restart), the next sync notices before using it and connects again
    at once instead of waiting for a timeout."""
    oimap.write_config(account_opts={'autorefresh': '0.02'},
                       remote_opts={'holdconnectionopen': True})
    d = start_daemon(oimap)
    try:
        for _ in range(3):
            d.wait_cmd('acctdone', after=d.mark(), timeout=20)
        assert d.count('connecting') == 1, d.describe()
        dovecot.restart()
        dovecot.append('INBOX', mailgen.plain('after the restart'))
        t0 = time.monotonic()
        wait_until(lambda: local_count(oimap) == 1, 10, 'the message after the restart')
        assert time.monotonic() - t0 < 6
        assert d.count('connecting') == 2
    finally:
        assert d.stop() == 0, d.describe()


def test_without_holdconnectionopen_each_sync_connects(oimap, dovecot):
    oimap.write_config(account_opts={'autorefresh': '0.02'})
    d = start_daemon(oimap)
    try:
        for _ in range(3):
            d.wait_cmd('acctdone', after=d.mark(), timeout=20)
    finally:
        assert d.stop() == 0, d.describe()
    assert d.count('connecting') >= 3


@pytest.mark.threads
def test_keepalive_pings_held_connections(oimap, dovecot):
    oimap.write_config(account_opts={'autorefresh': '0.1'},
                       remote_opts={'holdconnectionopen': True, 'keepalive': 1})
    d = start_daemon(oimap, '-d', 'imap')
    try:
        d.wait_sleeping()
        wait_until(lambda: sum('NOOP' in t for t in d.texts()) >= 4, 10, 'keepalive NOOPs')
    finally:
        assert d.stop() == 0, d.describe()
    assert d.count('connecting') == 1


# ----------------------------------------------------------------------------- signals


def big_folder(dc, mailgen, folder='Big', n=30, size=4000):
    dc.create(folder)
    dc.append_many(folder, [mailgen.attachment(size) for _ in range(n)])


@pytest.mark.threads
def test_sigterm_mid_sync_stops_after_the_folder(oimap, dovecot, mailgen):
    """SIGTERM while a folder is being copied: that folder finishes, no other starts,
    the lock is released and its file removed; the state is consistent and the next
    run completes it without duplicates."""
    big_folder(dovecot, mailgen)
    dovecot.create('Later')
    dovecot.append_many('Later', [mailgen.plain() for _ in range(5)])
    with slow_proxy(dovecot) as proxy:
        oimap.write_config(host=proxy.host, port=proxy.port,
                           account_opts={'autorefresh': '10'})
        d = start_daemon(oimap)
        try:
            d.wait_for(lambda ev: ev.cmd == 'copyingmessage' and 'Big' in ev.payload)
            d.signal(signal.SIGTERM)
            rc = d.wait(timeout=60)
        finally:
            d.kill()
    assert rc == 0, d.describe()
    assert not lock_path(oimap).exists()
    texts = d.texts()
    assert any('Preparing to shutdown after sync' in t for t in texts)
    snap = oimap.snapshot()
    assert snap.diff(folders=['Big']) == []
    assert len(snap.local.get('Later', [])) == 0
    assert not any(ev.cmd == 'syncingfolder' and 'Later' in ev.payload for ev in d.events)
    # As offlineimap: the sleep after the sync ends at once ("0\n0").
    assert [ev.fields for ev in d.events if ev.cmd == 'sleeping'] == [['0', '0']]
    oimap.write_config()
    oimap.sync()
    oimap.assert_in_sync()


def test_sigusr2_finishes_the_sync_then_stops(oimap, dovecot, mailgen):
    big_folder(dovecot, mailgen, n=20)
    dovecot.create('Later')
    dovecot.append_many('Later', [mailgen.plain() for _ in range(5)])
    with slow_proxy(dovecot) as proxy:
        oimap.write_config(host=proxy.host, port=proxy.port,
                           account_opts={'autorefresh': '10'})
        d = start_daemon(oimap)
        try:
            d.wait_for(lambda ev: ev.cmd == 'copyingmessage' and 'Big' in ev.payload)
            d.signal(signal.SIGUSR2)
            rc = d.wait(timeout=60)
        finally:
            d.kill()
    assert rc == 0, d.describe()
    assert any('Terminating after this sync...' in t for t in d.texts())
    assert d.count('acctdone') == 1
    # The sleep that would follow is cut short at once.
    assert [ev.fields for ev in d.events if ev.cmd == 'sleeping'] in ([], [['0', '0']])
    assert not lock_path(oimap).exists()
    oimap.assert_in_sync()


def test_sigusr2_while_sleeping_stops_at_once(oimap, dovecot):
    oimap.write_config(account_opts={'autorefresh': '10'})
    d = start_daemon(oimap)
    try:
        d.wait_sleeping()
        t0 = time.monotonic()
        d.signal(signal.SIGUSR2)
        assert d.wait(timeout=10) == 0, d.describe()
        assert time.monotonic() - t0 < 3
    finally:
        d.kill()


def test_third_sigint_stops_at_once(oimap, dovecot, mailgen):
    big_folder(dovecot, mailgen, n=20)
    with slow_proxy(dovecot, delay=0.2) as proxy:
        oimap.write_config(host=proxy.host, port=proxy.port,
                           account_opts={'autorefresh': '10'})
        d = start_daemon(oimap)
        try:
            d.wait_for(lambda ev: ev.cmd == 'copyingmessage')
            d.signal(signal.SIGINT)
            d.wait_for(lambda ev: 'Preparing to shutdown' in ev.payload)
            time.sleep(0.3)
            assert d.alive(), 'one SIGINT must let the folder finish'
            # Two signals sent at once would merge into one pending signal: space them.
            d.signal(signal.SIGINT)
            time.sleep(0.2)
            d.signal(signal.SIGINT)
            t0 = time.monotonic()
            rc = d.wait(timeout=10)
            assert time.monotonic() - t0 < 2
        finally:
            d.kill()
    assert rc == 1, d.describe()
    assert any('Signaled thrice. Aborting!' in t for t in d.texts())
    assert not lock_path(oimap).exists(), 'the emergency exit removes the lock file'
    # What the abrupt end left behind converges like a crash does.
    oimap.write_config()
    oimap.sync()
    oimap.assert_in_sync()


def test_sighup_stops_like_sigterm(oimap, dovecot):
    oimap.write_config(account_opts={'autorefresh': '10'})
    d = start_daemon(oimap)
    try:
        d.wait_sleeping()
        d.signal(signal.SIGHUP)
        assert d.wait(timeout=10) == 0, d.describe()
    finally:
        d.kill()
    assert not lock_path(oimap).exists()


def test_sigquit_dumps_what_each_thread_does(oimap, dovecot):
    oimap.write_config(account_opts={'autorefresh': '10'})
    d = start_daemon(oimap)
    try:
        d.wait_sleeping()
        d.signal(signal.SIGQUIT)
        rc = d.wait(timeout=10)
    finally:
        d.kill()
    assert rc == -signal.SIGABRT, d.describe()
    err = d.stderr
    assert "Thread 'MainThread'" in err, err
    assert "Thread 'Account sync Test': sleeping, next sync in" in err, err
    assert 'Dumped a total of' in err


def test_sigterm_with_thread_debug_lists_threads(oimap, dovecot):
    oimap.write_config(account_opts={'autorefresh': '10'})
    d = start_daemon(oimap, '-d', 'thread')
    try:
        d.wait_sleeping()
        d.signal(signal.SIGTERM)
        assert d.wait(timeout=10) == 0, d.describe()
    finally:
        d.kill()
    texts = d.texts()
    assert any("Thread 'Account sync Test': sleeping" in t for t in texts), texts[-20:]


def test_hooks_run_with_signals_unblocked(oimap, dovecot):
    """The daemon reads its signals from a signalfd; a hook it starts must still be an
    ordinary process that SIGTERM ends."""
    pidfile = oimap.workdir / 'hook.pid'
    oimap.write_config(account_opts={'presynchook': f'echo $$ > {pidfile}; exec sleep 30'})
    d = start_daemon(oimap, '-o')
    try:
        wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 10, 'the hook')
        os.kill(int(pidfile.read_text()), signal.SIGTERM)
        assert d.wait(timeout=20) == 0, d.describe()
    finally:
        d.kill()
    assert any('Hook return code: 143' in t for t in d.texts()), d.describe()


# ----------------------------------------------------------------------------- push


def push_daemon(setup, folders=('INBOX',), *args, keepalive=None, refresh='10', **remote):
    opts = {'idlefolders': repr(list(folders)), **remote}
    if keepalive is not None:
        opts['keepalive'] = keepalive
    setup.write_config(account_opts={'autorefresh': refresh}, remote_opts=opts)
    d = start_daemon(setup, *args)
    n = len(folders)
    d.wait_for(lambda ev: 'watching' in ev.payload, what='the push watcher')
    d.wait_sleeping()
    # every folder watched (NOTIFY: one line for all, IDLE: one line each)
    wait_until(lambda: sum(int(t.split('watching ')[1].split()[0]) for t in d.texts()
                           if 'Push for account' in t and 'watching' in t) >= n,
               10, 'every folder watched')
    return d


def appear_within(setup, folder, count, seconds, what):
    t0 = time.monotonic()
    wait_until(lambda: local_count(setup, folder) >= count, seconds + 5, what)
    took = time.monotonic() - t0
    assert took <= seconds * runner.timeout_scale(), f'{what} took {took:.2f} s'
    return took


@pytest.mark.threads
def test_idle_append_appears_within_two_seconds(oimap, dovecot, mailgen):
    """idlefolders against Dovecot (which offers NOTIFY): a message appended on the
    server is in the local Maildir within 2 s, long before the 10-minute autorefresh."""
    d = push_daemon(oimap, ('INBOX',), *DEBUG)
    try:
        assert any('with NOTIFY' in t for t in d.texts()), d.describe()
        for i in range(3):
            dovecot.append('INBOX', mailgen.plain(f'pushed {i}'))
            try:
                appear_within(oimap, 'INBOX', i + 1, 2, f'pushed message {i}')
            except AssertionError:
                print(d.describe())
                raise
        assert d.count('acct') == 1  # no full sync: push syncs only
    finally:
        assert d.stop() == 0, d.describe()
    oimap.assert_in_sync()


@pytest.mark.dovecot(capabilities_remove=['NOTIFY'])
@pytest.mark.threads
def test_idle_per_folder_without_notify(oimap, dovecot, mailgen):
    """Without NOTIFY: one IDLE connection per folder; changes in each (new message,
    flag change) are synced within 2 s; a folder not in idlefolders waits for the
    autorefresh."""
    for f in ('Work', 'Other'):
        dovecot.create(f)
    d = push_daemon(oimap, ('INBOX', 'Work'))
    try:
        texts = d.texts()
        assert sum('watching 1 folder with IDLE' in t for t in texts) == 2, d.describe()
        dovecot.append('Work', mailgen.plain('to work'))
        appear_within(oimap, 'Work', 1, 2, 'the message in Work')
        dovecot.append('INBOX', mailgen.plain('to inbox'))
        appear_within(oimap, 'INBOX', 1, 2, 'the message in INBOX')
        dovecot.append('Other', mailgen.plain('not watched'))
        # flags set on the server reach the local file name by push too
        dovecot.set_flags('INBOX', 1, '\\Flagged')
        inbox = oimap.local_folder('INBOX')
        t0 = time.monotonic()
        wait_until(lambda: any(':2,' in p.name and 'F' in p.name.split(':2,')[-1]
                               for sub in ('new', 'cur') for p in (inbox / sub).iterdir()),
                   7, 'the flag')
        assert time.monotonic() - t0 <= 2 * runner.timeout_scale()
        time.sleep(0.5)
        assert local_count(oimap, 'Other') == 0
    finally:
        assert d.stop() == 0, d.describe()


@pytest.mark.threads
def test_idle_survives_a_dovecot_restart(oimap, dovecot, mailgen):
    """The server restarts: the watcher reconnects by itself (back-off), syncs what it
    may have missed, and a message appended afterwards appears within 2 s."""
    d = push_daemon(oimap)
    try:
        mark = d.mark()
        dovecot.restart(down=0.5)
        dovecot.append('INBOX', mailgen.plain('during the reconnect'))
        d.wait_for(lambda ev: 'watching' in ev.payload, after=mark, timeout=15,
                   what='the watcher back')
        wait_until(lambda: local_count(oimap) == 1, 5, 'the message appended meanwhile')
        dovecot.append('INBOX', mailgen.plain('after the restart'))
        appear_within(oimap, 'INBOX', 2, 2, 'the message after the restart')
    finally:
        rc = d.stop()
        # A sync under way when the server went down reports the dropped connection
        # (offlineimap's exit status 1 after errors); nothing else may be reported.
        errors = [ev.payload for ev in d.events if ev.severity == 'error']
        assert all(re.search(r'connection|closed|refused|reset', t) for t in errors), \
            d.describe()
        assert rc == (1 if errors else 0), d.describe()
    oimap.assert_in_sync()


def test_idle_silent_connection_is_replaced(oimap, dovecot, mailgen):
    """A connection that goes silent (suspended peer, NAT that forgot it): the IDLE
    re-issue every keepalive seconds gets no answer to DONE, the connection is
    replaced, and pushes work again."""
    proxy = FaultProxy(dovecot.host, dovecot.port).start()
    try:
        oimap_host = {'host': proxy.host, 'port': proxy.port}
        opts = {'idlefolders': "['INBOX']", 'keepalive': 2}
        oimap.write_config(account_opts={'autorefresh': '10'}, remote_opts=opts, **oimap_host)
        d = start_daemon(oimap)
        try:
            d.wait_for(lambda ev: 'watching' in ev.payload, what='the push watcher')
            d.wait_sleeping()
            mark = d.mark()
            assert proxy.stall_all() >= 1
            d.wait_for(lambda ev: 'reconnecting' in ev.payload, after=mark, timeout=15,
                       what='the silent connection noticed')
            d.wait_for(lambda ev: 'watching' in ev.payload, after=mark, timeout=15,
                       what='the watcher back')
            d.wait_for(lambda ev: ev.cmd == 'sleeping' and ev.fields[0] != '0', after=mark,
                       timeout=15, what='the catch-up sync')
            dovecot.append('INBOX', mailgen.plain('after the stall'))
            appear_within(oimap, 'INBOX', 1, 2, 'the message after the stall')
            assert d.stop() == 0, d.describe()
        finally:
            d.kill()
    finally:
        proxy.stop()
