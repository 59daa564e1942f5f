"""Dropped and stalled connections against a real Dovecot (issue 3).

Our binary talks to Dovecot through harness.faultproxy.FaultProxy, which cuts or stalls
the connection at a chosen byte: inside a FETCH literal, inside an APPEND literal, just
before the answer to an APPEND, a UID STORE or a UID EXPUNGE, or at seeded random
offsets across a run that downloads, uploads, changes flags and deletes in several
folders.

The promise checked after every faulty run:
- the faulty run ends (exit status 0 or 1, no crash, no hang) and, when it fails, says
  which server and folder;
- the other folders go on;
- a run without faults then completes, both sides hold the same messages exactly once
  each (by Message-ID and bytes, with the flags expected), and one more run changes
  nothing at all (Maildir files, server messages and counters, status databases).
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from harness import maildir as md
from harness import runner
from harness.faultproxy import Fault, FaultProxy, protocol_line_ends
from harness.mailgen import MailGen, to_crlf, to_lf

CHANGE_MARKERS = ('Copy message', 'Deleting ', 'Adding flag', 'Deleting flag',
                  'Creating folder')
SOCKTIMEOUT = 10  # seconds; the binary's default (120 s) would let a hang pass unseen


# ----------------------------------------------------------------------------- helpers


@pytest.fixture
def proxy(dovecot):
    with FaultProxy(dovecot.host, dovecot.port) as p:
        yield p


def output(r) -> str:
    return r.stdout + r.stderr


def error_lines(r) -> list[str]:
    return [ln for ln in output(r).splitlines()
            if ln.startswith('ERROR') and 'Exceptions occurred' not in ln]


def change_lines(r) -> list[str]:
    return [ln for ln in output(r).splitlines() if any(m in ln for m in CHANGE_MARKERS)]


def message_id(body: bytes) -> str:
    m = re.search(rb'^Message-ID:[ \t]*(\S+)', body, re.M | re.I)
    assert m, f'message without a Message-ID: {body[:200]!r}'
    return m.group(1).decode()


def mid_header(body: bytes) -> bytes:
    """The Message-ID header line's value, to find the message in a byte stream."""
    return message_id(body).encode()


def configure(s: runner.Setup, proxy: FaultProxy, *, general=None, remote_opts=None, **kw):
    gen = {'socktimeout': SOCKTIMEOUT}
    gen.update(general or {})
    return s.write_config(host=proxy.host, port=proxy.port, general=gen,
                          remote_opts=remote_opts, **kw)


def seed_server(dc, spec, *, user=None) -> dict[str, dict[int, bytes]]:
    """spec {folder: [bytes or (bytes, flags)]} -> {folder: {uid: bytes}}."""
    out = {}
    for folder, msgs in spec.items():
        if folder != 'INBOX' and folder not in dc.list_folders(user=user):
            dc.create(folder, user=user)
        out[folder] = {}
        for m in msgs:
            body, flags = (m, ()) if isinstance(m, bytes) else m
            out[folder][dc.append(folder, body, flags=flags, user=user)] = body
    return out


def expected_from(snap: runner.Snapshot) -> dict[str, dict[str, tuple[str, bytes]]]:
    """{folder: {Message-ID: (flags, bytes)}} of the server side of a snapshot."""
    out = {}
    for folder, ents in snap.server.items():
        d = {}
        for e in ents:
            mid = message_id(e.body)
            assert mid not in d, f'{folder}: {mid} twice on the server'
            d[mid] = (e.flags, e.body)
        out[folder] = d
    return out


