"""A local folder changed by another program while the sync reads it is read again
(src/store/store_maildir_folder.c, open_folder): a file renamed during a readdir may
be missed, and a missed file reads as a deletion. The change is made while the run is
paused (OIMAP_CRASHPOINT_ACTION=pause) between the reading of new/ and of cur/: there the
rename would be seen anyway, but the moment that matters (in the middle of cur/'s
readdir) cannot be timed from outside; what the test shows is that a change during the
reading makes the folder read again, and that an undisturbed folder is read once."""
import pytest

from harness import maildir as md
from harness.pause import paused_run

# The pause must come while the folder is read, and which folders a run reads depends on
# how old their last change is: timings Valgrind stretches.
pytestmark = pytest.mark.novalgrind

N = 6


def paused_sync(oimap, meanwhile, **config):
    return paused_run(oimap, 'maildir-new-read', meanwhile, debug='maildir', config=config)


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


def test_a_read_only_local_folder_is_read_again_too(dovecot, oimap, mailgen):
    """A local repository with readonly has no watch (nothing of ours to tell apart):
    the directories' times and sizes show the change instead."""
    for k in range(N):
        dovecot.append('INBOX', mailgen.plain(subject=f'seed {k}'))
    oimap.sync()
    uid = sorted(dovecot.flags('INBOX'))[3]
    target = next(m for m in oimap.local()['INBOX'] if m.uid == uid)
    r = paused_sync(oimap, lambda: md.add_flags(target.path, 'F'),
                    local_opts={'readonly': True})
    out = r.stdout + r.stderr
    assert 'changed while it was read; reading it again' in out, out
    assert 'Deleting' not in out, out
    assert '\\Flagged' in dovecot.flags('INBOX')[uid]
    assert len(dovecot.flags('INBOX')) == N
