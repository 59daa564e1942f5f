"""The blinkenlights (curses) interface in a real terminal: tmux runs our binary against
a private Dovecot, capture-pane reads the screen, send-keys presses the keys.

What the screen must show (offlineimap's Curses.Blinkenlights layout, the manual's
colours): the banner line at the top, the log pane with the sync's messages in the
colour of the light of the thread that spoke, and at the bottom one row per account,
"N: [active]  <account>: " followed by one '@' light per thread; the password dialog
when no password is configured; a new layout after a resize; and the terminal given
back (alternate screen left, echo and canonical mode on) when the run ends or 'q' is
pressed; with autorefresh, the countdown in the account row and the key that syncs the
account at once (test_countdown_and_sync_now_key).
"""

from __future__ import annotations

import re
import time

import pytest

from harness import maildir as md
from harness import runner
from harness.daemon import lock_path
from harness.tmux import Tmux, available, shell_quote

pytestmark = pytest.mark.skipif(not available(), reason='tmux is not installed')

BANNER_KEYS = 'keys: 0-9 sync account now, q quit'
# The manual's colours as 256-colour palette entries (ui_bl_draw.c), and black.
ORANGE, PURPLE, GRAY, CYAN, BLACK = '208', '129', '248', '51', '0'


@pytest.fixture
def tmux():
    t = Tmux(width=100, height=24)
    yield t
    t.close()


def start(oimap: runner.Setup, tmux: Tmux, *args: str, env: dict | None = None) -> None:
    """Run our binary with -u blinkenlights in the tmux pane. The pane shows BEFORE-START
    first; after the run EXIT=<status> and the terminal modes (stty)."""
    if not oimap.config.exists():
        oimap.write_config()
    exports = {'HOME': oimap.workdir, 'LC_ALL': 'C.UTF-8', 'TERM': 'tmux-256color'}
    exports.update(env or {})
    lines = ['#!/bin/sh', f'cd {shell_quote(oimap.workdir)}']
    lines += [f'export {k}={shell_quote(v)}' for k, v in exports.items()]
    cmd = ' '.join(shell_quote(a) for a in [oimap.binary, '-c', oimap.config, '-u',
                                            'blinkenlights', *args])
    lines += ['echo BEFORE-START',
              f'{cmd} 2>{shell_quote(oimap.workdir / "stderr.txt")}',
              'echo "EXIT=$?"',
              "stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(echo|icanon)$' | tr '\\n' ' '",
              'echo; echo MODES-DONE',
              'exec sleep 600']
    tmux.run_script('\n'.join(lines) + '\n')


def stderr_of(oimap: runner.Setup) -> str:
    p = oimap.workdir / 'stderr.txt'
    return p.read_text(errors='replace') if p.exists() else ''


def check_restored(tmux: Tmux, oimap: runner.Setup) -> tuple[int, list[str]]:
    """After the run: the terminal is back (normal screen, sane modes). Returns the exit
    status and the pane's lines."""
    s = tmux.wait_text('MODES-DONE', timeout=30)
    err = stderr_of(oimap)
    for marker in runner.SANITIZER_MARKERS:
        assert marker not in err, err
    m = re.search(r'^EXIT=(\d+)$', s.text, re.M)
    assert m, s.text
    modes = s.lines[s.find('EXIT=') + 1].split()
    assert 'echo' in modes and 'icanon' in modes, \
        f'the terminal is left without echo or line editing: {modes}\n{s.text}'
    assert s.lines[0] == 'BEFORE-START', \
        f'the alternate screen was not left (the normal screen is not back):\n{s.text}'
    assert BANNER_KEYS not in s.text, f'the curses screen is still there:\n{s.text}'
    return int(m.group(1)), s.lines


def rows(s) -> tuple[str, str]:
    """The account rows: (*Control, Test), from the bottom of the screen."""
    control = s.lines[-1] if s.lines else ''
    test = s.lines[-2] if len(s.lines) > 1 else ''
    return control, test


def colour_of(cells, text: str) -> str:
    """The foreground colour of the first character of the line containing text."""
    for row in cells:
        line = ''.join(c for c, _fg, _b in row)
        i = line.find(text)
        if i >= 0:
            return row[i][1]
    raise AssertionError(f'no line with {text!r}')


def lights(cells, row_text: str) -> list[str]:
    """The colours of the '@' lights in the account row starting with row_text."""
    for row in cells:
        line = ''.join(c for c, _fg, _b in row)
        if line.startswith(row_text):
            start = line.index(': ', line.index(']')) + 2
            return [fg for c, fg, _b in row[start:] if c == '@']
    raise AssertionError(f'no row {row_text!r}')


