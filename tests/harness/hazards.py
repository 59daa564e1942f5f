"""Helpers for the local-hazard tests: small tmpfs mounts, filling a file system.

    with Tmpfs(path, '2m') as fs:      # pytest.skip()s when mounting is not permitted
        ...
        fs.resize('16m')               # remount with a new size, contents kept
    fill(path)                         # write a ballast file until ENOSPC; returns it
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest


def _run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)


class Tmpfs:
    """A tmpfs of `size` (mount(8) syntax: '2m', '512k') mounted on `path` (created if
    missing). Unmounted (lazily if busy) on exit. Skips the test when mount is not
    available or not permitted (not root, no CAP_SYS_ADMIN, in a restricted container)."""

    def __init__(self, path: str | os.PathLike, size: str, *, mode: str = '0700'):
        self.path = Path(path)
        self.size = size
        self.mode = mode
        self.mounted = False

    def mount(self) -> 'Tmpfs':
        if shutil.which('mount') is None:
            pytest.skip('mount(8) is not installed')
        if os.geteuid() != 0:
            pytest.skip('mounting a tmpfs needs root')
        self.path.mkdir(parents=True, exist_ok=True)
        r = _run('mount', '-t', 'tmpfs', '-o', f'size={self.size},mode={self.mode}',
                 'oimap-hazard', str(self.path))
        if r.returncode != 0:
            pytest.skip(f'cannot mount a tmpfs on {self.path}: {r.stderr.strip()}')
        self.mounted = True
        return self

    def resize(self, size: str) -> None:
        """Remount with another size; the contents stay."""
        r = _run('mount', '-o', f'remount,size={size}', str(self.path))
        if r.returncode != 0:
            raise RuntimeError(f'cannot remount {self.path} with size={size}: {r.stderr}')
        self.size = size

    def free_bytes(self) -> int:
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def umount(self) -> None:
        if not self.mounted:
            return
        r = _run('umount', str(self.path))
        if r.returncode != 0:
            _run('umount', '-l', str(self.path))
        self.mounted = False

    def __enter__(self) -> 'Tmpfs':
        return self.mount()

    def __exit__(self, *exc) -> None:
        self.umount()


def fill(directory: str | os.PathLike, *, leave: int = 0, name: str = '.ballast') -> Path:
    """Write zeros into directory/name until the file system is full, then give back
    about `leave` bytes (truncating the ballast). Returns the ballast's path."""
    path = Path(directory) / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 65536, 4096, 512, 1):
            block = b'\0' * size
            while True:
                try:
                    os.write(fd, block)
                except OSError as ex:
                    if ex.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    if leave:
        size = path.stat().st_size
        os.truncate(path, max(0, size - leave))
    return path
