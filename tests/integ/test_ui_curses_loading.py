"""ncurses is loaded when the blinkenlights interface starts (src/ui/ui_curses_dl.c), not
at start-up: a run with any other interface never maps libncursesw nor libtinfo, and a
library that cannot be loaded makes the curses interface fall back to ttyui, as when there
is no terminal, with a message naming the library and the package to install."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness import maildir as md
from harness.runner import our_binary
from harness.tmux import Tmux, available
from test_ui_curses import check_restored, start, stderr_of

CURSES_LIBS = ('libncursesw', 'libtinfo')


def needed(binary) -> list[str]:
    out = subprocess.run(['readelf', '-d', str(binary)], capture_output=True, text=True,
                         check=True).stdout
    return [ln.split('[')[1].rstrip(']') for ln in out.splitlines() if '(NEEDED)' in ln]


def ld_trace_env(trace_dir: Path, base: dict | None = None) -> dict:
    """The dynamic loader's trace of every library it maps (LD_DEBUG=files), one file per
    process in trace_dir."""
    trace_dir.mkdir(exist_ok=True)
    env = dict(os.environ if base is None else base)
    env['LD_DEBUG'] = 'files'
    env['LD_DEBUG_OUTPUT'] = str(trace_dir / 'ld')
    return env


def program_trace(trace_dir: Path, binary) -> str:
    """The trace of our binary's process (not of the shell tools tmux runs around it)."""
    mine = [p.read_text(errors='replace') for p in sorted(trace_dir.glob('ld.*'))]
    mine = [t for t in mine if f'needed by {binary} ' in t]
    assert mine, f'no trace of {binary} in {trace_dir}'
    return '\n'.join(mine)


def mapped(trace: str) -> list[str]:
    """The libraries the trace shows loaded: 'file=<name> [...];  needed by|dynamically
    loaded by ...' lines."""
    return sorted({ln.split('file=', 1)[1].split(' ', 1)[0] for ln in trace.splitlines()
                   if 'file=' in ln and ('needed by' in ln or 'dynamically loaded by' in ln)})


# These read the program file, or the dynamic loader's trace of the program itself.
pytestmark = pytest.mark.novalgrind


def test_the_program_is_not_linked_with_ncurses():
    libs = needed(our_binary())
    assert not any(lib.startswith(CURSES_LIBS) for lib in libs), libs
    out = subprocess.run(['nm', '-D', '--undefined-only', str(our_binary())],
                         capture_output=True, text=True, check=True).stdout
    assert 'NCURSES' not in out and ' stdscr' not in out and ' newterm' not in out, \
        [ln for ln in out.splitlines() if 'CURSES' in ln]


@pytest.mark.parametrize('ui', ['quiet', 'basic', 'ttyui', 'machineui', 'blinkenlights'])
def test_a_run_without_the_curses_screen_maps_no_ncurses(oimap, dovecot, mailgen, tmp_path,
                                                         ui):
    """A no-change run with every interface but a curses screen (blinkenlights without a
    terminal falls back to ttyui before it loads anything)."""
    dovecot.append('INBOX', mailgen.plain())
    oimap.sync()
    trace_dir = tmp_path / 'trace'
    r = oimap.run('-o', '-u', ui, env=ld_trace_env(trace_dir))
    assert r.returncode == 0, r.stderr
    libs = mapped(program_trace(trace_dir, oimap.binary))
    assert any(lib.startswith('libc.so') for lib in libs), f'the trace is read: {libs}'
    assert not any(lib.startswith(CURSES_LIBS) for lib in libs), libs
    if ui == 'blinkenlights':
        assert 'needs a terminal' in r.stderr and 'Using ttyui instead.' in r.stderr, r.stderr


needs_tmux = pytest.mark.skipif(not available(), reason='tmux is not installed')


@pytest.fixture
def tmux():
    t = Tmux(width=100, height=24)
    yield t
    t.close()


@needs_tmux
@pytest.mark.threads
def test_the_curses_screen_loads_ncurses(oimap, dovecot, mailgen, tmp_path, tmux):
    uid = dovecot.append('INBOX', mailgen.plain())
    trace_dir = tmp_path / 'trace'
    trace_dir.mkdir()
    start(oimap, tmux, '-o', env={'LD_DEBUG': 'files',
                                  'LD_DEBUG_OUTPUT': str(trace_dir / 'ld')})
    status, lines = check_restored(tmux, oimap)
    assert status == 0, '\n'.join(lines) + stderr_of(oimap)
    trace = program_trace(trace_dir, oimap.binary)
    # dlopen()ed (by the program, or by the sanitizer runtime that intercepts dlopen).
    assert any(ln.startswith('file=libncursesw.so.6 ') and 'dynamically loaded by ' in ln
               for ln in (x.split('\t', 1)[-1] for x in trace.splitlines())), trace[-3000:]
    assert 'libtinfo.so.6' in mapped(trace), mapped(trace)
    assert [m.uid for m in md.read_folder(oimap.maildir, 'INBOX')] == [uid]


@needs_tmux
@pytest.mark.threads
def test_a_broken_ncurses_falls_back_to_ttyui(oimap, dovecot, mailgen, tmp_path, tmux):
    """A libncursesw.so.6 that is not a library, first on LD_LIBRARY_PATH: the run goes on
    with ttyui and says which library and which package."""
    uid = dovecot.append('INBOX', mailgen.plain())
    bad = tmp_path / 'badlib'
    bad.mkdir()
    (bad / 'libncursesw.so.6').write_bytes(b'not an ELF file\n')
    start(oimap, tmux, '-o', env={'LD_LIBRARY_PATH': str(bad)})
    status, lines = check_restored(tmux, oimap)
    err = stderr_of(oimap)
    assert status == 0, '\n'.join(lines) + err
    first = err.splitlines()[0] if err else ''
    assert first.startswith('WARNING:root:ncurses (libncursesw.so.6), which draws the '
                            'blinkenlights interface, cannot be loaded: '), err
    assert str(bad / 'libncursesw.so.6') in first, 'the reason names the file'
    assert first.endswith('Install it (Debian: the libncursesw6 package) and run again. '
                          'Using ttyui instead.'), err
    # ttyui's output, on stderr as offlineimap's ttyui writes it.
    assert 'Account sync Test:\n *** Processing account Test\n' in err, err
    assert [m.uid for m in md.read_folder(oimap.maildir, 'INBOX')] == [uid]