@pytest.mark.threads
def test_screen_during_a_sync_then_q(oimap, dovecot, mailgen, tmux):
    dovecot.create('Sub')
    uids = [dovecot.append('INBOX', mailgen.plain()) for _ in range(3)]
    dovecot.append('Sub', mailgen.plain())
    # The post-sync hook holds the run on screen after the sync, until the test lets it
    # go. Two connections: the folders are synced by two worker threads, each with its
    # light.
    release = oimap.workdir / 'release'
    (oimap.workdir / 'hold.sh').write_text(
        f'while [ ! -e {shell_quote(release)} ]; do sleep 0.1; done\n')
    hook = 'sh hold.sh'  # run in the work directory (start() goes there)
    oimap.write_config(account_opts={'postsynchook': hook},
                       remote_opts={'maxconnections': 2})
    log = oimap.workdir / 'run.log'
    start(oimap, tmux, '-o', '-l', str(log))
    s = tmux.wait_text(f'Calling hook: {hook}')

    assert s.lines[0].startswith('OfflineIMAP ') and s.lines[0].rstrip().endswith(BANNER_KEYS), \
        f'banner line:\n{s.text}'
    for want in ('*** Processing account Test',
                 f'Establishing connection to {dovecot.host}:{dovecot.port} (Test-Remote)',
                 'Syncing INBOX: IMAP -> Maildir', 'Syncing Sub: IMAP -> Maildir',
                 'Copy message UID 3 (3/3) Test-Remote:INBOX -> Test-Local:INBOX',
                 'Copy message UID 1 (1/1) Test-Remote:Sub -> Test-Local:Sub'):
        assert s.find(want) > 0, f'{want!r} is not in the log pane:\n{s.text}'
    control, test = rows(s)
    assert re.fullmatch(r'0: \[active\]     \*Control: @+ *', control), s.text
    m = re.fullmatch(r'1: \[active\]         Test: (@+) *', test)
    assert m and len(m.group(1)) == 3, \
        f'the Test row has a light for the account thread and one per folder worker:\n{s.text}'

    # Colours: log lines in the colour of their light; the lights themselves.
    c = tmux.colours()
    assert colour_of(c, 'Copy message UID 3 (3/3)') == ORANGE, 'copying is orange'
    assert colour_of(c, '*** Processing account Test') == PURPLE, 'the account thread: purple'
    assert colour_of(c, 'Establishing connection') == GRAY, 'connecting is gray'
    assert colour_of(c, 'Syncing INBOX: IMAP -> Maildir') == CYAN, 'syncing a folder is cyan'
    assert colour_of(c, 'Calling hook: ') == GRAY, 'a hook is gray'
    test_lights = lights(c, '1: [active]')
    assert test_lights == [GRAY, BLACK, BLACK], \
        f'the account thread runs the hook (gray), the folder workers ended (black): ' \
        f'{test_lights}'
    assert sorted(m.uid for m in md.read_folder(oimap.maildir, 'INBOX')) == uids

    # 'q' asks the run to stop (as SIGTERM: what is running finishes, nothing new
    # starts); the screen stays until the run ends, then the terminal is given back.
    tmux.keys('q')
    tmux.wait_text("Requested shutdown via 'q'")
    release.touch()
    status, lines = check_restored(tmux, oimap)
    assert status == 0, '\n'.join(lines) + stderr_of(oimap)
    text = log.read_text()
    assert "WARNING: Requested shutdown via 'q'" in text, text


@pytest.mark.threads
def test_second_q_exits_at_once(oimap, dovecot, mailgen, tmux):
    """'q' while a long hook runs waits for it, as offlineimap does; the banner then says
    that a second 'q' exits at once, and it does, as a third SIGINT: the terminal given
    back, the account's lock file removed, nothing left in a Maildir's tmp/, and the next
    run in sync."""
    uids = [dovecot.append('INBOX', mailgen.plain()) for _ in range(3)]
    release = oimap.workdir / 'release'
    (oimap.workdir / 'hold.sh').write_text(
        f'while [ ! -e {shell_quote(release)} ]; do sleep 0.1; done\n')
    hook = 'sh hold.sh'
    oimap.write_config(account_opts={'postsynchook': hook})
    log = oimap.workdir / 'run.log'
    lock = lock_path(oimap)
    start(oimap, tmux, '-o', '-l', str(log))
    try:
        tmux.wait_text(f'Calling hook: {hook}')
        assert lock.exists(), 'the account is locked while its hook runs'
        s = tmux.screen()
        assert s.lines[0].rstrip().endswith(BANNER_KEYS), s.text

        tmux.keys('q')
        # The new banner comes with a full repaint (clear, then top to bottom): a capture
        # can catch it half drawn (seen: banner and two log lines), so wait for both.
        s = tmux.wait_for(lambda s: s.lines and
                          s.lines[0].rstrip().endswith('stopping: q again exits at once')
                          and s.find("Requested shutdown via 'q'") > 0,
                          what="the banner telling what a second q does, and the log "
                               "line \"Requested shutdown via 'q'\"")
        assert s.find("Requested shutdown via 'q'") > 0, s.text
        # The first 'q' waits for the hook: the run goes on.
        time.sleep(0.5)
        s = tmux.screen()
        assert 'EXIT=' not in s.text and s.lines[0].startswith('OfflineIMAP '), s.text

        tmux.keys('q')
        # It ends while the hook still holds the run (the test has not released it).
        status, lines = check_restored(tmux, oimap)
        assert not release.exists()
        assert status == 1, '\n'.join(lines) + stderr_of(oimap)
        text = log.read_text()
        assert "WARNING: Requested immediate shutdown via 'q'" in text, text
        assert not lock.exists(), 'the emergency exit removes the lock file'
        left = [p for p in oimap.maildir.rglob('*') if p.is_file() and p.parent.name == 'tmp']
        assert not left, f'files left in tmp/: {left}'
        assert sorted(m.uid for m in md.read_folder(oimap.maildir, 'INBOX')) == uids
    finally:
        release.touch()
    # What the emergency exit left converges: the next run has nothing to fix.
    oimap.write_config()
    r = oimap.sync()
    assert 'Copy message' not in r.stdout + r.stderr, runner.describe(r)
    oimap.assert_in_sync()


