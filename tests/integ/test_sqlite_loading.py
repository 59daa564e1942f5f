"""SQLite is loaded when the first status database is opened, not at start-up:
a run where nothing changed never maps it (nor libm, which it brings), and a
missing or broken library is an error that says what to do."""
import os
import subprocess
import time

import pytest

from harness.runner import our_binary


def needed(binary):
    out = subprocess.run(['readelf', '-d', str(binary)], capture_output=True, text=True,
                         check=True).stdout
    return [ln.split('[')[1].rstrip(']') for ln in out.splitlines() if '(NEEDED)' in ln]


def seed(dovecot, mailgen):
    dovecot.create('Archive')
    for f in ('INBOX', 'Archive'):
        for _ in range(3):
            dovecot.append(f, mailgen.plain())


def broken_sqlite_env(tmp_path):
    """LD_LIBRARY_PATH with a libsqlite3.so.0 that is not a library: dlopen fails."""
    d = tmp_path / 'badlib'
    d.mkdir(exist_ok=True)
    (d / 'libsqlite3.so.0').write_bytes(b'not an ELF file\n')
    env = dict(os.environ)
    env['LD_LIBRARY_PATH'] = str(d)
    return env


@pytest.mark.novalgrind  # reads the program file
def test_the_program_is_not_linked_with_sqlite():
    libs = needed(our_binary())
    assert not any(lib.startswith('libsqlite3') for lib in libs), libs


def test_a_broken_sqlite_stops_the_sync_with_a_clear_error(dovecot, oimap, mailgen, tmp_path):
    seed(dovecot, mailgen)
    r = oimap.sync(ok=False, env=broken_sqlite_env(tmp_path))
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert 'SQLite (libsqlite3.so.0)' in out and 'cannot be loaded' in out, out
    assert 'libsqlite3-0' in out, 'the message says what to install'
    # Nothing was downloaded without a status to record it in.
    assert not any(oimap.local().get('INBOX', []))
    # With the real library the same account syncs.
    oimap.sync()
    oimap.assert_in_sync()


def test_a_run_without_changes_needs_no_sqlite(dovecot, oimap, mailgen, tmp_path):
    seed(dovecot, mailgen)
    oimap.sync()
    time.sleep(1.2)
    oimap.sync()
    time.sleep(0.2)
    oimap.sync()
    # Every folder is done from the skip list: the broken library is never loaded.
    r = oimap.sync(env=broken_sqlite_env(tmp_path))
    assert r.returncode == 0 and 'cannot be loaded' not in r.stdout + r.stderr
    # A change needs the status again, and the error says so.
    dovecot.append('INBOX', mailgen.plain())
    r = oimap.sync(ok=False, env=broken_sqlite_env(tmp_path))
    assert r.returncode != 0 and 'cannot be loaded' in r.stdout + r.stderr


def test_version_names_the_loaded_sqlite(oimap, tmp_path):
    r = oimap.run('-V')
    assert 'SQLite 3.' in r.stdout, r.stdout
    r = oimap.run('-V', env=broken_sqlite_env(tmp_path))
    assert 'SQLite not loadable' in r.stdout, r.stdout