def message_problems(snap: runner.Snapshot,
                     expected: dict[str, dict[str, tuple[str, bytes]]]) -> list[str]:
    """Every way in which either side differs from `expected` (by Message-ID)."""
    probs = []
    for side, tree in (('server', snap.server), ('local', snap.local)):
        for folder in sorted(set(tree) | set(expected)):
            want = expected.get(folder)
            ents = tree.get(folder)
            if want is None:
                if ents:
                    probs.append(f'{side}: unexpected folder {folder!r} with {len(ents)} messages')
                continue
            if ents is None:
                probs.append(f'{side}: folder {folder!r} missing')
                continue
            count = Counter(message_id(e.body) for e in ents)
            for mid, n in sorted(count.items()):
                if n > 1:
                    probs.append(f'{side} {folder}: {mid} is there {n} times (duplicated)')
                if mid not in want:
                    probs.append(f'{side} {folder}: unexpected message {mid}')
            for mid in sorted(set(want) - set(count)):
                probs.append(f'{side} {folder}: message {mid} lost')
            for e in ents:
                mid = message_id(e.body)
                if mid not in want:
                    continue
                flags, body = want[mid]
                if e.body != body:
                    probs.append(f'{side} {folder}: {mid} has different bytes '
                                 f'({len(e.body)} instead of {len(body)}) at {e.where}')
                if e.flags != flags:
                    probs.append(f'{side} {folder}: {mid} has flags {e.flags!r}, '
                                 f'expected {flags!r}')
    return probs


def partial_files(s: runner.Setup, bodies: set[bytes]) -> list[str]:
    """Local message files (new/, cur/) whose content is no whole known message, and
    anything left in tmp/."""
    probs = []
    for folder, msgs in s.local().items():
        for m in msgs:
            if to_crlf(m.content) not in bodies:
                probs.append(f'{m.path}: {len(m.content)} bytes that are no whole message')
        tmp = md.folder_dir(s.maildir, folder) / 'tmp'
        if tmp.is_dir():
            probs += [f'left in tmp/: {p}' for p in sorted(tmp.iterdir())]
    return probs


