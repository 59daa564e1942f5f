"""Folders bigger than a commit batch.

While messages are copied the status is committed every 1024 uploads and every 8192
downloads (eight Maildir batches, whose data syncs run in a helper thread while the
next batch is written).  That commit happens in the middle of the copy, while a
download's UID FETCH is still being read: it must flush only the store written to,
as waiting on the server's connection from inside its own reader hung the run or
desynchronised the parser (seen by the benchmark on folders of 1027-1113 messages).

A kill while a Maildir batch syncs in the background, or while the batch before it is
being renamed into place and recorded, leaves a state the next run completes: every
message once, every one recorded, nothing left to copy.
"""
import os
import random
import signal
import subprocess
import time

import pytest

from harness import maildir as md
from harness import runner

N_UP = 1100          # more than one upload commit (1024)
N_DOWN = 8192 + 108  # more than one download commit (8 x 1024)
N_KILL = 2 * 1024 + 150


def deliver(dovecot, folder, msgs):
    """Messages put straight into the server's Maildir (faster than APPENDs)."""
    for m in msgs:
        dovecot.write_file(folder, m)


@pytest.mark.threads  # the Maildir batches' helper thread
def test_download_of_a_big_folder(dovecot, oimap, mailgen):
    dovecot.create('Big')
    deliver(dovecot, 'Big', (mailgen.plain() for _ in range(N_DOWN)))
    r = oimap.sync(timeout=120)
    assert 'ERROR' not in r.stdout + r.stderr
    oimap.assert_in_sync()
    assert len(oimap.local()['Big']) == N_DOWN
    # Every message recorded: the next run has nothing to do.
    r = oimap.sync('-d', 'imap')
    assert 'BODY.PEEK[]' not in r.stdout + r.stderr
    assert len(oimap.status_rows('Big')) == N_DOWN


def test_upload_of_a_big_folder(dovecot, oimap, mailgen):
    dovecot.create('Big')
    oimap.sync()
    folder = oimap.local_folder('Big')
    for _ in range(N_UP):
        md.add_message(folder, mailgen.plain())
    r = oimap.sync(timeout=90)
    assert 'ERROR' not in r.stdout + r.stderr
    oimap.assert_in_sync()
    assert len(dovecot.flags('Big')) == N_UP
    assert len(oimap.status_rows('Big')) == N_UP


def killed_download(dovecot_factory, tmp_path, our_binary, tag, bodies):
    dc = dovecot_factory()
    setup = runner.Setup(dc, tmp_path / tag, binary=our_binary)
    setup.write_config()
    dc.create('Big')
    deliver(dc, 'Big', bodies)
    return setup


def check_recovered(setup):
    r = setup.sync(ok=False, timeout=120)
    assert r.returncode == 0, 'the run after the kill must succeed:\n' + runner.describe(r)
    setup.assert_in_sync()
    local = setup.local()['Big']
    assert len(local) == N_KILL, f'{len(local)} local messages, not {N_KILL}'
    assert len({m.uid for m in local}) == N_KILL, 'a message is there twice'
    assert len(setup.status_rows('Big')) == N_KILL
    r = setup.sync()
    assert 'Copy message' not in r.stdout, 'a further run must change nothing'


# The first rename of the first batch, once the second is written and waits in tmp/;
# a callback (a status row) of the second batch; a rename of the last, small batch.
@pytest.mark.threads
@pytest.mark.parametrize('point', ['maildir-renamed:1', 'download-durable:1500',
                                   'maildir-tmp-written:2100'])
def test_download_killed_between_batches(point, dovecot_factory, tmp_path, our_binary,
                                         mailgen):
    bodies = [mailgen.plain() for _ in range(N_KILL)]
    setup = killed_download(dovecot_factory, tmp_path, our_binary, point.replace(':', '-'),
                            bodies)
    r = setup.sync(ok=False, timeout=120, env=dict(os.environ, OIMAP_CRASHPOINT=point))
    assert r.returncode == -signal.SIGKILL, f'expected a SIGKILL at {point}\n' + \
        runner.describe(r)
    check_recovered(setup)


def test_download_killed_at_random(dovecot_factory, tmp_path, our_binary, mailgen):
    """SIGKILL from outside at random instants of a download of several batches."""
    bodies = [mailgen.plain() for _ in range(N_KILL)]
    ref = killed_download(dovecot_factory, tmp_path, our_binary, 'ref', bodies)
    t0 = time.monotonic()
    ref.sync(timeout=120)
    duration = time.monotonic() - t0
    rnd = random.Random('big-folder-kill')
    for i in range(2):
        setup = killed_download(dovecot_factory, tmp_path, our_binary, f'rand{i}', bodies)
        proc = subprocess.Popen([str(our_binary), '-c', str(setup.config), '-o', '-u', 'basic'],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=dict(os.environ, HOME=str(setup.workdir)))
        time.sleep(rnd.uniform(0.3, 0.9) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        check_recovered(setup)
        setup.dovecot.stop()
