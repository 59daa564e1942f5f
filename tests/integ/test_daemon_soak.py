"""Soak: daemon mode for a long time with changes on both sides and connections cut at
random (fault proxy); memory must stay flat and nothing may be lost or duplicated.

Runs only when OIMAP_DAEMON_SOAK_SECONDS is set (`make daemon-soak`, default 1200 s);
the figures are printed and, with OIMAP_DAEMON_SOAK_REPORT=<file>, written as JSON.
"""

from __future__ import annotations

import collections
import json
import os
import random
import re
import signal
import time

import pytest

from harness import maildir as md
from harness import runner
from harness.daemon import rss_kb, start_daemon
from harness.faultproxy import FaultProxy

SECONDS = float(os.environ.get('OIMAP_DAEMON_SOAK_SECONDS', '0') or 0)

pytestmark = [pytest.mark.daemon, pytest.mark.slow,
              pytest.mark.skipif(SECONDS <= 0, reason='set OIMAP_DAEMON_SOAK_SECONDS '
                                 '(make daemon-soak) to run the soak')]

FOLDERS = ('INBOX', 'Lists', 'Archive')
IDLE = ('INBOX', 'Lists')
NETWORK_ERROR = re.compile(r'closed the connection|connection (was )?(reset|refused|closed)|'
                           r'[Bb]roken pipe|timed? ?out|did not answer|'
                           r'[Cc]onnection reset|EOF|not connected|said BYE', re.S)
MARK = re.compile(rb'^Subject: (soak-[a-z]+-\d+)', re.M)


def markers(bodies) -> collections.Counter:
    c = collections.Counter()
    for b in bodies:
        m = MARK.search(b)
        if m:
            c[m.group(1).decode()] += 1
    return c


def test_daemon_soak(oimap, dovecot, mailgen):
    rng = random.Random(int(os.environ.get('OIMAP_DAEMON_SOAK_SEED', '7')))
    for f in FOLDERS[1:]:
        dovecot.create(f)
    proxy = FaultProxy(dovecot.host, dovecot.port).start()
    oimap.write_config(host=proxy.host, port=proxy.port,
                       account_opts={'autorefresh': '0.1'},
                       remote_opts={'idlefolders': repr(list(IDLE)),
                                    'holdconnectionopen': True, 'keepalive': 20,
                                    'maxconnections': 2})
    d = start_daemon(oimap)
    added = {'server': collections.defaultdict(set), 'local': collections.defaultdict(set)}
    n = 0
    cuts = flag_changes = 0
    rss = []
    try:
        d.wait_sleeping(timeout=60)
        t_start = time.monotonic()
        end = t_start + SECONDS
        next_cut = t_start + rng.uniform(5, 20)
        next_rss = t_start
        while time.monotonic() < end:
            if not d.alive():
                raise AssertionError(f'the daemon died\n{d.describe()}')
            now = time.monotonic()
            if now >= next_rss:
                rss.append((round(now - t_start), rss_kb(d.pid)))
                next_rss = now + 10
            if now >= next_cut:
                cuts += proxy.cut_all(rst=rng.random() < 0.5)
                next_cut = now + rng.uniform(5, 20)
            folder = rng.choice(FOLDERS)
            what = rng.random()
            n += 1
            try:
                if what < 0.45:
                    tag = f'soak-server-{n}'
                    dovecot.append(folder, mailgen.plain(tag))
                    added['server'][folder].add(tag)
                elif what < 0.9:
                    tag = f'soak-local-{n}'
                    path = oimap.local_folder(folder)
                    if path.exists():
                        md.add_message(path, mailgen.plain(tag))
                        added['local'][folder].add(tag)
                else:
                    flags = dovecot.flags(folder)
                    if flags:
                        uid = rng.choice(sorted(flags))
                        dovecot.set_flags(folder, uid, rng.choice(['\\Flagged', '\\Seen']))
                        flag_changes += 1
            except Exception as exc:  # a message the server expunged meanwhile, ...
                print(f'soak: change {n} skipped: {exc}')
            time.sleep(rng.uniform(0.05, 0.6))
        # Quiet now: one more full sync, then compare.
        mark = d.mark()
        d.signal(signal.SIGUSR1)
        d.wait_cmd('acctdone', after=d.wait_cmd('acct', after=mark, timeout=60), timeout=300)
        # a push sync may still be running for the last changes
        mark = d.mark()
        d.signal(signal.SIGUSR1)
        d.wait_cmd('acctdone', after=d.wait_cmd('acct', after=mark, timeout=60), timeout=300)
        rss.append((round(time.monotonic() - t_start), rss_kb(d.pid)))
        rc = d.stop(timeout=120)
    finally:
        d.kill()
        proxy.stop()
    # Errors are expected (each cut is reported, and makes the exit status 1); each must
    # be about the connection, never about the data.
    errors = [ev.payload for ev in d.events if ev.severity == 'error']
    unexpected = [t for t in errors if not NETWORK_ERROR.search(t)]
    snap = oimap.snapshot()
    lost, dups = [], []
    for folder in FOLDERS:
        want = added['server'][folder] | added['local'][folder]
        for side, entries in (('server', snap.server.get(folder, [])),
                              ('local', snap.local.get(folder, []))):
            got = markers(e.body for e in entries)
            lost += [f'{side} {folder} {t}' for t in sorted(want - set(got))]
            dups += [f'{side} {folder} {t} x{c}' for t, c in sorted(got.items()) if c > 1]
            extra = set(got) - want
            lost += [f'{side} {folder} {t} (in the wrong folder)' for t in sorted(extra)]
    warm = next((kb for t, kb in rss if t >= 60), rss[0][1])
    report = {
        'seconds': round(SECONDS), 'changes': n,
        'server_appends': sum(len(v) for v in added['server'].values()),
        'local_adds': sum(len(v) for v in added['local'].values()),
        'server_flag_changes': flag_changes, 'connections_cut': cuts,
        'rss_kb_first': rss[0][1], 'rss_kb_after_60s': warm, 'rss_kb_max': max(k for _, k in rss),
        'rss_kb_end': rss[-1][1], 'rss_samples': rss,
        'lost': lost, 'duplicated': dups, 'counts': snap.counts(),
        'exit_status': rc, 'errors_reported': len(errors), 'errors_not_network': unexpected[:20],
        'error_samples': sorted(set(t[:160] for t in errors))[:10],
    }
    text = json.dumps(report, indent=1)
    print(text)
    if os.environ.get('OIMAP_DAEMON_SOAK_REPORT'):
        with open(os.environ['OIMAP_DAEMON_SOAK_REPORT'], 'w') as f:
            f.write(text)
    assert rc == (1 if errors else 0), d.describe()
    assert not unexpected, unexpected[:20]
    assert not lost, lost[:40]
    assert not dups, dups[:40]
    snap.assert_in_sync()
    # memory flat: the end within 25 % (and at least 4 MiB of slack) of the warm level
    assert rss[-1][1] <= max(warm * 1.25, warm + 4096), rss
