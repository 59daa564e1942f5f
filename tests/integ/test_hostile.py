"""A hostile or broken IMAP server (issue 3), played by harness.fakeimap.FakeIMAP.

One test per misbehaviour. Each checks:
- the exit status;
- that the error (or warning, for what is ignored) names the server (host:port), the
  folder and, where one message is concerned, its UID;
- that nothing is lost locally: no local file deleted, and files created only for
  messages received whole (nothing left in tmp/ either);
- that the process ends within a few seconds with bounded memory (its peak RSS, from
  wait4(), below 100 MB);
- that the other folders go on where the connection could go on or be reopened.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import maildir as md
from harness import runner
from harness import tls
from harness.fakeimap import (Close, FakeIMAP, Hold, StartTLS, Step, fetch_bodies, fetch_flags,
                              fetch_line, folder_pattern, list_folders, login, ok, select)
from harness.mailgen import MailGen, to_crlf, to_lf

RSS_LIMIT_MB = 100
FAST = 5.0  # seconds a run against a misbehaving server may take, without waits


# ----------------------------------------------------------------------------- running


@dataclass
class Measured:
    result: subprocess.CompletedProcess
    seconds: float
    peak_rss_mb: float

    @property
    def out(self) -> str:
        return self.result.stdout + self.result.stderr


def run_measured(binary: Path, config: Path, *args: str, home: Path,
                 timeout: float) -> Measured:
    """Run the binary like runner.run_oimap, and measure its wall time and its own peak
    RSS. Killed and failed after `timeout` seconds.

    The RSS comes from GNU time (its wait4 on the binary): Linux counts a process's
    memory before exec in ru_maxrss, so a child forked straight from this (large,
    growing) pytest process would report pytest's size, not the binary's."""
    timeout *= runner.timeout_scale()
    env = dict(os.environ)
    env['HOME'] = str(home)
    env.setdefault('LC_ALL', 'C.UTF-8')
    cmd = [str(binary), '-c', str(config), *args]
    rss_file = Path(config).parent / f'maxrss.{os.getpid()}.{time.monotonic_ns()}'
    if Path('/usr/bin/time').exists():
        cmd = ['/usr/bin/time', '-q', '-f', '%M', '-o', str(rss_file)] + cmd
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, env=env)
    chunks: dict[str, list[bytes]] = {'out': [], 'err': []}

    def drain(stream, key):
        for block in iter(lambda: stream.read(65536), b''):
            chunks[key].append(block)

    readers = [threading.Thread(target=drain, args=(p.stdout, 'out'), daemon=True),
               threading.Thread(target=drain, args=(p.stderr, 'err'), daemon=True)]
    for t in readers:
        t.start()
    killed = False
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - t0 > timeout:
            p.kill()
            killed = True
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.005)
    seconds = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join(timeout=5)
    p.stdout.close()
    p.stderr.close()
    r = subprocess.CompletedProcess(cmd, p.returncode,
                                    b''.join(chunks['out']).decode(errors='replace'),
                                    b''.join(chunks['err']).decode(errors='replace'))
    runner.check_sanitizers(r)
    if killed:
        raise AssertionError(f'the run did not end within {timeout:.0f} s (killed):\n'
                             + runner.describe(r))
    peak_kb = ru.ru_maxrss
    if rss_file.exists():
        text = rss_file.read_text().strip().splitlines()
        rss_file.unlink()
        if text and text[-1].isdigit():
            peak_kb = int(text[-1])
    if cmd[0] == '/usr/bin/time':
        r.args = cmd[6:]
    return Measured(r, seconds, peak_kb / 1024)


class Client:
    """Our binary, configured against a fake server, in its own work directory."""

    def __init__(self, workdir: Path, binary: Path):
        self.workdir = workdir
        self.binary = binary
        self.maildir = workdir / 'Mail'
        self.config = workdir / 'offlineimaprc'
        self.runs: list[Measured] = []
        workdir.mkdir(parents=True, exist_ok=True)

    def configure(self, srv: FakeIMAP, *, socktimeout: int = 5, retrycount: int | None = 0,
                  remote_opts=None, general=None) -> None:
        gen = {'socktimeout': socktimeout}
        gen.update(general or {})
        rem = {} if retrycount is None else {'retrycount': retrycount}
        rem.update(remote_opts or {})
        runner.write_config(self.config, localfolders=self.maildir,
                            metadata=self.workdir / 'metadata', host=srv.host, port=srv.port,
                            user='test', password='secret', general=gen, remote_opts=rem)

    def run(self, *, timeout: float = 30) -> Measured:
        m = run_measured(self.binary, self.config, '-o', '-u', 'basic', home=self.workdir,
                         timeout=timeout)
        self.runs.append(m)
        return m

    def files(self) -> dict[str, bytes]:
        """{path relative to the Maildir root: bytes} of new/, cur/ and tmp/ files."""
        out = {}
        if self.maildir.exists():
            for p in sorted(self.maildir.rglob('*')):
                if p.is_file() and p.parent.name in ('new', 'cur', 'tmp'):
                    out[str(p.relative_to(self.maildir))] = p.read_bytes()
        return out

    def by_uid(self, folder: str) -> dict[int, list[md.MaildirMessage]]:
        out: dict[int, list[md.MaildirMessage]] = {}
        for m in md.read_folder(self.maildir, folder):
            out.setdefault(m.uid, []).append(m)
        return out


@pytest.fixture
def client(tmp_path, our_binary) -> Client:
    return Client(tmp_path / 'oimap', our_binary)


@pytest.fixture
def servers():
    """Start FakeIMAP servers through this; all are stopped at teardown."""
    made: list[FakeIMAP] = []

    def make(*scripts, **kw) -> FakeIMAP:
        srv = FakeIMAP(*scripts, **kw).start()
        made.append(srv)
        return srv

    yield make
    for s in made:
        s.stop()


def msgs(gen: MailGen, n: int) -> list[bytes]:
    return [gen.plain() for _ in range(n)]


def download(folder: str, bodies: dict[int, bytes], **sel) -> list[Step]:
    """SELECT, listing and body fetch of a folder whose messages are all new locally."""
    if not bodies:
        return [select(folder, 0, **sel)]
    return [select(folder, len(bodies), uidnext=max(bodies) + 1, **sel),
            fetch_flags({u: () for u in bodies}), fetch_bodies(bodies)]


# ----------------------------------------------------------------------------- checks


def error_lines(m: Measured) -> list[str]:
    return [ln for ln in m.out.splitlines()
            if ln.startswith('ERROR') and 'Exceptions occurred' not in ln]


def output_lines(m: Measured) -> list[str]:
    """Every line of output (warnings come without a prefix, as in offlineimap)."""
    return m.out.splitlines()


def check_run(m: Measured, srv: FakeIMAP, *, status: int, max_seconds: float = FAST) -> None:
    """Exit status, time and memory; and that the fake server saw no harness error."""
    r = m.result
    assert r.returncode == status, \
        f'exit status {r.returncode}, expected {status}:\n{runner.describe(r)}\n{srv.describe()}'
    limit = max_seconds * runner.timeout_scale()
    assert m.seconds < limit, f'the run took {m.seconds:.1f} s (limit {limit:.0f} s)'
    rss_limit = RSS_LIMIT_MB * (4 if os.environ.get('OIMAP_SANITIZER') else 1)
    assert m.peak_rss_mb < rss_limit, \
        f'peak RSS {m.peak_rss_mb:.0f} MB (limit {rss_limit} MB)'
    errs = [c.error for c in srv.connections if c.error]
    assert not errs, f'fake server trouble: {errs}'


def assert_line_names(lines: list[str], m: Measured, *needles: str, what: str = 'error') -> None:
    """Some line of `lines` contains every needle (plain text or /regex/)."""
    def has(ln, n):
        return re.search(n[1:-1], ln) if n.startswith('/') and n.endswith('/') else n in ln
    assert any(all(has(ln, n) for n in needles) for ln in lines), \
        (f'no {what} line names {", ".join(needles)}:\n  ' + '\n  '.join(lines)
         + f'\n{runner.describe(m.result)}')


def check_local(c: Client, before: dict[str, bytes], served: list[bytes]) -> None:
    """No local message lost (every earlier file's bytes still there), new files only
    for whole messages the server sent, nothing left in tmp/."""
    after = c.files()
    now = {}
    for k, v in after.items():
        now.setdefault(v, []).append(k)
    for k, v in before.items():
        assert v in now, f'local message {k} was lost'
    whole = {to_lf(b) for b in served} | {to_crlf(b) for b in served}
    for k, v in after.items():
        assert '/tmp/' not in f'/{k}', f'left in tmp/: {k}'
        if v in before.values():
            continue
        assert v in whole, f'{k}: {len(v)} bytes that are no whole message the server sent'


def assert_folder_has(c: Client, folder: str, bodies: dict[int, bytes]) -> None:
    got = c.by_uid(folder)
    assert sorted(u for u in got if u is not None) == sorted(bodies), \
        f'{folder}: local UIDs {sorted(u for u in got if u is not None)}, expected {sorted(bodies)}'
    for uid, body in bodies.items():
        assert len(got[uid]) == 1, f'{folder} UID {uid}: {len(got[uid])} files'
        assert to_crlf(got[uid][0].content) == to_crlf(body), f'{folder} UID {uid}: wrong bytes'


# ----------------------------------------------------------------------------- garbage


def test_garbage_bytes_in_listing(client, servers, mailgen):
    """A line of random bytes between two FETCH responses of the listing: the stream
    cannot be trusted any more. INBOX fails with an error naming server and folder; no
    INBOX message is created; Work is synced on a new connection."""
    rng = random.Random(7)
    junk = b'\x8f' + bytes(rng.choice([b for b in range(256) if b not in (10, 13)])
                           for _ in range(60)) + b'\r\n'
    inbox = dict(enumerate(msgs(mailgen, 3), 1))
    work = dict(enumerate(msgs(mailgen, 2), 1))
    s1 = [*login(), *list_folders(['INBOX', 'Work']), select('INBOX', 3),
          Step(r'UID FETCH 1:\* \(UID FLAGS[^)]*\)', fetch_line(1, 1),
               junk, fetch_line(2, 2), fetch_line(3, 3), ok())]
    s2 = [*login(), *download('Work', work)]
    srv = servers(s1, s2)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=1)
    assert_line_names(error_lines(m), m, srv.address, 'INBOX')
    assert client.by_uid('INBOX') == {}
    assert_folder_has(client, 'Work', work)
    check_local(client, {}, list(inbox.values()) + list(work.values()))


def test_untagged_line_that_is_not_imap(client, servers, mailgen):
    """Well-formed untagged responses that mean nothing in IMAP, between two bodies and
    in the listing: a client must ignore responses it does not know. Everything syncs."""
    inbox = dict(enumerate(msgs(mailgen, 3), 1))
    noise = b'* Hello from the anti-virus filter, this is not IMAP\r\n'
    bodies = b''.join(fetch_line(u, u, (), inbox[u]) for u in (1, 2))
    s1 = [*login(), *list_folders(['INBOX']), select('INBOX', 3),
          fetch_flags({u: () for u in inbox}, extra=[noise]),
          Step(r'UID FETCH [0-9:,]+ \(UID FLAGS BODY\.PEEK\[\]\)', bodies, noise,
               b'* XYZZY 42 (PLUGH "plover")\r\n', fetch_line(3, 3, (), inbox[3]), ok())]
    srv = servers(s1)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=0)
    assert_folder_has(client, 'INBOX', inbox)
    check_local(client, {}, list(inbox.values()))


# ----------------------------------------------------------------------------- literals


@pytest.mark.parametrize('size,hold', [(99999999999, 0.0), (4000000000, 1.5)],
                         ids=['99999999999-then-close', '4000000000-held-then-close'])
def test_literal_far_beyond_the_message(client, servers, mailgen, size, hold):
    """"* 1 FETCH (UID 1 BODY[] {<huge>}" then a few bytes, and the connection closes
    (at once, or after being held open). Nothing may be allocated from the announced
    size, no file kept for UID 1, and the error names server, folder and UID."""
    inbox = dict(enumerate(msgs(mailgen, 2), 1))
    work = dict(enumerate(msgs(mailgen, 1), 1))
    actions = [fetch_line(1, 1, (), b'From: x@example.org\r\nSubject: trunc', literal_size=size)]
    if hold:
        actions.append(Hold(hold))
    actions.append(Close())
    s1 = [*login(), *list_folders(['INBOX', 'Work']), select('INBOX', 2),
          fetch_flags({1: (), 2: ()}),
          Step(r'UID FETCH [0-9:,]+ \(UID FLAGS BODY\.PEEK\[\]\)', *actions)]
    s2 = [*login(), *download('Work', work)]
    srv = servers(s1, s2)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=1, max_seconds=FAST + hold)
    assert_line_names(error_lines(m), m, srv.address, 'INBOX')
    assert_line_names(output_lines(m), m, 'INBOX', '/\\bUID 1\\b/',
                      what='error or warning')
    assert 1 not in client.by_uid('INBOX'), 'a file was kept for the truncated UID 1'
    assert_folder_has(client, 'Work', work)
    check_local(client, {}, list(inbox.values()) + list(work.values()))


# ----------------------------------------------------------------------------- bad UIDs


def test_uid_zero_in_listing(client, servers, mailgen):
    """UID 0 is not a UID: that entry is ignored with a warning naming server and
    folder; the real messages sync."""
    inbox = {1: mailgen.plain(), 2: mailgen.plain()}
    listing = fetch_line(1, 1) + fetch_line(2, 0) + fetch_line(3, 2)
    s1 = [*login(), *list_folders(['INBOX']), select('INBOX', 3, uidnext=3),
          Step(r'UID FETCH 1:\* \(UID FLAGS[^)]*\)', listing, ok()),
          fetch_bodies(inbox, seqs={1: 1, 2: 3})]
    srv = servers(s1)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=0)
    assert_folder_has(client, 'INBOX', inbox)
    assert not srv.all_unexpected(), srv.describe()
    assert not any(re.search(r'UID FETCH \S*\b0\b', t) for c in srv.connections
                   for t in c.texts()), f'UID 0 was asked for:\n{srv.describe()}'
    assert_line_names(output_lines(m), m, srv.address, 'INBOX',
                      '/UID "?0"?|valid UID/', what='warning')
    check_local(client, {}, list(inbox.values()))


def test_same_uid_twice_in_listing(client, servers, mailgen):
    """UID 2 listed twice (with different flags): one message, downloaded once, with a
    warning naming server, folder and UID."""
    inbox = {1: mailgen.plain(), 2: mailgen.plain(), 3: mailgen.plain()}
    listing = (fetch_line(1, 1) + fetch_line(2, 2, ['\\Seen']) + fetch_line(3, 2)
               + fetch_line(4, 3))
    s1 = [*login(), *list_folders(['INBOX']), select('INBOX', 4, uidnext=4),
          Step(r'UID FETCH 1:\* \(UID FLAGS[^)]*\)', listing, ok()),
          fetch_bodies(inbox, {2: ['\\Seen']})]
    srv = servers(s1)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=0)
    assert_folder_has(client, 'INBOX', inbox)
    assert_line_names(output_lines(m), m, srv.address, 'INBOX',
                      '/\\bUID 2\\b/', what='warning')
    check_local(client, {}, list(inbox.values()))


def test_body_for_uid_not_asked_for(client, servers, mailgen):
    """Asked for UIDs 1 and 2, the server also sends a body for UID 9: it is not
    stored (warning naming server, folder, UID 9); 1 and 2 are."""
    inbox = {1: mailgen.plain(), 2: mailgen.plain()}
    intruder = mailgen.plain()
    s1 = [*login(), *list_folders(['INBOX']), select('INBOX', 2),
          fetch_flags({1: (), 2: ()}),
          Step(r'UID FETCH [0-9:,]+ \(UID FLAGS BODY\.PEEK\[\]\)',
               fetch_line(1, 1, (), inbox[1]), fetch_line(5, 9, (), intruder),
               fetch_line(2, 2, (), inbox[2]), ok())]
    srv = servers(s1)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=0)
    assert_folder_has(client, 'INBOX', inbox)
    assert_line_names(output_lines(m), m, srv.address, 'INBOX',
                      '/\\bUID 9\\b/', what='warning')
    check_local(client, {}, list(inbox.values()))


def test_second_body_for_same_uid(client, servers, mailgen):
    """A second, different body for UID 1 after the first: the first is kept, the
    second ignored with a warning naming server, folder and UID."""
    inbox = {1: mailgen.plain(), 2: mailgen.plain()}
    evil = mailgen.plain(subject='replacement', body='This is not what was stored.')
    s1 = [*login(), *list_folders(['INBOX']), select('INBOX', 2),
          fetch_flags({1: (), 2: ()}),
          Step(r'UID FETCH [0-9:,]+ \(UID FLAGS BODY\.PEEK\[\]\)',
               fetch_line(1, 1, (), inbox[1]), fetch_line(2, 2, (), inbox[2]),
               fetch_line(1, 1, (), evil), ok())]
    srv = servers(s1)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=0)
    assert_folder_has(client, 'INBOX', inbox)
    assert_line_names(output_lines(m), m, srv.address, 'INBOX',
                      '/\\bUID 1\\b/', what='warning')
    check_local(client, {}, list(inbox.values()))


# ----------------------------------------------------------------------------- BYE


def test_bye_during_listing(client, servers, mailgen):
    """BYE after the first FETCH of the listing, then the server closes: INBOX fails
    with an error naming server, folder and quoting the BYE; Work goes on."""
    inbox = dict(enumerate(msgs(mailgen, 3), 1))
    work = dict(enumerate(msgs(mailgen, 2), 1))
    s1 = [*login(), *list_folders(['INBOX', 'Work']), select('INBOX', 3),
          Step(r'UID FETCH 1:\* \(UID FLAGS[^)]*\)', fetch_line(1, 1),
               b'* BYE Server shutting down for maintenance\r\n', Close())]
    s2 = [*login(), *download('Work', work)]
    srv = servers(s1, s2)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=1)
    assert_line_names(error_lines(m), m, srv.address, 'INBOX')
    assert_line_names(error_lines(m), m, 'shutting down for maintenance')
    assert client.by_uid('INBOX') == {}
    assert_folder_has(client, 'Work', work)
    check_local(client, {}, list(inbox.values()) + list(work.values()))


def test_bye_during_body_fetch(client, servers, mailgen):
    """BYE between the first and the second body, then close (retrycount 0): INBOX
    fails naming server and folder; what was received whole may stay, nothing partial;
    Work goes on."""
    inbox = dict(enumerate(msgs(mailgen, 3), 1))
    work = dict(enumerate(msgs(mailgen, 2), 1))
    s1 = [*login(), *list_folders(['INBOX', 'Work']), select('INBOX', 3),
          fetch_flags({u: () for u in inbox}),
          Step(r'UID FETCH [0-9:,]+ \(UID FLAGS BODY\.PEEK\[\]\)',
               fetch_line(1, 1, (), inbox[1]), b'* BYE Autologout; idle for too long\r\n',
               Close())]
    s2 = [*login(), *download('Work', work)]
    srv = servers(s1, s2)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=1)
    assert_line_names(error_lines(m), m, srv.address, 'INBOX')
    got = client.by_uid('INBOX')
    assert set(got) <= {1}, f'INBOX files for UIDs {sorted(got)}'
    assert_folder_has(client, 'Work', work)
    check_local(client, {}, list(inbox.values()) + list(work.values()))


# ----------------------------------------------------------------------------- APPEND NO


def test_append_refused_overquota(client, servers, mailgen):
    """The server answers NO [OVERQUOTA] to the upload of a new local message: the run
    fails naming server, folder and the refusal; the local file stays as it was (not
    renamed); a later run against a server that accepts uploads it."""
    body = mailgen.plain()
    folder = md.make_folder(client.maildir, 'INBOX')
    path = md.add_message(folder, to_lf(body))
    before = client.files()
    s1 = [*login(), *list_folders(['INBOX']), select('INBOX', 0),
          Step(r'APPEND (INBOX|"INBOX") .*', b'$TAG NO [OVERQUOTA] Quota exceeded (mailbox '
                                              b'for user is full)\r\n')]
    srv = servers(s1)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=1)
    assert_line_names(error_lines(m), m, srv.address, 'INBOX', 'OVERQUOTA')
    assert path.exists(), f'{path.name} was renamed or removed after a refused upload'
    assert client.files() == before, 'the local Maildir changed after a refused upload'
    assert srv.connections[0].sent_command(r'APPEND .*'), srv.describe()

    good = [*login(), *list_folders(['INBOX']), select('INBOX', 0),
            Step(r'APPEND (INBOX|"INBOX") .*', ok('Append completed', 'APPENDUID 1 1'))]
    srv2 = servers(good)
    client.configure(srv2)
    m2 = client.run()
    check_run(m2, srv2, status=0)
    appends = [t for _tag, t in srv2.connections[0].commands if t.upper().startswith(b'APPEND')]
    assert len(appends) == 1, srv2.describe()
    literal = appends[0].split(b'}\r\n', 1)[1]
    assert literal == to_crlf(body), 'the uploaded bytes differ from the local message'
    assert not path.exists(), 'the uploaded file should carry its new UID in its name'
    got = client.by_uid('INBOX')
    assert list(got) == [1] and to_crlf(got[1][0].content) == to_crlf(body), got
    check_local(client, before, [body])


# ----------------------------------------------------------------------------- folders


def test_folder_vanishes_during_sync(client, servers, mailgen):
    """LIST shows Gone, but SELECT Gone answers NO [NONEXISTENT]: that folder fails
    with an error naming it; INBOX and Work sync on the same connection."""
    inbox = {1: mailgen.plain()}
    work = {1: mailgen.plain(), 2: mailgen.plain()}
    s1 = [*login(), *list_folders(['INBOX', 'Gone', 'Work']),
          select('Gone', answer=b'$TAG NO [NONEXISTENT] Mailbox does not exist\r\n'),
          *download('INBOX', inbox), *download('Work', work)]
    srv = servers(s1)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=1)
    assert_line_names(error_lines(m), m, srv.address, 'Gone')
    assert_folder_has(client, 'INBOX', inbox)
    assert_folder_has(client, 'Work', work)
    check_local(client, {}, list(inbox.values()) + list(work.values()))


# ----------------------------------------------------------------------------- greeting


def test_greeting_bye(client, servers):
    """A server that greets with BYE: a clear error naming it and quoting its reason."""
    srv = servers([], greeting_actions=[b'* BYE Too many connections from your address\r\n',
                                        Close()])
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=1)
    assert_line_names(error_lines(m), m, srv.address, 'Too many connections')
    assert client.files() == {}


def test_server_never_greets(client, servers):
    """A server that accepts the connection and says nothing: with socktimeout = 2 the
    run ends with a timeout error naming the server within a few seconds."""
    srv = servers([], greeting_actions=[Hold(None)])
    client.configure(srv, socktimeout=2)
    m = client.run(timeout=60)
    check_run(m, srv, status=1, max_seconds=2 + FAST)
    assert m.seconds >= 1.5, f'gave up after {m.seconds:.1f} s, before the 2 s timeout'
    assert_line_names(error_lines(m), m, srv.address, '/time[d ]*out|timeout/')


# ----------------------------------------------------------------------------- protocol


def test_tagged_ok_for_command_never_sent(client, servers, mailgen):
    """"A999 OK" while the client waits for its SELECT: the session cannot be trusted.
    INBOX fails naming server and folder; Work goes on on a new connection."""
    inbox = dict(enumerate(msgs(mailgen, 2), 1))
    work = dict(enumerate(msgs(mailgen, 1), 1))
    sel = select('INBOX', 2)
    s1 = [*login(), *list_folders(['INBOX', 'Work']),
          Step(sel.pattern, b'A999 OK I am answering something you never asked\r\n',
               *sel.actions),
          fetch_flags({u: () for u in inbox}), fetch_bodies(inbox), *download('Work', work)]
    s2 = [*login(), *download('Work', work)]
    srv = servers(s1, s2)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=1)
    assert_line_names(error_lines(m), m, srv.address, 'INBOX')
    assert client.by_uid('INBOX') == {}
    assert_folder_has(client, 'Work', work)
    check_local(client, {}, list(inbox.values()) + list(work.values()))


def test_continuation_nobody_asked_for(client, servers, mailgen):
    """A "+" continuation request in the middle of the listing, when no command waits
    for one: INBOX fails naming server and folder; Work goes on."""
    inbox = dict(enumerate(msgs(mailgen, 2), 1))
    work = dict(enumerate(msgs(mailgen, 1), 1))
    s1 = [*login(), *list_folders(['INBOX', 'Work']), select('INBOX', 2),
          Step(r'UID FETCH 1:\* \(UID FLAGS[^)]*\)', fetch_line(1, 1),
               b'+ Ready for more data\r\n', fetch_line(2, 2), ok()),
          fetch_bodies(inbox), *download('Work', work)]
    s2 = [*login(), *download('Work', work)]
    srv = servers(s1, s2)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=1)
    assert_line_names(error_lines(m), m, srv.address, 'INBOX')
    assert client.by_uid('INBOX') == {}
    assert_folder_has(client, 'Work', work)
    check_local(client, {}, list(inbox.values()) + list(work.values()))


def test_starttls_response_injection(client, servers, tmp_path):
    """The answer to STARTTLS arrives in the same packet as a plain-text "* OK
    injected" line (CVE-2011-0411 style): the client must refuse to go on, and must
    never send its credentials, in plain text or over the TLS that follows."""
    ca = tls.make_test_ca(tmp_path / 'ca')
    caps = 'IMAP4rev1 STARTTLS LITERAL+ UIDPLUS'
    script = [Step(r'CAPABILITY', f'* CAPABILITY {caps}\r\n'.encode(), ok(), optional=True),
              Step(r'STARTTLS', b'$TAG OK Begin TLS negotiation now\r\n* OK injected\r\n',
                   StartTLS(str(ca['cert']), str(ca['key']))),
              *login(), *list_folders(['INBOX']), select('INBOX', 0)]
    srv = servers(script, caps=caps)
    client.configure(srv, remote_opts={'starttls': True, 'sslcacertfile': ca['ca']})
    m = client.run()
    check_run(m, srv, status=1)
    conn = srv.connections[0]
    assert conn.sent_command(r'STARTTLS'), f'STARTTLS was not used:\n{srv.describe()}'
    assert not conn.sent_command(r'(LOGIN|AUTHENTICATE) .*'), \
        f'credentials sent after an injected STARTTLS answer:\n{srv.describe()}'
    assert_line_names(error_lines(m), m, srv.address, '/STARTTLS|inject/')
    assert client.files() == {}


# ----------------------------------------------------------------------------- CHANGEDSINCE NO


MODSEQ_CAPS = 'IMAP4rev1 LITERAL+ UIDPLUS ENABLE CONDSTORE QRESYNC LIST-STATUS'


def modseq_session(folder: str, exists: int, uidnext: int, modseq: int) -> list[Step]:
    """Login, ENABLE, LIST with the folder's STATUS (sent before the LIST when the folder
    is expected from the last run, else after it) and SELECT of one folder with
    modification sequences."""
    status = (f'* STATUS {folder} (MESSAGES {exists} UIDNEXT {uidnext} UIDVALIDITY 1 '
              f'HIGHESTMODSEQ {modseq})\r\n').encode()
    sel = (b'* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n'
           + f'* {exists} EXISTS\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n'
             f'* OK [UIDNEXT {uidnext}] Predicted next UID\r\n'
             f'* OK [HIGHESTMODSEQ {modseq}] Highest\r\n'.encode())
    return [*login(MODSEQ_CAPS),
            Step(r'ENABLE QRESYNC', b'* ENABLED QRESYNC\r\n', ok('Enabled'), name='ENABLE'),
            Step(rf'STATUS {folder_pattern(folder)} \(.*\)', status, ok(), optional=True,
                 name='STATUS before LIST'),
            Step(r'LIST "" "\*"', f'* LIST (\\HasNoChildren) "." {folder}\r\n'.encode(), ok(),
                 name='LIST'),
            Step(rf'STATUS {folder_pattern(folder)} \(.*\)', status, ok(), optional=True,
                 name='STATUS after LIST'),
            Step(rf'SELECT {folder_pattern(folder)}', sel, ok('Select completed', 'READ-WRITE'),
                 name='SELECT')]


def test_changedsince_refused(client, servers, mailgen):
    """The server moved since the last sync, but refuses the changes asked for with the
    SELECT (UID FETCH ... CHANGEDSINCE answered NO): the folder is listed in full once,
    without asking for the changes again, and the flag change comes through."""
    inbox = dict(enumerate(msgs(mailgen, 2), 1))
    s1 = [*modseq_session('INBOX', 2, 3, 10), fetch_flags({1: (), 2: ()}),
          fetch_bodies(inbox)]
    s2 = [*modseq_session('INBOX', 2, 3, 11),
          Step(r'UID FETCH 1:\* \(UID FLAGS\) \(CHANGEDSINCE 10 VANISHED\)',
               b'$TAG NO [UNAVAILABLE] CHANGEDSINCE is out of order today\r\n',
               name='CHANGEDSINCE'),
          fetch_flags({1: ('\\Flagged',), 2: ()})]
    srv = servers(s1, s2, caps=MODSEQ_CAPS)
    client.configure(srv)
    check_run(client.run(), srv, status=0)
    assert_folder_has(client, 'INBOX', inbox)
    check_run(client.run(), srv, status=0)
    assert not srv.all_unexpected(), srv.describe()
    cmds = [t.decode() for _, t in srv.connections[-1].commands]
    assert sum('CHANGEDSINCE' in c for c in cmds) == 1, cmds
    got = client.by_uid('INBOX')
    assert 'F' in got[1][0].flag_set and 'F' not in got[2][0].flag_set


# ----------------------------------------------------------------------------- STORE refused


def _synced_pair(client, servers, mailgen):
    """A first sync of INBOX with UIDs 1 and 2 (no flags); returns the bodies."""
    bodies = {1: mailgen.plain(), 2: mailgen.plain()}
    srv = servers([*login(), *list_folders(['INBOX']), *download('INBOX', bodies)])
    client.configure(srv)
    check_run(client.run(), srv, status=0)
    assert sorted(client.by_uid('INBOX')) == [1, 2]
    return bodies


def _status_flags(client) -> dict[int, str]:
    import sqlite3
    db = client.workdir / 'metadata' / 'Account-Test' / 'LocalStatus-sqlite' / 'INBOX'
    con = sqlite3.connect(db)
    try:
        return {uid: flags for uid, flags in con.execute('SELECT id, flags FROM status')}
    finally:
        con.close()


def test_flag_store_refused(client, servers, mailgen):
    """The flag changes of a pass go out pipelined; a NO to one of them fails the
    folder naming the refusal, and no status row records a change the server refused,
    so the next run sends it again."""
    _synced_pair(client, servers, mailgen)
    for m in md.read_folder(client.maildir, 'INBOX'):
        md.add_flags(m.path, 'FS' if m.uid == 1 else 'S')
    refuse = [*login(), *list_folders(['INBOX']), select('INBOX', 2, uidnext=3),
              fetch_flags({1: (), 2: ()}),
              Step(r'UID STORE .*', b'$TAG NO [CANNOT] flags are read-only here\r\n'),
              Step(r'UID STORE .*', ok(), optional=True)]
    srv = servers(refuse)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=1)
    assert_line_names(error_lines(m), m, 'INBOX', 'refused', 'read-only here')
    assert _status_flags(client) == {1: '', 2: ''}, 'a refused change was recorded'
    stores = srv.connections[0].sent_command(r'UID STORE .*')
    assert stores, srv.describe()

    accept = [*login(), *list_folders(['INBOX']), select('INBOX', 2, uidnext=3),
              fetch_flags({1: (), 2: ()}), Step(r'UID STORE .*', ok()),
              Step(r'UID STORE .*', ok(), optional=True)]
    srv2 = servers(accept)
    client.configure(srv2)
    check_run(client.run(), srv2, status=0)
    assert _status_flags(client) == {1: 'FS', 2: 'S'}


def test_delete_store_refused(client, servers, mailgen):
    """A local deletion: \\Deleted and UID EXPUNGE go out in one round trip; a NO to
    the STORE fails the folder and keeps the status row, so the next run deletes again
    (the message is not forgotten while still on the server)."""
    _synced_pair(client, servers, mailgen)
    victim = [m for m in md.read_folder(client.maildir, 'INBOX') if m.uid == 2][0]
    md.delete(victim.path)
    refuse = [*login(), *list_folders(['INBOX']), select('INBOX', 2, uidnext=3),
              fetch_flags({1: (), 2: ()}),
              Step(r'UID STORE 2 \+FLAGS\.SILENT \(\\Deleted\)',
                   b'$TAG NO [CANNOT] no deleting here\r\n'),
              Step(r'UID EXPUNGE 2', ok())]
    srv = servers(refuse)
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=1)
    assert_line_names(error_lines(m), m, 'INBOX', 'no deleting here')
    assert sorted(_status_flags(client)) == [1, 2], 'the refused deletion was recorded'

    accept = [*login(), *list_folders(['INBOX']), select('INBOX', 2, uidnext=3),
              fetch_flags({1: (), 2: ()}),
              Step(r'UID STORE 2 \+FLAGS\.SILENT \(\\Deleted\)', ok()),
              Step(r'UID EXPUNGE 2', b'* 2 EXPUNGE\r\n', ok())]
    srv2 = servers(accept)
    client.configure(srv2)
    check_run(client.run(), srv2, status=0)
    assert sorted(_status_flags(client)) == [1]


def _delete_uid2(client, servers, mailgen):
    """A synced INBOX (UIDs 1, 2) whose message 2 was then deleted locally."""
    _synced_pair(client, servers, mailgen)
    victim = [m for m in md.read_folder(client.maildir, 'INBOX') if m.uid == 2][0]
    md.delete(victim.path)


def _expunges(srv) -> list[str]:
    return [t.decode() for c in srv.connections for _, t in c.commands
            if t.decode().startswith('UID EXPUNGE') or t.decode().startswith('UID SEARCH')]


def test_expunge_not_reported_is_asked_again(client, servers, mailgen):
    """An OK to UID EXPUNGE that reports nothing expunged (Dovecot, when it ran the
    UID EXPUNGE beside the \\Deleted STORE it was pipelined with): the deletion is not
    taken as done. Once every answer is in, the UID is expunged again; the server's
    report of it then lets the deletion be recorded."""
    _delete_uid2(client, servers, mailgen)
    script = [*login(), *list_folders(['INBOX']), select('INBOX', 2, uidnext=3),
              fetch_flags({1: (), 2: ()}),
              Step(r'UID STORE 2 \+FLAGS\.SILENT \(\\Deleted\)', ok()),
              Step(r'UID EXPUNGE 2', ok('Expunge completed')),
              Step(r'UID EXPUNGE 2', b'* 2 EXPUNGE\r\n', ok('Expunge completed'))]
    srv = servers(script)
    client.configure(srv)
    check_run(client.run(), srv, status=0)
    assert not srv.all_unexpected(), srv.describe()
    assert _expunges(srv) == ['UID EXPUNGE 2', 'UID EXPUNGE 2'], srv.describe()
    assert sorted(_status_flags(client)) == [1]


def _qresync_pair_deleted(client, servers, mailgen):
    """As _delete_uid2, with a server that has QRESYNC (it reports expunges as VANISHED)."""
    inbox = dict(enumerate(msgs(mailgen, 2), 1))
    s1 = [*modseq_session('INBOX', 2, 3, 10), fetch_flags({1: (), 2: ()}), fetch_bodies(inbox)]
    srv = servers(s1, caps=MODSEQ_CAPS)
    client.configure(srv)
    check_run(client.run(), srv, status=0)
    victim = [m for m in md.read_folder(client.maildir, 'INBOX') if m.uid == 2][0]
    md.delete(victim.path)


@pytest.mark.parametrize('first_report', [b'', b'* VANISHED 2\r\n'],
                         ids=['not-reported', 'reported'])
def test_expunge_with_qresync_is_confirmed_by_vanished(client, servers, mailgen, first_report):
    """With QRESYNC the server names what it expunged (VANISHED): a UID it names is
    done with one UID EXPUNGE; one it does not name is expunged again, and recorded once
    named."""
    _qresync_pair_deleted(client, servers, mailgen)
    s2 = [*modseq_session('INBOX', 2, 3, 10),
          Step(r'UID STORE 2 \+FLAGS\.SILENT \(\\Deleted\)', ok()),
          Step(r'UID EXPUNGE 2', first_report, ok('Expunge completed'))]
    if not first_report:
        s2.append(Step(r'UID EXPUNGE 2', b'* VANISHED 2\r\n', ok('Expunge completed')))
    srv = servers(s2, caps=MODSEQ_CAPS)
    client.configure(srv)
    check_run(client.run(), srv, status=0)
    assert not srv.all_unexpected(), srv.describe()
    assert _expunges(srv) == ['UID EXPUNGE 2'] * (1 if first_report else 2), srv.describe()
    assert sorted(_status_flags(client)) == [1]


def _never_reported(search_answer: bytes) -> list[Step]:
    """The second run of _delete_uid2 against a server that reports no expunge of UID 2,
    asked twice, then answers its lookup with search_answer."""
    return [*login(), *list_folders(['INBOX']), select('INBOX', 2, uidnext=3),
            fetch_flags({1: (), 2: ()}),
            Step(r'UID STORE 2 \+FLAGS\.SILENT \(\\Deleted\)', ok()),
            Step(r'UID EXPUNGE 2', ok('Expunge completed')),
            Step(r'UID EXPUNGE 2', ok('Expunge completed')),
            Step(r'UID SEARCH UID 2', search_answer, ok('Search completed'))]


def test_expunge_never_done_keeps_the_row(client, servers, mailgen):
    """A server that answers OK to UID EXPUNGE twice and still holds the message: the
    folder fails naming the UID, and the status row stays, so the message is neither
    downloaded again nor forgotten; the next run deletes it again."""
    _delete_uid2(client, servers, mailgen)
    srv = servers(_never_reported(b'* SEARCH 2\r\n'))
    client.configure(srv)
    m = client.run()
    check_run(m, srv, status=1)
    assert not srv.all_unexpected(), srv.describe()
    assert_line_names(error_lines(m), m, 'INBOX', 'UID 2', 'still holds')
    assert sorted(_status_flags(client)) == [1, 2], 'an expunge the server did not do was recorded'
    assert sorted(u for u in client.by_uid('INBOX') if u is not None) == [1]


def test_expunge_of_a_message_already_gone(client, servers, mailgen):
    """No report for a UID another client had expunged already: the lookup finds it
    gone, and the deletion is recorded."""
    _delete_uid2(client, servers, mailgen)
    srv = servers(_never_reported(b'* SEARCH\r\n'))
    client.configure(srv)
    check_run(client.run(), srv, status=0)
    assert not srv.all_unexpected(), srv.describe()
    assert sorted(_status_flags(client)) == [1]
