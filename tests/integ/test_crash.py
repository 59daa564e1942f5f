"""Crash suite: SIGKILL at every durable step, and at random instants.

The binary has named crash points around every durable step (a Maildir file
written and renamed, a directory synced, a status commit, an APPEND answered,
a local rename after an upload, deletions, flag changes).  For each scenario
(a first download, a sync with changes on both sides, a sync that uploads)
the test:

1. runs the scenario once without crashing, with OIMAP_CRASHPOINT_LOG, to
   learn which points it passes and how often, and to get the reference
   result (every message, by Message-ID, with its flags, on each side);
2. for a sample of (point, n) pairs: sets the scenario up afresh, runs with
   OIMAP_CRASHPOINT=point:n (the process kills itself with SIGKILL there),
   runs again normally, and checks that both sides hold exactly the reference
   messages, each exactly once, with the reference flags, and that one more
   run changes nothing;
3. the same with a kill from outside at random instants.

The default run tries a sample; OIMAP_CRASH_ALL=1 (make crash-soak) tries
every point and occurrence, and prints how many points were tried.
"""
from __future__ import annotations

import collections
import os
import random
import re
import signal
import subprocess
import time

import pytest

from harness import maildir as md
from harness import runner

ALL = os.environ.get('OIMAP_CRASH_ALL') == '1'
FOLDERS = ['INBOX', 'Archive', 'Lists.dev']

MID = re.compile(rb'^Message-ID:\s*(<[^>\r\n]*>)', re.I | re.M)


def message_id(body: bytes) -> bytes:
    m = MID.search(body)
    assert m, 'every test message has a Message-ID'
    return m.group(1)


def picture(setup) -> dict:
    """{side: {folder: sorted [(message-id, flags)]}} for both sides."""
    snap = setup.snapshot()
    out = {}
    for side, tree in (('server', snap.server), ('local', snap.local)):
        out[side] = {f: sorted((message_id(e.body), e.flags) for e in entries)
                     for f, entries in tree.items()}
    return out


def assert_exactly_once(pic: dict) -> None:
    for side, tree in pic.items():
        for folder, entries in tree.items():
            counts = collections.Counter(mid for mid, _ in entries)
            dups = [m for m, c in counts.items() if c > 1]
            assert not dups, f'duplicates on the {side} side in {folder}: {dups}'


class Scenario:
    """Builds the same starting state every time (seeded), then one sync does the work."""

    def __init__(self, name, prepare, **dovecot_opts):
        self.name = name
        self.prepare = prepare
        self.dovecot_opts = dovecot_opts

    def fresh(self, dovecot_factory, tmp_path, our_binary, tag):
        dc = dovecot_factory(**self.dovecot_opts)
        setup = runner.Setup(dc, tmp_path / f'{self.name}-{tag}', binary=our_binary)
        setup.write_config(remote_opts={'maxconnections': 2})
        self.prepare(setup)
        return setup


def _gen(seed):
    from harness.mailgen import MailGen
    return MailGen(seed=seed)


def prep_first_download(setup):
    g = _gen(1)
    dc = setup.dovecot
    for f in FOLDERS[1:]:
        dc.create(f)
    for i, f in enumerate(FOLDERS):
        for k in range(6):
            flags = ('\\Seen',) if k % 2 else ()
            if k == 5:
                flags = ('\\Seen', '\\Flagged')
            dc.append(f, g.plain(), flags=flags)


def prep_both_ways(setup):
    prep_first_download(setup)
    setup.sync()
    g = _gen(2)
    dc = setup.dovecot
    # Server side: new mail, flags, an expunge.
    dc.append('INBOX', g.plain())
    dc.append('Archive', g.plain(), flags=('\\Seen',))
    dc.set_flags('INBOX', 1, ('\\Answered',))
    dc.clear_flags('Archive', 2, ('\\Seen',))
    dc.expunge('Lists.dev', [3])
    # Local side: new files, a flag rename, a deletion.
    local = setup.local()
    inbox = setup.local_folder('INBOX')
    md.add_message(inbox, g.plain())
    md.add_message(setup.local_folder('Lists.dev'), g.plain(), flags='S')
    arch = sorted(local['Archive'], key=lambda m: m.uid or 0)
    md.add_flags(arch[3].path, 'F')
    md.delete(sorted(local['INBOX'], key=lambda m: m.uid or 0)[4].path)


def prep_server_narrow(setup):
    """Server changes only, in folders the last runs left unchanged locally: the sync is
    the narrow one (test_narrow_sync.py), over the changed UIDs alone."""
    prep_first_download(setup)
    setup.sync()
    time.sleep(0.2)  # past the window in which a directory time is not trusted
    setup.sync()  # gives the skip-list lines the local stamps
    time.sleep(0.2)
    g = _gen(4)
    dc = setup.dovecot
    dc.append('INBOX', g.plain())
    dc.append('Archive', g.plain(), flags=('\\Seen',))
    dc.set_flags('INBOX', [1, 2], ('\\Answered',))
    dc.clear_flags('Archive', 2, ('\\Seen',))
    dc.expunge('Lists.dev', [3, 4])
    dc.expunge('INBOX', [5])


