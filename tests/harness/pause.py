"""A run paused at a crash point (OIMAP_CRASHPOINT_ACTION=pause:<file>): the binary
creates the file there and waits until it is removed, so a test can change things at
that exact moment."""
from __future__ import annotations

import os
import subprocess
import time
from typing import Callable

from .runner import check_sanitizers, timeout_scale


def paused_run(oimap, point: str, meanwhile: Callable[[], None] | None = None, *,
               debug: str = 'sync,maildir', settle: float = 0.0, config: dict | None = None
               ) -> subprocess.CompletedProcess:
    """One sync (-o -u basic -d debug) paused at the first pass through `point`;
    `meanwhile()` runs there, then after `settle` seconds the run goes on to the end.
    `config`: keyword arguments of oimap.write_config.  Asserts exit status 0."""
    oimap.write_config(**(config or {}))
    pause = oimap.workdir / 'paused'
    env = dict(os.environ, HOME=str(oimap.workdir), LC_ALL='C.UTF-8',
               OIMAP_CRASHPOINT=f'{point}:1', OIMAP_CRASHPOINT_ACTION=f'pause:{pause}')
    p = subprocess.Popen([str(oimap.binary), '-c', str(oimap.config), '-o', '-u', 'basic',
                          '-d', debug], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True, env=env)
    try:
        deadline = time.monotonic() + 60 * timeout_scale()
        while not pause.exists() and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pause.exists(), f'the run never reached {point}'
        if meanwhile:
            meanwhile()
        time.sleep(settle)
        pause.unlink()
        out, err = p.communicate(timeout=60 * timeout_scale())
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    check_sanitizers(r)
    assert r.returncode == 0, out + err
    return r