@pytest.mark.threads
@pytest.mark.novalgrind  # the dialog is awaited with timings Valgrind stretches
def test_password_dialog_and_resize(oimap, dovecot, mailgen, tmux):
    uids = [dovecot.append('INBOX', mailgen.plain()) for _ in range(2)]
    oimap.write_config(remote_opts={'remotepass': None})
    start(oimap, tmux, '-o')
    s = tmux.wait_text("Please enter password for user 'test':")
    top = s.find('Input Required ')
    assert top > 0 and '┌' in s.lines[top], f'a dialog box:\n{s.text}'
    assert s.find(' *** Input Required') > 0, f'the log pane says so too:\n{s.text}'

    # A smaller terminal: everything is laid out again for it, dialog included.
    tmux.resize(70, 16)
    s = tmux.wait_for(lambda s: len(s.lines) == 16 and s.lines[-1].startswith('0: [active]')
                      and "Please enter password for user 'test':" in s.text,
                      what='the layout for 70x16')
    assert all(len(ln) <= 70 for ln in s.lines), s.text
    assert s.lines[0].startswith('OfflineIMAP '), s.text
    assert s.lines[-2].startswith('1: [active]         Test: @'), s.text

    pw = dovecot.password()
    tmux.keys(pw, literal=True)
    s = tmux.screen()
    assert pw not in s.text, 'the password is not echoed'
    tmux.keys('Enter')
    status, lines = check_restored(tmux, oimap)
    assert status == 0, '\n'.join(lines) + stderr_of(oimap)
    assert pw not in '\n'.join(lines)
    # After the screen, offlineimap's Blinkenlights prints the banner on stdout.
    i = lines.index('BEFORE-START')
    assert lines[i + 1].startswith('OfflineIMAP ') and lines[i + 2].startswith('  Licensed'), \
        '\n'.join(lines)
    assert sorted(m.uid for m in md.read_folder(oimap.maildir, 'INBOX')) == uids


def test_no_terminal_falls_back_to_ttyui(oimap, dovecot, mailgen):
    dovecot.append('INBOX', mailgen.plain())
    r = oimap.run('-o', '-u', 'Curses.Blinkenlights')
    assert r.returncode == 0, runner.describe(r)
    assert ('WARNING:root:The blinkenlights interface needs a terminal, and standard output '
            'is not one. Using ttyui instead.') in r.stderr, runner.describe(r)
    assert 'Account sync Test:\n *** Processing account Test\n' in r.stderr, runner.describe(r)


def test_countdown_and_sync_now_key(oimap, dovecot, mailgen, tmux):
    """Needs the daemon loop: autorefresh, the EV_SLEEPING events and the sync-now key."""
    dovecot.append('INBOX', mailgen.plain())
    # autorefresh is in minutes: 0.5 = 30 s between syncs.
    oimap.write_config(account_opts={'autorefresh': '0.5'})
    start(oimap, tmux)
    s = tmux.wait_text('Next sync in 0:30', timeout=30)
    s = tmux.wait_for(lambda s: re.match(r'1: \[  0:[0-3]\d\]         Test: @', s.lines[-2]),
                      what='the countdown in the Test row')
    first = int(re.match(r'1: \[  0:(\d\d)\]', s.lines[-2]).group(1))
    s = tmux.wait_for(lambda s: (m := re.match(r'1: \[  0:(\d\d)\]', s.lines[-2]))
                      and int(m.group(1)) < first, what='the countdown going down')
    uid = dovecot.append('INBOX', mailgen.plain())
    t0 = time.monotonic()
    tmux.keys('1')
    s = tmux.wait_text('Requested synchronization for acc: Test')
    s = tmux.wait_text(f'Copy message UID {uid} (1/1) Test-Remote:INBOX -> Test-Local:INBOX',
                       timeout=10)
    assert time.monotonic() - t0 < 10 * runner.timeout_scale(), 'the key syncs at once'
    tmux.keys('q')
    status, lines = check_restored(tmux, oimap)
    assert status == 0, '\n'.join(lines) + stderr_of(oimap)