def prep_uploads(setup):
    g = _gen(3)
    dc = setup.dovecot
    dc.create('Archive')
    setup.sync()
    for f, n in (('INBOX', 5), ('Archive', 4)):
        for k in range(n):
            md.add_message(setup.local_folder(f), g.plain(), flags='S' if k % 2 else '')


SCENARIOS = [Scenario('first-download', prep_first_download),
             Scenario('both-ways', prep_both_ways),
             Scenario('uploads', prep_uploads),
             # Without UIDPLUS the UID of an upload is found by its X-OfflineIMAP mark.
             Scenario('uploads-no-uidplus', prep_uploads, capabilities_remove=['UIDPLUS']),
             Scenario('both-ways-no-uidplus', prep_both_ways, capabilities_remove=['UIDPLUS']),
             Scenario('server-narrow', prep_server_narrow)]


def points_of(setup) -> list[tuple[str, int]]:
    """Run once with the crash-point log; [(name, how many times)]."""
    log = setup.workdir / 'points.log'
    setup.sync(env=dict(os.environ, OIMAP_CRASHPOINT_LOG=str(log)))
    names = log.read_text().split() if log.exists() else []
    return sorted(collections.Counter(names).items())


def sample(points: list[tuple[str, int]], rnd: random.Random) -> list[tuple[str, int]]:
    every = [(p, k) for p, c in points for k in range(1, c + 1)]
    if ALL:
        return every
    # Each point's first and last occurrence, plus a few random others.
    chosen = {(p, 1) for p, _ in points} | {(p, c) for p, c in points}
    rest = [x for x in every if x not in chosen]
    chosen |= set(rnd.sample(rest, min(4, len(rest))))
    return sorted(chosen)


def recover_and_check(setup, reference):
    r = setup.sync(ok=False)
    assert r.returncode == 0, 'the run after the crash must succeed:\n' + runner.describe(r)
    pic = picture(setup)
    assert_exactly_once(pic)
    assert pic == reference, 'after recovery the state differs from an uninterrupted sync'
    before = setup.snapshot()
    r = setup.sync()
    assert 'Copy message' not in r.stdout and 'Deleting' not in r.stdout, \
        'a further run must change nothing:\n' + runner.describe(r)
    assert setup.snapshot().diff() == before.diff()


# make asan deselects `heavy`. Under ASan every point is still tried in first-download,
# uploads and both-ways-no-uidplus, which between them pass every crash point (checked
# with OIMAP_CRASHPOINT_LOG: both-ways passes the same points as both-ways-no-uidplus,
# uploads-no-uidplus the same as uploads). The two skipped there are a third of the
# crash suite's CPU under ASan (15 of 44 s); they run in the plain pass, and under ASan
# at random instants (test_kill_at_random_instants, not marked).
ASAN_DUPLICATES = {'both-ways', 'uploads-no-uidplus'}
EVERY_POINT = [pytest.param(s, id=s.name,
                            marks=pytest.mark.heavy if s.name in ASAN_DUPLICATES else ())
               for s in SCENARIOS]


@pytest.mark.parametrize('scenario', EVERY_POINT)
def test_kill_at_every_point(scenario, dovecot_factory, tmp_path, our_binary, capsys):
    ref = scenario.fresh(dovecot_factory, tmp_path, our_binary, 'ref')
    points = points_of(ref)
    assert points, 'the scenario passes crash points'
    reference = picture(ref)
    assert_exactly_once(reference)
    rnd = random.Random(scenario.name)
    tried = 0
    for name, n in sample(points, rnd):
        setup = scenario.fresh(dovecot_factory, tmp_path, our_binary, f'{name}-{n}')
        r = setup.sync(ok=False, env=dict(os.environ, OIMAP_CRASHPOINT=f'{name}:{n}'))
        assert r.returncode == -signal.SIGKILL, \
            f'expected a SIGKILL at {name}:{n}\n' + runner.describe(r)
        recover_and_check(setup, reference)
        setup.dovecot.stop()
        tried += 1
    with capsys.disabled():
        print(f'\n  {scenario.name}: {len(points)} crash points, {tried} (point, occurrence) '
              f'pairs tried')


@pytest.mark.parametrize('scenario', SCENARIOS, ids=lambda s: s.name)
def test_kill_at_random_instants(scenario, dovecot_factory, tmp_path, our_binary):
    ref = scenario.fresh(dovecot_factory, tmp_path, our_binary, 'ref')
    t0 = time.monotonic()
    ref.sync()
    duration = max(time.monotonic() - t0, 0.05)
    reference = picture(ref)
    rnd = random.Random('random-' + scenario.name)
    for i in range(25 if ALL else 4):
        setup = scenario.fresh(dovecot_factory, tmp_path, our_binary, f'rand{i}')
        if not setup.config.exists():
            setup.write_config(remote_opts={'maxconnections': 2})
        proc = subprocess.Popen([str(our_binary), '-c', str(setup.config), '-o', '-u', 'basic'],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=dict(os.environ, HOME=str(setup.workdir)))
        time.sleep(rnd.uniform(0, duration))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        recover_and_check(setup, reference)
        setup.dovecot.stop()