def full_state(s: runner.Setup) -> dict:
    """Local files (name and bytes), server (counters, flags, bytes), status rows."""
    local = {}
    for p in sorted(s.maildir.rglob('*')):
        if p.is_file() and p.parent.name in ('new', 'cur', 'tmp'):
            local[str(p.relative_to(s.maildir))] = p.read_bytes()
    server = {}
    dc = s.dovecot
    for f in dc.list_folders(user=s.user, selectable_only=True):
        st = dc.status(f, ('MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'HIGHESTMODSEQ'), user=s.user)
        server[f] = (st, dc.messages(f, user=s.user))
    status = {}
    for p in sorted(s.metadata.rglob('*')):
        if p.is_file() and p.parent.name == 'LocalStatus-sqlite':
            status[p.name] = runner.status_rows(p)
    return {'local': local, 'server': server, 'status': status}


def state_diff(a: dict, b: dict) -> list[str]:
    probs = []
    for k in sorted(set(a['local']) ^ set(b['local'])):
        probs.append(f'local file {"gone" if k in a["local"] else "appeared"}: {k}')
    for k in sorted(set(a['local']) & set(b['local'])):
        if a['local'][k] != b['local'][k]:
            probs.append(f'local file changed: {k}')
    for f in sorted(set(a['server']) | set(b['server'])):
        if a['server'].get(f) != b['server'].get(f):
            probs.append(f'server folder {f!r} changed')
    for f in sorted(set(a['status']) | set(b['status'])):
        if a['status'].get(f) != b['status'].get(f):
            probs.append(f'status database {f!r} changed')
    return probs


def error_context_problems(r, server: str) -> list[str]:
    """Every error of the run must name the server and, when it came while a folder was
    being synced, that folder."""
    probs = []
    folder = None
    for ln in output(r).splitlines():
        m = re.match(r'Syncing (.+?): \S+ -> \S+$', ln)
        if m:
            folder = m.group(1)
            continue
        if ln.startswith('*** Finished account'):
            break
        if ln.startswith('ERROR') and 'Exceptions occurred' not in ln:
            if server not in ln:
                probs.append(f'an error does not name the server {server}: {ln}')
            if folder and folder not in ln:
                probs.append(f'an error while syncing folder {folder} does not name it: {ln}')
    return probs


def faulty_run(s: runner.Setup, proxy: FaultProxy, *, timeout: float = 90):
    """One run with the faults armed; it must end by itself, without a crash."""
    r = s.sync(ok=False, timeout=timeout)
    assert r.returncode in (0, 1), f'the faulty run crashed or misbehaved:\n{runner.describe(r)}'
    hit = [c for c in proxy.connections if c.fault is not None]
    assert hit, (f'the fault never hit (connections: '
                 f'{[(c.index, len(c.c2s), len(c.s2c)) for c in proxy.connections]}); '
                 f'the test does not test anything:\n{runner.describe(r)}')
    probs = error_context_problems(r, proxy.address)
    assert not probs, '\n'.join(probs) + '\n' + runner.describe(r)
    return r


def assert_error_names(r, proxy: FaultProxy, folder: str) -> None:
    errs = error_lines(r)
    assert any(proxy.address in ln and folder in ln for ln in errs), \
        (f'no error line names both the server {proxy.address} and the folder {folder!r}:\n'
         + '\n'.join(errs) + '\n' + runner.describe(r))


def converge(s: runner.Setup, proxy: FaultProxy, expected, *, what: str = '') -> list[str]:
    """After a faulty run: a clean run, then both sides must equal `expected` (each
    message once, right bytes and flags), then one more run must change nothing.
    Returns the problems (empty when all is well)."""
    proxy.reset()
    r = s.sync(ok=False)
    if r.returncode != 0:
        return [f'{what}the run after the fault failed:\n{runner.describe(r)}']
    snap = s.snapshot()
    probs = [f'{what}{p}' for p in snap.diff()]
    probs += [f'{what}{p}' for p in message_problems(snap, expected)]
    if probs:
        return probs + [f'{what}(run after the fault:\n{runner.describe(r)})']
    before = full_state(s)
    r3 = s.sync(ok=False)
    if r3.returncode != 0:
        return [f'{what}the third run failed:\n{runner.describe(r3)}']
    probs += [f'{what}third run reported work: {ln}' for ln in change_lines(r3)]
    probs += [f'{what}third run: {p}' for p in state_diff(before, full_state(s))]
    return probs


def assert_converges(s, proxy, expected) -> None:
    probs = converge(s, proxy, expected)
    assert not probs, 'after the faulty run:\n  ' + '\n  '.join(probs)


def expect(folders: dict[str, list]) -> dict[str, dict[str, tuple[str, bytes]]]:
    """{folder: [bytes or (bytes, letters)]} -> the expected-messages mapping."""
    out = {}
    for folder, msgs in folders.items():
        d = {}
        for m in msgs:
            body, letters = (m, '') if isinstance(m, bytes) else m
            d[message_id(body)] = (''.join(sorted(letters)), to_crlf(body))
        out[folder] = d
    return out


def local_by_uid(s: runner.Setup, folder: str) -> dict[int, md.MaildirMessage]:
    return {m.uid: m for m in md.read_folder(s.maildir, folder) if m.uid is not None}


# ----------------------------------------------------------------------------- downloads


@pytest.mark.parametrize('every', [False, True], ids=['first-connection', 'every-connection'])
def test_cut_mid_fetch_of_large_message(dovecot, oimap, mailgen, proxy, every):
    """The connection drops inside the literal of a 2.7 MB message. With the fault on
    the first connection only, the reconnect (retrycount) finishes the job; with it on
    every connection, INBOX is skipped with an error naming server and folder, and Work
    is still synced. No partial file is left either way."""
    big = mailgen.attachment(2 << 20)
    inbox = [mailgen.plain() for _ in range(3)] + [big] + [mailgen.plain() for _ in range(2)]
    work = [mailgen.plain() for _ in range(3)]
    seed_server(dovecot, {'INBOX': inbox, 'Work': work})
    configure(oimap, proxy)
    proxy.add(Fault('cut', 's2c', pattern=mid_header(big), after=600_000),
              conn=None if every else 1)

    r = faulty_run(oimap, proxy)
    c1 = proxy.connections[0]
    lit = c1.s2c.rfind(b'BODY[] {', 0, c1.find('s2c', mid_header(big)))
    m = re.match(rb'BODY\[\] \{(\d+)\}\r\n', c1.s2c[lit:lit + 40])
    assert lit >= 0 and m, 'the big message was not sent as a literal'
    assert lit + m.end() < c1.fault_offset < lit + m.end() + int(m.group(1)), \
        'the cut is not inside the literal'
    if every:
        assert r.returncode == 1, runner.describe(r)
        assert_error_names(r, proxy, 'INBOX')
        assert len(proxy.connections) >= 3, \
            f'expected retries on new connections (retrycount 2): {len(proxy.connections)}'
    elif r.returncode != 0:
        assert_error_names(r, proxy, 'INBOX')
    snap = oimap.snapshot()
    assert not snap.diff(folders=['Work']), \
        f'Work was not synced after INBOX failed:\n{snap.diff(folders=["Work"])}'
    bodies = {to_crlf(b) for b in inbox + work}
    assert not partial_files(oimap, bodies), partial_files(oimap, bodies)
    assert_converges(oimap, proxy, expect({'INBOX': inbox, 'Work': work}))


# ----------------------------------------------------------------------------- uploads


@pytest.mark.parametrize('where', ['inside-literal', 'before-answer'])
def test_cut_during_append(dovecot, oimap, mailgen, proxy, where):
    """Local new messages are uploaded with pipelined APPENDs; the connection drops
    inside the literal of a 4 MB upload, or just before the server's answer to the
    second APPEND (the server has stored it; the client does not know). No message may
    be lost, and none uploaded twice."""
    old_inbox = [mailgen.plain() for _ in range(2)]
    old_work = [mailgen.plain()]
    seed_server(dovecot, {'INBOX': old_inbox, 'Work': old_work})
    configure(oimap, proxy)
    oimap.sync()

    small = [mailgen.plain() for _ in range(3)]
    big = mailgen.attachment(3 << 20)
    wnew = mailgen.plain()
    ibox = oimap.local_folder('INBOX')
    md.add_message(ibox, to_lf(small[0]))
    md.add_message(ibox, to_lf(small[1]), flags='S')
    md.add_message(ibox, to_lf(big), flags='F')
    md.add_message(ibox, to_lf(small[2]))
    md.add_message(oimap.local_folder('Work'), to_lf(wnew))

    proxy.reset()
    if where == 'inside-literal':
        proxy.add(Fault('cut', 'c2s', pattern=mid_header(big), after=300_000), conn=1)
    else:
        pat = b'Append completed'  # cut inside the tagged answer: it never arrives whole
        proxy.add(Fault('cut', 's2c', pattern=pat, occurrence=2, after=-len(pat)), conn=1)
    r = faulty_run(oimap, proxy)
    if r.returncode != 0:
        assert_error_names(r, proxy, 'INBOX')
    snap = oimap.snapshot()
    assert not snap.diff(folders=['Work']), \
        f'Work was not synced after INBOX failed:\n{snap.diff(folders=["Work"])}\n' \
        f'{runner.describe(r)}'
    # nothing local was lost meanwhile
    local_bodies = Counter(to_crlf(m.content) for m in md.read_folder(oimap.maildir, 'INBOX'))
    for b in old_inbox + small + [big]:
        assert local_bodies[to_crlf(b)] == 1, \
            f'{message_id(b)}: {local_bodies[to_crlf(b)]} local copies after the faulty run'
    expected = expect({'INBOX': old_inbox + [small[0], (small[1], 'S'), (big, 'F'), small[2]],
                       'Work': old_work + [wnew]})
    assert_converges(oimap, proxy, expected)


# ----------------------------------------------------------------------------- flags, expunge


def _flags_scenario(dovecot, oimap, mailgen, proxy):
    inbox = [(mailgen.plain(), f) for f in
             [(), ('\\Seen',), (), ('\\Seen', '\\Flagged'), (), ('\\Answered',)]]
    work = [mailgen.plain() for _ in range(2)]
    uids = seed_server(dovecot, {'INBOX': inbox, 'Work': work})
    configure(oimap, proxy)
    oimap.sync()
    return inbox, work, uids


@pytest.mark.parametrize('where', ['inside-command', 'before-answer'])
def test_cut_during_uid_store(dovecot, oimap, mailgen, proxy, where):
    """Local flag changes go up as UID STORE; the connection drops in the middle of the
    command, or after the server applied it but before its answer arrives."""
    inbox, work, uids = _flags_scenario(dovecot, oimap, mailgen, proxy)
    loc = local_by_uid(oimap, 'INBOX')
    u = sorted(uids['INBOX'])
    md.add_flags(loc[u[0]].path, 'S')
    md.add_flags(loc[u[2]].path, 'SF')
    md.add_flags(loc[u[4]].path, 'S')
    md.remove_flags(loc[u[3]].path, 'S')
    md.add_flags(local_by_uid(oimap, 'Work')[min(uids['Work'])].path, 'R')

    proxy.reset()
    if where == 'inside-command':
        proxy.add(Fault('cut', 'c2s', pattern=b'UID STORE', after=4), conn=1)
    else:
        pat = b'Store completed'
        proxy.add(Fault('cut', 's2c', pattern=pat, after=-len(pat)), conn=1)
    r = faulty_run(oimap, proxy)
    if r.returncode != 0:
        assert_error_names(r, proxy, 'INBOX')
    letters = ['S', 'S', 'FS', 'F', 'S', 'R']
    expected = expect({'INBOX': [(b, letters[i]) for i, (b, _f) in enumerate(inbox)],
                       'Work': [(work[0], 'R'), work[1]]})
    assert_converges(oimap, proxy, expected)


@pytest.mark.parametrize('where', ['inside-command', 'before-answer'])
def test_cut_during_expunge(dovecot, oimap, mailgen, proxy, where):
    """Local deletions go up as UID STORE +FLAGS (\\Deleted) and UID EXPUNGE; the
    connection drops in the middle of the UID EXPUNGE, or before its answer."""
    inbox, work, uids = _flags_scenario(dovecot, oimap, mailgen, proxy)
    loc = local_by_uid(oimap, 'INBOX')
    u = sorted(uids['INBOX'])
    md.delete(loc[u[1]].path)
    md.delete(loc[u[4]].path)
    md.delete(local_by_uid(oimap, 'Work')[max(uids['Work'])].path)

    proxy.reset()
    if where == 'inside-command':
        proxy.add(Fault('cut', 'c2s', pattern=b'UID EXPUNGE', after=4), conn=1)
    else:
        pat = b'Expunge completed'
        proxy.add(Fault('cut', 's2c', pattern=pat, after=-len(pat)), conn=1)
    r = faulty_run(oimap, proxy)
    if r.returncode != 0:
        assert_error_names(r, proxy, 'INBOX')
    letters = ['', 'S', '', 'FS', '', 'R']
    expected = expect({'INBOX': [(b, letters[i]) for i, (b, _f) in enumerate(inbox)
                                 if i not in (1, 4)],
                       'Work': [work[0]]})
    assert_converges(oimap, proxy, expected)


# ----------------------------------------------------------------------------- stalls


@pytest.mark.parametrize('every', [False, True], ids=['first-connection', 'every-connection'])
def test_stall_mid_fetch_times_out(dovecot, oimap, mailgen, proxy, every):
    """The server stops sending in the middle of a body (the socket stays open). With
    socktimeout = 2 the run must give a timeout error within a few seconds instead of
    hanging, then reconnect (retrycount 1): on a healthy connection it completes; when
    every connection stalls, INBOX is skipped with an error naming the server and the
    folder, and the other folders are synced."""
    big = mailgen.attachment(1 << 20)
    inbox = [mailgen.plain(), big, mailgen.plain()]
    work = [mailgen.plain() for _ in range(2)]
    arch = [mailgen.plain() for _ in range(2)]
    seed_server(dovecot, {'INBOX': inbox, 'Work': work, 'Archive': arch})
    configure(oimap, proxy, general={'socktimeout': 2}, remote_opts={'retrycount': 1})
    proxy.add(Fault('stall', 's2c', pattern=mid_header(big), after=200_000),
              conn=None if every else 1)

    t0 = time.monotonic()
    r = faulty_run(oimap, proxy, timeout=60)
    took = time.monotonic() - t0
    limit = 15 * runner.timeout_scale()
    assert took < limit, f'the stalled run took {took:.1f} s (limit {limit:.0f} s)'
    if every:
        assert r.returncode == 1, runner.describe(r)
        assert_error_names(r, proxy, 'INBOX')
        assert any('timed out' in ln.lower() or 'timeout' in ln.lower()
                   for ln in error_lines(r)), \
            f'the error does not say the server timed out:\n{runner.describe(r)}'
        assert took >= 3.5, f'two stalls of 2 s each cannot end in {took:.1f} s'
    else:
        assert r.returncode == 0, \
            f'a stall on the first connection only should be retried:\n{runner.describe(r)}'
    snap = oimap.snapshot()
    assert not snap.diff(folders=['Work', 'Archive']), \
        f'other folders were not synced:\n{snap.diff(folders=["Work", "Archive"])}'
    bodies = {to_crlf(b) for b in inbox + work + arch}
    assert not partial_files(oimap, bodies), partial_files(oimap, bodies)
    assert_converges(oimap, proxy, expect({'INBOX': inbox, 'Work': work, 'Archive': arch}))


def test_slow_server_is_not_a_timeout(dovecot, oimap, mailgen, proxy):
    """A server that trickles a body out (32 KiB every 0.3 s, over 2 s in all) is slow,
    not dead: socktimeout = 2 bounds each wait, not the whole transfer."""
    big = mailgen.attachment(170_000)
    inbox = [mailgen.plain(), big]
    seed_server(dovecot, {'INBOX': inbox})
    configure(oimap, proxy, general={'socktimeout': 2}, remote_opts={'retrycount': 0})
    proxy.add(Fault('delay', 's2c', pattern=mid_header(big), delay=0.3, chunk=32 * 1024),
              conn=1)
    t0 = time.monotonic()
    r = oimap.sync(ok=False, timeout=60)
    took = time.monotonic() - t0
    assert r.returncode == 0, runner.describe(r)
    assert took > 2.0, f'the delay was not applied ({took:.1f} s)'
    assert proxy.connections[0].fault is None
    oimap.assert_in_sync()
    assert not message_problems(oimap.snapshot(), expect({'INBOX': inbox}))


# ----------------------------------------------------------------------------- random cuts


SWEEP_MAIL_SEED = 4242


def _sweep_account(dc, root: Path, user: str, proxy: FaultProxy, binary) -> runner.Setup:
    """A fresh account (user) in the given state: synced once, then changed on both
    sides so that the next run downloads, uploads, changes flags both ways and deletes
    both ways in three folders. Every call makes the same messages."""
    assert user in dc.users, f'{user} must be given to Dovecot at start (sweep_users)'
    gen = MailGen(seed=SWEEP_MAIL_SEED)
    s = runner.Setup(dc, root / user, user=user, binary=binary)
    flags = [(), ('\\Seen',), ('\\Seen', '\\Flagged'), (), ('\\Answered',), ('\\Seen',)]
    spec = {'INBOX': [(gen.plain(), flags[i]) for i in range(5)]
            + [(gen.attachment(150_000), ('\\Seen',))],
            'Work': [(gen.plain(), flags[i + 1]) for i in range(4)],
            'Archive': [(gen.plain(), flags[i + 2]) for i in range(3)]}
    uids = seed_server(dc, spec, user=user)
    configure(s, proxy)
    proxy.reset()
    s.sync()
    u = {f: sorted(v) for f, v in uids.items()}
    # server side changes
    dc.append('INBOX', gen.plain(), user=user)
    dc.append('INBOX', gen.attachment(100_000), flags=('\\Flagged',), user=user)
    dc.append('Work', gen.plain(), flags=('\\Seen',), user=user)
    dc.set_flags('INBOX', u['INBOX'][0], ['\\Flagged'], user=user)
    dc.clear_flags('INBOX', u['INBOX'][1], ['\\Seen'], user=user)
    dc.set_flags('Work', u['Work'][1], ['\\Seen'], user=user)
    dc.expunge('Work', u['Work'][3], user=user)
    # local changes
    md.add_message(s.local_folder('INBOX'), to_lf(gen.plain()))
    md.add_message(s.local_folder('INBOX'), to_lf(gen.attachment(120_000)), flags='S')
    md.add_message(s.local_folder('Archive'), to_lf(gen.plain()), flags='R')
    li, la = local_by_uid(s, 'INBOX'), local_by_uid(s, 'Archive')
    md.add_flags(li[u['INBOX'][2]].path, 'R')
    md.remove_flags(li[u['INBOX'][5]].path, 'S')
    md.add_flags(la[u['Archive'][0]].path, 'S')
    md.delete(li[u['INBOX'][4]].path)
    md.delete(la[u['Archive'][1]].path)
    return s


def sweep_users(seed: int, n: int) -> dict[str, str]:
    """The Dovecot users of a sweep, given at start: users added while Dovecot runs
    are not always seen at once (passwd-file is re-read only when its mtime moves)."""
    users = {'test': 'testpass', 'ref': 'pw-ref'}
    users.update({f'u{seed}x{i}': f'pw-u{seed}x{i}' for i in range(n)})
    return users


def _logout_at(data: bytes, pattern: bytes) -> int:
    """Where the logout starts in a direction's bytes (their end if it is not there)."""
    found = list(re.finditer(pattern, bytes(data)))
    return found[-1].start() if found else len(data)


def _offsets(seed: int, n: int, ref) -> list[tuple[str, int]]:
    """n (direction, offset) pairs from a seed: half uniform over the bytes of the
    reference run (mostly inside message literals), half within a few bytes of the
    boundaries between its commands or responses."""
    rng = random.Random(seed)
    out: list[tuple[str, int]] = []
    # Up to the LOGOUT: the client does not wait for its answer, so whether the
    # server's BYE is forwarded before the client closes is a matter of timing.
    limit = {'c2s': _logout_at(ref.data('c2s'), rb'A\d+ LOGOUT\r\n'),
             's2c': _logout_at(ref.data('s2c'), rb'\* BYE ')}
    ends = {d: [x for x in protocol_line_ends(ref.data(d)) if x < limit[d]]
            for d in ('c2s', 's2c')}
    while len(out) < n:
        d = rng.choice(('c2s', 's2c'))
        total = limit[d]
        if len(out) % 2 == 0:
            off = rng.randrange(1, total)
        else:
            off = max(1, min(total - 1, rng.choice(ends[d]) + rng.randint(-3, 3)))
        if (d, off) not in out:
            out.append((d, off))
    return out


def _random_cuts(dovecot, tmp_path, our_binary, seed: int, n: int) -> None:
    dc = dovecot
    with FaultProxy(dc.host, dc.port) as proxy:
        ref = _sweep_account(dc, tmp_path, 'ref', proxy, our_binary)
        proxy.reset()
        r = ref.sync()
        assert r.returncode == 0
        assert len(proxy.connections) == 1, 'the reference run should use one connection'
        rec = proxy.connections[0]
        ref.assert_in_sync()
        expected = expected_from(ref.snapshot())
        assert sum(len(v) for v in expected.values()) == 16, expected.keys()
        problems = []
        for i, (direction, off) in enumerate(_offsets(seed, n, rec)):
            tag = f'[cut {direction} at byte {off}] '
            s = _sweep_account(dc, tmp_path, f'u{seed}x{i}', proxy, our_binary)
            proxy.reset()
            proxy.add(Fault('cut', direction, after=off), conn=1)
            r = s.sync(ok=False)
            if r.returncode not in (0, 1):
                problems.append(f'{tag}faulty run ended with {r.returncode}:\n'
                                f'{runner.describe(r)}')
                continue
            if not any(c.fault for c in proxy.connections):
                problems.append(f'{tag}the cut never happened')
                continue
            errs = error_lines(r)
            print(f'{tag}exit {r.returncode}; {errs[0] if errs else "no error"}')
            if r.returncode == 1 and not errs:
                problems.append(f'{tag}exit status 1 without an error:\n{runner.describe(r)}')
            problems += [tag + p for p in error_context_problems(r, proxy.address)]
            problems += converge(s, proxy, expected, what=tag)
        assert not problems, f'{len(problems)} problems:\n  ' + '\n  '.join(problems)


@pytest.mark.dovecot(users=sweep_users(1, 5))
def test_random_cuts_sample(dovecot, tmp_path, our_binary):
    """Five seeded cut offsets across a run that downloads, uploads, changes flags and
    deletes in three folders; each from the same starting state."""
    _random_cuts(dovecot, tmp_path, our_binary, seed=1, n=5)


@pytest.mark.slow
@pytest.mark.dovecot(users=sweep_users(2, 20))
def test_random_cuts_sweep(dovecot, tmp_path, our_binary):
    """The same with twenty other seeded offsets."""
    _random_cuts(dovecot, tmp_path, our_binary, seed=2, n=20)
