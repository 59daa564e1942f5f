"""Our binary as a long-running daemon, watched through its machineui output.

    d = start_daemon(setup)  # a DaemonProc for a runner.Setup, started
    d.wait_for(lambda ev: ev.cmd == 'sleeping' and ev.fields[0] != '0')
    d.signal(signal.SIGUSR1)
    d.wait_for(lambda ev: ev.cmd == 'acct', after=mark)
    rc = d.stop()            # SIGTERM, wait, return the exit status

The process runs with `-u machineui` (unless other arguments choose a UI) and HOME
set to the config's directory. A reader thread decodes every stdout line
("<severity>:<command>:<thread>:<payload>", quote_plus-encoded) into an Event with a
monotonic timestamp; stderr is collected as text. wait_for() waits for the first event
(after a given index) that satisfies a predicate and returns its index, or raises
AssertionError with the tail of the output on timeout.

Also the helpers the daemon tests share: wait_until() (polling with a scaled
deadline), lock_path(), local_count() (messages in a local folder), rss_kb().
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import unquote_plus

from .runner import SANITIZER_MARKERS, timeout_scale


@dataclass
class Event:
    t: float          # time.monotonic() when the line was read
    severity: str     # msg, warn, error, debug, ...
    cmd: str          # '' for plain messages
    thread: str
    payload: str
    raw: str

    @property
    def fields(self) -> list[str]:
        return self.payload.split('\n')


def parse_line(line: str, t: float) -> Event | None:
    parts = line.split(':', 3)
    if len(parts) != 4:
        return None
    sev, cmd, thread, payload = parts
    return Event(t, sev, cmd, unquote_plus(thread), unquote_plus(payload), line)


class DaemonProc:
    def __init__(self, binary: str | os.PathLike, config: str | os.PathLike, *args: str,
                 env: dict | None = None, ui: str = 'machineui'):
        self.binary = Path(binary)
        self.config = Path(config)
        self.args = list(args)
        if ui and '-u' not in self.args:
            self.args = ['-u', ui] + self.args
        self.env = dict(os.environ if env is None else env)
        self.env['HOME'] = str(self.config.resolve().parent)
        self.env.setdefault('LC_ALL', 'C.UTF-8')
        self.events: list[Event] = []
        self.lines: list[str] = []
        self.stderr = ''
        self.proc: subprocess.Popen | None = None
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self.returncode: int | None = None

    # ---------------------------------------------------------------- running

    def start(self) -> 'DaemonProc':
        self.proc = subprocess.Popen([str(self.binary), '-c', str(self.config), *self.args],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=self.env, text=True,
                                     errors='replace', bufsize=1)
        for target in (self._read_out, self._read_err):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _read_out(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            line = line.rstrip('\n')
            ev = parse_line(line, time.monotonic())
            with self._cond:
                self.lines.append(line)
                if ev:
                    self.events.append(ev)
                self._cond.notify_all()

    def _read_err(self) -> None:
        assert self.proc and self.proc.stderr
        for chunk in self.proc.stderr:
            with self._cond:
                self.stderr += chunk
                self._cond.notify_all()

    @property
    def pid(self) -> int:
        assert self.proc
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signo: int) -> None:
        assert self.proc
        self.proc.send_signal(signo)

    def wait(self, timeout: float = 30) -> int:
        """Wait for the process to end (timeout scaled); returns its exit status."""
        assert self.proc
        self.returncode = self.proc.wait(timeout=timeout * timeout_scale())
        for t in self._threads:
            t.join(timeout=5)
        self.check_sanitizers()
        return self.returncode

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (if still running) and wait."""
        if self.alive():
            self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def check_sanitizers(self) -> None:
        for marker in SANITIZER_MARKERS:
            if marker in self.stderr:
                raise AssertionError(f'{marker!r} in the daemon stderr:\n{self.stderr[-8000:]}')

    # ---------------------------------------------------------------- watching

    def mark(self) -> int:
        """The index of the next event: pass it as `after` to wait for later events."""
        with self._cond:
            return len(self.events)

    def wait_for(self, pred: Callable[[Event], bool], timeout: float = 20, after: int = 0,
                 what: str = 'an event') -> int:
        """Index of the first event at or after `after` satisfying pred (timeout scaled)."""
        end = time.monotonic() + timeout * timeout_scale()
        with self._cond:
            i = after
            while True:
                while i < len(self.events):
                    if pred(self.events[i]):
                        return i
                    i += 1
                left = end - time.monotonic()
                if left <= 0 or (self.proc is not None and self.proc.poll() is not None
                                 and i >= len(self.events)):
                    if self.proc is not None and self.proc.poll() is not None:
                        # the reader may still be draining: one last look
                        self._cond.wait(0.2)
                        if i < len(self.events):
                            continue
                    raise AssertionError(f'timed out waiting for {what}\n{self.describe()}')
                self._cond.wait(min(left, 0.5))

    def wait_cmd(self, cmd: str, timeout: float = 20, after: int = 0, **kw) -> int:
        return self.wait_for(lambda ev: ev.cmd == cmd, timeout, after, what=f'{cmd!r}', **kw)

    def wait_sleeping(self, timeout: float = 20, after: int = 0) -> int:
        """The start of a sleep between syncs (a 'sleeping' line with time left)."""
        return self.wait_for(lambda ev: ev.cmd == 'sleeping' and ev.fields[0] != '0',
                             timeout, after, what='a sleep between syncs')

    def count(self, cmd: str, after: int = 0) -> int:
        with self._cond:
            return sum(1 for ev in self.events[after:] if ev.cmd == cmd)

    def texts(self, after: int = 0) -> list[str]:
        with self._cond:
            return [ev.payload for ev in self.events[after:]]

    def describe(self) -> str:
        with self._cond:
            out = '\n'.join(self.lines[-80:])
            err = self.stderr[-4000:]
        rc = self.proc.poll() if self.proc else None
        return f'exit status {rc}\n--- stdout (last lines):\n{out}\n--- stderr:\n{err}'


def start_daemon(setup, *args: str, **kw) -> DaemonProc:
    """A started DaemonProc for a runner.Setup's binary and configuration."""
    return DaemonProc(setup.binary, setup.config, *args, **kw).start()


def lock_path(setup) -> Path:
    """The account lock file offlineimap and we share (<metadata>/<account>.lock)."""
    return setup.metadata / f'{setup.account}.lock'


def wait_until(pred: Callable[[], object], timeout: float, what: str, step: float = 0.05):
    """pred()'s first true value, polled every `step` s; AssertionError after `timeout`
    seconds (scaled, see runner.timeout_scale)."""
    end = time.monotonic() + timeout * timeout_scale()
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f'timed out after {timeout} s waiting for {what}')


def local_count(setup, folder: str = 'INBOX') -> int:
    """Messages in a local folder (new/ and cur/), 0 when it does not exist yet."""
    d = setup.local_folder(folder)
    if not d.exists():
        return 0
    return sum(1 for sub in ('new', 'cur') for _ in (d / sub).iterdir())


def rss_kb(pid: int) -> int:
    """A process's resident set size (VmRSS) in KiB, 0 when /proc does not say."""
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0
