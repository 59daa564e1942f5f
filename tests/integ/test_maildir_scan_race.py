"""A local folder changed by another program while the sync reads it is read again
(src/store/store_maildir_folder.c, open_folder): a file renamed during a readdir may
be missed, and a missed file reads as a deletion. The change is made while the run is
paused (OIMAP_CRASHPOINT_ACTION=pause) between the reading of new/ and of cur/: there the
rename would be seen anyway, but the moment that matters (in the middle of cur/'s
readdir) cannot be timed from outside; what the test shows is that a change during the
reading makes the folder read again, and that an undisturbed folder is read once."""
import os
import subprocess
import time

from harness import maildir as md
from harness.runner import check_sanitizers, timeout_scale

N = 6


def paused_sync(oimap, meanwhile):
    oimap.write_config()
    pause = oimap.workdir / 'paused'
    env = dict(os.environ, HOME=str(oimap.workdir), LC_ALL='C.UTF-8',
               OIMAP_CRASHPOINT='maildir-new-read:1', OIMAP_CRASHPOINT_ACTION=f'pause:{pause}')
    p = subprocess.Popen([str(oimap.binary), '-c', str(oimap.config), '-o', '-u', 'basic',
                          '-d', 'maildir'], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True, env=env)
    try:
        deadline = time.monotonic() + 60 * timeout_scale()
        while not pause.exists() and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pause.exists(), 'the run never reached maildir-new-read'
        meanwhile()
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


def test_a_flag_set_during_the_scan_is_not_taken_for_a_deletion(dovecot, oimap, mailgen):
    for k in range(N):
        dovecot.append('INBOX', mailgen.plain(subject=f'seed {k}'))
    oimap.sync()
    uid = sorted(dovecot.flags('INBOX'))[2]
    target = next(m for m in oimap.local()['INBOX'] if m.uid == uid)

    r = paused_sync(oimap, lambda: md.add_flags(target.path, 'F'))
    out = r.stdout + r.stderr
    assert 'changed while it was read; reading it again' in out, out
    assert 'Deleting' not in out, out
    oimap.assert_in_sync()
    assert '\\Flagged' in dovecot.flags('INBOX')[uid]
    assert len(dovecot.flags('INBOX')) == N


def test_an_unchanged_folder_is_read_once(dovecot, oimap, mailgen):
    for k in range(N):
        dovecot.append('INBOX', mailgen.plain(subject=f'seed {k}'))
    oimap.sync()
    r = paused_sync(oimap, lambda: None)
    assert 'reading it again' not in r.stdout + r.stderr
    oimap.assert_in_sync()
