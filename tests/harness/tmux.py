"""A real terminal for tests of the curses interface: a private tmux server.

    t = Tmux(width=100, height=24)
    t.run_script(script_text)            # runs in the session's only pane
    t.wait_for(lambda s: 'Next sync' in s.text)
    t.keys('q'); t.keys('secret', literal=True); t.keys('Enter')
    lines = t.screen().lines             # what the terminal shows, one str per row
    colours = t.screen(escapes=True)     # the same with SGR sequences (capture-pane -e)
    t.close()

The server has its own socket under /tmp (short path: unix socket paths are limited to
108 bytes), no configuration file (-f /dev/null) and a fixed size; nothing of the
user's tmux is touched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .runner import timeout_scale


@dataclass
class Screen:
    lines: list[str]

    @property
    def text(self) -> str:
        return '\n'.join(self.lines)

    def find(self, needle: str) -> int:
        """Index of the first line containing needle, or -1."""
        for i, ln in enumerate(self.lines):
            if needle in ln:
                return i
        return -1


_SGR = re.compile(r'\x1b\[([0-9;]*)m')


def cells(escaped: list[str]) -> list[list[tuple[str, str, bool]]]:
    """capture-pane -e lines as cells (char, foreground, bold). tmux writes an SGR
    sequence only where the attributes change, also across lines, so the state is
    carried from line to line. Foreground: 'default', '0'-'255' (256-colour palette;
    the 8 basic colours as 0-7)."""
    fg, bold = 'default', False
    out = []
    for ln in escaped:
        row = []
        pos = 0
        for m in _SGR.finditer(ln):
            row.extend((ch, fg, bold) for ch in ln[pos:m.start()])
            pos = m.end()
            params = [p for p in m.group(1).split(';')] if m.group(1) else ['0']
            i = 0
            while i < len(params):
                p = params[i]
                if p in ('0', ''):
                    fg, bold = 'default', False
                elif p == '1':
                    bold = True
                elif p == '22':
                    bold = False
                elif p == '39':
                    fg = 'default'
                elif p == '38' and i + 2 < len(params) and params[i + 1] == '5':
                    fg = params[i + 2]
                    i += 2
                elif len(p) == 2 and p[0] == '3' and p[1] in '01234567':
                    fg = p[1]
                elif len(p) == 2 and p[0] == '9' and p[1] in '01234567':
                    fg = str(8 + int(p[1]))
                i += 1
        row.extend((ch, fg, bold) for ch in ln[pos:])
        out.append(row)
    return out


class Tmux:
    def __init__(self, width: int = 100, height: int = 24):
        self.dir = Path(tempfile.mkdtemp(prefix='oimap-tmux-', dir='/tmp'))
        self.sock = str(self.dir / 's')
        self.width, self.height = width, height
        self.started = False

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(['tmux', '-S', self.sock, '-f', '/dev/null', *args],
                              capture_output=True, text=True, check=check, timeout=30)

    def run_script(self, text: str) -> Path:
        """Write `text` as a shell script and start it in a new session."""
        script = self.dir / 'run.sh'
        script.write_text(text)
        script.chmod(0o755)
        self._tmux('new-session', '-d', '-s', 't', '-x', str(self.width), '-y',
                   str(self.height), str(script))
        self.started = True
        return script

    def colours(self) -> list[list[tuple[str, str, bool]]]:
        """The screen as cells (char, foreground, bold); see cells()."""
        return cells(self.screen(escapes=True).lines)

    def screen(self, escapes: bool = False) -> Screen:
        args = ['capture-pane', '-p', '-t', 't']
        if escapes:
            args.insert(2, '-e')
        out = self._tmux(*args).stdout
        lines = out.split('\n')
        if lines and lines[-1] == '':
            lines.pop()
        return Screen(lines)

    def wait_for(self, pred: Callable[[Screen], bool], timeout: float = 20.0,
                 what: str = '') -> Screen:
        """Poll the screen until pred(screen) holds; AssertionError after `timeout`
        seconds (scaled by timeout_scale()) with the last screen in the message."""
        deadline = time.monotonic() + timeout * timeout_scale()
        while True:
            s = self.screen()
            if pred(s):
                return s
            if time.monotonic() > deadline:
                raise AssertionError(f'timed out waiting for {what or pred}; the screen:\n'
                                     + s.text)
            time.sleep(0.1)

    def wait_text(self, needle: str, timeout: float = 20.0) -> Screen:
        return self.wait_for(lambda s: needle in s.text, timeout, repr(needle))

    def keys(self, *keys: str, literal: bool = False) -> None:
        args = ['send-keys', '-t', 't']
        if literal:
            args.append('-l')
        self._tmux(*args, *keys)

    def resize(self, width: int, height: int) -> None:
        self._tmux('resize-window', '-t', 't', '-x', str(width), '-y', str(height))
        self.width, self.height = width, height

    def close(self) -> None:
        if self.started:
            self._tmux('kill-server', check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def available() -> bool:
    return shutil.which('tmux') is not None


def shell_quote(s: str | os.PathLike) -> str:
    return "'" + str(s).replace("'", "'\\''") + "'"
