"""startdate: a partial clone of one repository (accounts.py cachemessagelists_startdate).

The first sync of a folder copies only the partial side's messages since the date and saves
the lowest of their UIDs in Repository-<partial>/StartUID/<folder>; later syncs look at the
partial side from that UID on. The other side must be empty the first time ("To use
startdate on Repository X, Repository Y must be empty"). -q is ignored with offlineimap's
warning. Checked with a Maildir local side and with an IMAP local side (UID map), and
against offlineimap3 on the same metadata.
"""

from __future__ import annotations

import datetime as dt

import pytest

from harness import maildir as md
from harness import runner

from test_imap_imap import USERS, Pair, assert_same, changes, side

OLD = dt.datetime(2020, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
NEW = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
START = '2023-01-01'
QUICK_WARNING = ('Quick syncs (-q) not supported in conjunction with maxage or startdate; '
                 'ignoring -q.')


def seed_dated(dc, gen, user=None) -> dict[str, list[int]]:
    uids = {'old': [], 'new': []}
    for i in range(2):
        uids['old'].append(dc.append('INBOX', gen.plain(f'old{i}'), flags=('\\Seen',),
                                     date=OLD, user=user))
    for i in range(2):
        uids['new'].append(dc.append('INBOX', gen.plain(f'new{i}'), date=NEW, user=user))
    return uids


def bodies(dc, folder, uids, user=None) -> set[bytes]:
    msgs = dc.messages(folder, user=user)
    return {msgs[u][1] for u in uids}


def startuid(metadata, repo: str, folder: str = 'INBOX') -> str:
    return (metadata / f'Repository-{repo}' / 'StartUID' / folder).read_text()


def test_remote_startdate_maildir_local(dovecot, oimap, mailgen):
    dc = dovecot
    uids = seed_dated(dc, mailgen)
    oimap.write_config(remote_opts={'startdate': START})
    oimap.sync()
    local = {m.content for m in oimap.local()['INBOX']}
    assert {runner.to_crlf(b) for b in local} == bodies(dc, 'INBOX', uids['new'])
    assert startuid(oimap.metadata, oimap.remote_repo) == f'{min(uids["new"])}\n'
    r = oimap.sync()
    assert changes(r) == [], runner.describe(r)
    # Later mail on both sides syncs; the old messages stay on the server only.
    late = dc.append('INBOX', mailgen.plain('late'), user=None)
    md.add_message(oimap.local_folder('INBOX'), mailgen.plain('local-new'))
    r = oimap.sync()
    assert len(changes(r)) == 2, runner.describe(r)
    assert len(oimap.local()['INBOX']) == 4
    assert len(dc.messages('INBOX')) == 6
    assert late in {m.uid for m in oimap.local()['INBOX']}
    r = oimap.sync('-q')
    assert QUICK_WARNING in r.stdout + r.stderr, runner.describe(r)
    assert changes(r) == [], runner.describe(r)
    if runner.OFFLINEIMAP3.exists():
        r = oimap.sync_oimap3()
        assert changes(r) == [], runner.describe(r)


def test_startdate_needs_an_empty_other_side(dovecot, oimap, mailgen):
    dc = dovecot
    seed_dated(dc, mailgen)
    md.make_folder(oimap.maildir, 'INBOX')
    md.add_message(oimap.local_folder('INBOX'), mailgen.plain('already here'))
    oimap.write_config(remote_opts={'startdate': START})
    r = oimap.sync(ok=False)
    out = r.stdout + r.stderr
    assert (f'To use startdate on Repository {oimap.remote_repo}, Repository '
            f'{oimap.local_repo} must be empty') in out, runner.describe(r)
    assert r.returncode != 0
    assert len(oimap.local()['INBOX']) == 1
    assert len(dc.messages('INBOX')) == 4
    assert not (oimap.metadata / f'Repository-{oimap.remote_repo}' / 'StartUID' / 'INBOX').exists()


@pytest.mark.dovecot(users=USERS)
def test_remote_startdate_imap_local(dovecot, tmp_path, our_binary, mailgen):
    dc = dovecot
    uids = seed_dated(dc, mailgen, user='remote')
    p = Pair(dc, tmp_path, our_binary, remote_opts={'startdate': START})
    p.run()
    assert {b for b, _ in side(dc, 'local')['INBOX']} == bodies(dc, 'INBOX', uids['new'],
                                                                 user='remote')
    assert startuid(p.metadata, p.remote_repo) == f'{min(uids["new"])}\n'
    r = p.run()
    assert changes(r) == [], runner.describe(r)
    dc.append('INBOX', mailgen.plain('local late'), user='local')
    r = p.run()
    assert len(changes(r)) == 1, runner.describe(r)
    assert len(dc.messages('INBOX', user='remote')) == 5


@pytest.mark.dovecot(users=USERS)
def test_local_startdate_imap_local(dovecot, tmp_path, our_binary, mailgen):
    dc = dovecot
    uids = seed_dated(dc, mailgen, user='local')
    p = Pair(dc, tmp_path, our_binary, local_opts={'startdate': START})
    p.run()
    # Only the recent local messages went to the (empty) remote side; the StartUID file
    # holds the local server's UID.
    assert {b for b, _ in side(dc, 'remote')['INBOX']} == bodies(dc, 'INBOX', uids['new'],
                                                                  user='local')
    assert startuid(p.metadata, p.local_repo) == f'{min(uids["new"])}\n'
    r = p.run()
    assert changes(r) == [], runner.describe(r)
    if runner.OFFLINEIMAP3.exists():
        r = p.run(binary=runner.OFFLINEIMAP3)
        assert changes(r) == [], runner.describe(r)


@pytest.mark.dovecot(users=USERS)
def test_maxage_refused_for_imap_imap(dovecot, tmp_path, our_binary):
    p = Pair(dovecot, tmp_path, our_binary, account_opts={'maxage': 30})
    r = p.run(ok=False)
    assert r.returncode != 0
    assert 'maxage is not supported on IMAP-IMAP sync' in r.stdout + r.stderr, runner.describe(r)
    r = runner.run_oimap(our_binary, p.config, '--check-config')
    assert r.returncode != 0
    assert 'maxage is not supported on IMAP-IMAP sync' in r.stdout + r.stderr, runner.describe(r)


@pytest.mark.interop
@pytest.mark.skipif(not runner.OFFLINEIMAP3.exists(), reason='offlineimap3 is not installed')
def test_we_take_offlineimap3_startuid(dovecot, oimap, mailgen):
    dc = dovecot
    uids = seed_dated(dc, mailgen)
    oimap.write_config(remote_opts={'startdate': START})
    oimap.sync_oimap3()
    assert startuid(oimap.metadata, oimap.remote_repo) == f'{min(uids["new"])}\n'
    assert len(oimap.local()['INBOX']) == 2
    r = oimap.sync()
    assert changes(r) == [], runner.describe(r)
    dc.append('INBOX', mailgen.plain('late'))
    r = oimap.sync()
    assert len(changes(r)) == 1, runner.describe(r)
    assert len(oimap.local()['INBOX']) == 3
