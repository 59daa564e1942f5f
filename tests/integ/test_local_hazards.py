"""Local hazards (issue 3): mass deletion is never propagated silently, nothing is lost,
errors are clear. REFERENCE.md 5.7 describes how offlineimap3 behaves in each case.

1. A folder emptied on one side while its status is full: the deletion guard
   (deleteguard = N percent, default 50, 0 or 100 off; deleteguard_minimum = M, default
   10) refuses a folder's deletions when they are more than N% of what its status knows
   and at least M messages, on either side. The rest of the folder and the other folders
   sync; exit status 1; the error names the folder, the repository, the counts and how
   to confirm (--allow-deletions[=FOLDER,...] with remote names, or deleteguard).
2. localfolders missing: created when its parent exists; when the parent is missing too
   (an unmounted disk) the account fails, asking whether the disk is mounted.
3. localfolders present but empty while the metadata knows synced folders (an unmounted
   mount point): the account is refused, nothing is created or deleted anywhere.
4. One folder directory removed by hand: downloaded again, nothing deleted on the server.
5. The metadata directory removed: everything re-linked from the U= in file names.
6. A full disk (tmpfs) under the Maildir or under the metadata: a clear ENOSPC error,
   no partial file, status and files agree, the next run with room converges.
7. A local message that cannot be read: its upload fails naming the file, the rest
   syncs, exit status 1, nothing lost.
8. A second instance on the same account (ours or offlineimap3) is refused.

After each hazard the two sides are compared (same messages, exactly once) and a further
run must change nothing.
"""

from __future__ import annotations

import sqlite3
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness import hazards
from harness import maildir as md
from harness import runner
from harness.mailgen import to_crlf

CHANGE_MARKERS = ('Copy message', 'Deleting ', 'Adding flag', 'Deleting flag',
                  'Creating folder', 'Creating new Local Status db')
LOCK_MESSAGE = 'Could not lock account Test. Is another instance using this account?'
ENOSPC_RE = re.compile(r'No space left on device|disk is full|database or disk is full',
                       re.IGNORECASE)


# ----------------------------------------------------------------------------- helpers


def output(r) -> str:
    return r.stdout + r.stderr


def copy_lines(r) -> list[str]:
    return [ln for ln in output(r).splitlines() if 'Copy message' in ln]


def change_lines(r) -> list[str]:
    return [ln for ln in output(r).splitlines() if any(m in ln for m in CHANGE_MARKERS)]


def seed(dc, gen, counts: dict[str, int]) -> dict[str, list[int]]:
    """Create the folders and fill them with plain messages; {folder: [uid]}."""
    out = {}
    for folder, n in counts.items():
        if folder != 'INBOX':
            dc.create(folder)
        out[folder] = [dc.append(folder, gen.plain(), flags=('\\Seen',) if i % 3 else ())
                       for i in range(n)]
    return out


def first_sync(s: runner.Setup, gen, counts: dict[str, int], **cfg) -> dict[str, list[int]]:
    uids = seed(s.dovecot, gen, counts)
    s.write_config(**cfg)
    r = s.sync()
    assert len(copy_lines(r)) == sum(counts.values()), runner.describe(r)
    s.assert_in_sync()
    return uids


def server_msgs(s: runner.Setup) -> dict[str, dict[int, tuple]]:
    """{folder: {uid: (flags, bytes)}} of every selectable server folder."""
    dc = s.dovecot
    return {f: dc.messages(f) for f in dc.list_folders(selectable_only=True)}


def server_state(s: runner.Setup) -> dict[str, tuple]:
    """server_msgs() with each folder's MESSAGES/UIDNEXT/UIDVALIDITY/HIGHESTMODSEQ."""
    dc = s.dovecot
    return {f: (dc.status(f, ('MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'HIGHESTMODSEQ')),
                dc.messages(f))
            for f in dc.list_folders(selectable_only=True)}


def local_files(root: Path) -> dict[str, bytes]:
    """{path relative to root: content} of every file in a new/, cur/ or tmp/."""
    out = {}
    if not root.exists():
        return out
    for p in sorted(root.rglob('*')):
        if p.parent.name in ('new', 'cur', 'tmp') and (p.is_file() or p.is_symlink()
                                                        or p.is_dir()):
            out[str(p.relative_to(root))] = p.read_bytes() if p.is_file() else b'<special>'
    return out


def local_uids(s: runner.Setup, folder: str) -> list[int]:
    local = folder.replace(s.dovecot.separator, s.sep)
    return sorted(m.uid for m in md.read_folder(s.maildir, local, load=False)
                  if m.fmd5_matches)


def empty_local_folder(s: runner.Setup, folder: str, keep: int = 0) -> list[int]:
    """Remove the message files of a local folder (all but the first `keep` by UID),
    directories kept, as a careless `rm ~/Mail/INBOX/cur/*` would. Returns the UIDs."""
    local = folder.replace(s.dovecot.separator, s.sep)
    msgs = sorted(md.read_folder(s.maildir, local, load=False), key=lambda m: m.uid or 0)
    gone = []
    for m in msgs[keep:]:
        os.unlink(m.path)
        gone.append(m.uid)
    return gone


def remove_local(s: runner.Setup, folder: str, uids) -> None:
    local = folder.replace(s.dovecot.separator, s.sep)
    want = set(uids)
    for m in md.read_folder(s.maildir, local, load=False):
        if m.uid in want:
            os.unlink(m.path)
            want.discard(m.uid)
    assert not want, f'no local file for UIDs {sorted(want)} in {folder}'


def assert_quiet(s: runner.Setup, what: str) -> None:
    r = s.sync()
    assert change_lines(r) == [], f'{what}: the next run must change nothing:\n' \
                                  f'{runner.describe(r)}'


def assert_converged(s: runner.Setup, what: str) -> runner.Snapshot:
    """Both sides hold the same messages exactly once and one more run changes nothing."""
    snap = s.assert_in_sync()
    assert_quiet(s, what)
    s.assert_in_sync()
    return snap


def assert_failed(r, what: str, status: int = 1) -> str:
    out = output(r)
    assert r.returncode == status, f'{what}: expected exit status {status}\n' \
                                   f'{runner.describe(r)}'
    assert 'Traceback' not in out, runner.describe(r)
    return out


def assert_guard_error(r, *, folder: str, repo: str, count: int, total: int) -> None:
    """The run refused a folder's deletions: exit status 1 and an error naming the
    folder, the repository, the counts and how to confirm."""
    out = assert_failed(r, f'deletion guard on {folder}')
    lines = [ln for ln in out.splitlines()
             if '--allow-deletions' in ln or 'deleteguard' in ln.lower()]
    assert lines, f'no guard message (--allow-deletions / deleteguard):\n{runner.describe(r)}'
    text = '\n'.join(lines)
    for needle in (folder, repo, '--allow-deletions', 'deleteguard'):
        assert needle in text, f'the guard message does not mention {needle!r}:\n{text}'
    for n in (count, total):
        assert re.search(rf'(?<!\d){n}(?!\d)', text), \
            f'the guard message does not give the count {n}:\n{text}'


def env_for(s: runner.Setup) -> dict[str, str]:
    e = dict(os.environ)
    e['HOME'] = str(s.workdir)
    e.setdefault('LC_ALL', 'C.UTF-8')
    e.setdefault('PYTHONDONTWRITEBYTECODE', '1')
    return e


def spawn(s: runner.Setup, binary) -> subprocess.Popen:
    """Start a sync in the background (stdout/stderr captured as text)."""
    return subprocess.Popen([str(binary), '-c', str(s.config), '-o', '-u', 'basic'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, errors='replace',
                            env=env_for(s))


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout * runner.timeout_scale()
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f'the first run ended before its presynchook:\n'
                                 f'exit {proc.returncode}\n{out}\n{err}')
        if time.monotonic() > deadline:
            proc.kill()
            proc.communicate()
            raise AssertionError(f'{path} did not appear within {timeout}s')
        time.sleep(0.02)


def finish(proc: subprocess.Popen, timeout: float = 60) -> subprocess.CompletedProcess:
    try:
        out, err = proc.communicate(timeout=timeout * runner.timeout_scale())
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    r = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    runner.check_sanitizers(r)
    return r


# ----------------------------------------------------------------------------- 1. guard


def test_guard_refuses_emptied_local_folder(oimap, dovecot, mailgen):
    uids = first_sync(oimap, mailgen, {'INBOX': 30, 'Work': 3})
    before = server_msgs(oimap)
    empty_local_folder(oimap, 'INBOX')
    # Other changes in the same folder and in another folder still happen.
    added_local = md.add_message(oimap.local_folder('INBOX'), mailgen.plain('written here'))
    new_server_uid = dovecot.append('INBOX', mailgen.plain('arrived meanwhile'))
    remove_local(oimap, 'Work', uids['Work'][:1])

    r = oimap.sync(ok=False)
    assert_guard_error(r, folder='INBOX', repo=oimap.remote_repo, count=30, total=30)
    srv = dovecot.messages('INBOX')
    assert set(uids['INBOX']) <= set(srv), 'the guard let deletions through on the server'
    for u in uids['INBOX']:
        assert srv[u] == before['INBOX'][u], f'server INBOX UID {u} changed'
    assert new_server_uid in local_uids(oimap, 'INBOX'), \
        'the new server message was not downloaded (the rest of the folder must sync)'
    assert len(srv) == 32, f'the local message was not uploaded: server UIDs {sorted(srv)}'
    assert not added_local.exists(), 'the uploaded message was not renamed with its UID'
    assert sorted(dovecot.messages('Work')) == uids['Work'][1:], \
        'Work (one deletion, below the minimum) must sync normally'
    # The status keeps the refused rows: the next run sees the same thing.
    assert set(uids['INBOX']) <= set(oimap.status_rows('INBOX'))
    r = oimap.sync(ok=False)
    assert_guard_error(r, folder='INBOX', repo=oimap.remote_repo, count=30, total=32)
    assert set(uids['INBOX']) <= set(dovecot.messages('INBOX'))

    r = oimap.sync('--allow-deletions=INBOX')
    srv = dovecot.messages('INBOX')
    assert not set(uids['INBOX']) & set(srv), \
        f'--allow-deletions=INBOX: the 30 were not deleted on the server:\n' \
        f'{runner.describe(r)}'
    assert len(srv) == 2
    assert_converged(oimap, 'after --allow-deletions=INBOX')


def test_guard_confirmation_names_remote_folders(dovecot, tmp_path, our_binary, mailgen):
    # sep '/' locally: the remote name "Lists.dev" is the local "Lists/dev"; the
    # confirmation takes remote names.
    s = runner.Setup(dovecot, tmp_path / 'slash', binary=our_binary, sep='/')
    uids = first_sync(s, mailgen, {'INBOX': 12, 'Lists': 0, 'Lists.dev': 12})
    assert (s.maildir / 'Lists' / 'dev' / 'cur').is_dir()
    empty_local_folder(s, 'INBOX')
    empty_local_folder(s, 'Lists.dev')

    r = s.sync('--allow-deletions=Lists.dev', ok=False)
    assert_guard_error(r, folder='INBOX', repo=s.remote_repo, count=12, total=12)
    assert 'Lists.dev' not in ''.join(ln for ln in output(r).splitlines()
                                      if '--allow-deletions' in ln), \
        'Lists.dev was confirmed; only INBOX may be refused'
    assert dovecot.messages('Lists.dev') == {}, 'confirmed folder Lists.dev not emptied'
    assert sorted(dovecot.messages('INBOX')) == uids['INBOX'], 'unconfirmed INBOX touched'

    s.sync('--allow-deletions')
    assert dovecot.messages('INBOX') == {}, '--allow-deletions (every folder) refused INBOX'
    assert_converged(s, 'after --allow-deletions')


@pytest.mark.parametrize('guard', [100, 0])
def test_guard_disabled_by_config(oimap, dovecot, mailgen, guard):
    first_sync(oimap, mailgen, {'INBOX': 30}, account_opts={'deleteguard': guard})
    empty_local_folder(oimap, 'INBOX')
    r = oimap.sync()
    assert dovecot.messages('INBOX') == {}, \
        f'deleteguard = {guard} must disable the guard:\n{runner.describe(r)}'
    assert_converged(oimap, f'deleteguard = {guard}')


def test_guard_minimum(oimap, dovecot, mailgen):
    uids = first_sync(oimap, mailgen, {'INBOX': 5, 'Trash': 5})
    # Emptying a Trash of 5 (below the default minimum of 10) is normal.
    empty_local_folder(oimap, 'Trash')
    oimap.sync()
    assert dovecot.messages('Trash') == {}, 'emptying 5 messages must not need confirming'
    assert_converged(oimap, 'emptied Trash')
    # With deleteguard_minimum = 3 the same emptying is refused.
    oimap.write_config(account_opts={'deleteguard_minimum': 3})
    empty_local_folder(oimap, 'INBOX')
    r = oimap.sync(ok=False)
    assert_guard_error(r, folder='INBOX', repo=oimap.remote_repo, count=5, total=5)
    assert sorted(dovecot.messages('INBOX')) == uids['INBOX']
    oimap.sync('--allow-deletions=INBOX')
    assert dovecot.messages('INBOX') == {}
    assert_converged(oimap, 'after confirming')


def test_guard_percentage(oimap, dovecot, mailgen):
    uids = first_sync(oimap, mailgen, {'INBOX': 30})['INBOX']
    # 12 of 30 (40%): allowed.
    remove_local(oimap, 'INBOX', uids[:12])
    oimap.sync()
    assert sorted(dovecot.messages('INBOX')) == uids[12:], '40% deletion was refused'
    assert_converged(oimap, '40% deleted')
    # 10 of the 18 left (55%, at least the minimum of 10): refused.
    remove_local(oimap, 'INBOX', uids[12:22])
    r = oimap.sync(ok=False)
    assert_guard_error(r, folder='INBOX', repo=oimap.remote_repo, count=10, total=18)
    assert sorted(dovecot.messages('INBOX')) == uids[12:]
    oimap.sync('--allow-deletions')
    assert sorted(dovecot.messages('INBOX')) == uids[22:]
    assert_converged(oimap, 'after confirming')


def test_guard_server_side_expunge(oimap, dovecot, mailgen):
    uids = first_sync(oimap, mailgen, {'INBOX': 30, 'Work': 2})
    files_before = local_files(oimap.maildir)
    dovecot.expunge('INBOX', uids['INBOX'][:25])
    dovecot.expunge('Work', uids['Work'][:1])
    r = oimap.sync(ok=False)
    assert_guard_error(r, folder='INBOX', repo=oimap.local_repo, count=25, total=30)
    assert local_uids(oimap, 'INBOX') == uids['INBOX'], 'local files deleted despite the guard'
    inbox = {k: v for k, v in files_before.items() if k.startswith('INBOX/')}
    now = local_files(oimap.maildir)
    assert {k: now.get(k) for k in inbox} == inbox, 'local INBOX files changed'
    assert local_uids(oimap, 'Work') == uids['Work'][1:], 'Work must sync normally'
    assert sorted(dovecot.messages('INBOX')) == uids['INBOX'][25:], \
        'the refused deletions must not be undone by uploading the messages again'

    oimap.sync('--allow-deletions=INBOX')
    assert local_uids(oimap, 'INBOX') == uids['INBOX'][25:]
    assert_converged(oimap, 'after --allow-deletions=INBOX')


# ----------------------------------------------------------------------------- 2. root missing


def test_root_missing_is_created(oimap, dovecot, mailgen):
    seed(dovecot, mailgen, {'INBOX': 3, 'Work': 2})
    oimap.write_config()
    assert oimap.maildir.parent.is_dir() and not oimap.maildir.exists()
    r = oimap.sync()
    assert len(copy_lines(r)) == 5, runner.describe(r)
    assert oimap.maildir.is_dir()
    assert_converged(oimap, 'created localfolders')
    # Gone again after a sync: the metadata knows 2 folders, so an (re-created) empty
    # root is refused as in test_empty_root_with_synced_metadata; nothing downloaded.
    before = server_state(oimap)
    shutil.rmtree(oimap.maildir)
    r = oimap.sync(ok=False)
    out = assert_failed(r, 'localfolders removed after a sync')
    assert 'mounted' in out and re.search(r'(?<!\d)2(?!\d)', out), runner.describe(r)
    assert copy_lines(r) == [], runner.describe(r)
    assert not oimap.maildir.exists() or os.listdir(oimap.maildir) == []
    assert server_state(oimap) == before, 'the server changed'


def test_root_and_parent_missing(oimap, dovecot, mailgen):
    usb = oimap.workdir / 'usb'
    root = usb / 'Mail'
    root.mkdir(parents=True)
    oimap.maildir = root
    seed(dovecot, mailgen, {'INBOX': 4, 'Work': 3})
    oimap.write_config()
    oimap.sync()
    before = server_state(oimap)
    # "Unmount" the disk: /mnt/usb/Mail and /mnt/usb are gone.
    usb.rename(oimap.workdir / 'usb.unmounted')
    r = oimap.sync(ok=False)
    out = assert_failed(r, 'localfolders and its parent missing')
    assert str(root) in out and 'does not exist' in out and 'mounted' in out, \
        f'the error must name {root}, say it does not exist and ask whether the disk is ' \
        f'mounted:\n{runner.describe(r)}'
    assert not usb.exists(), 'the missing parent directory was created'
    assert server_state(oimap) == before, 'the server changed'
    (oimap.workdir / 'usb.unmounted').rename(usb)
    r = oimap.sync()
    assert change_lines(r) == [], runner.describe(r)
    assert server_state(oimap) == before
    assert_converged(oimap, 'disk back')


# ----------------------------------------------------------------------------- 3. empty root


def test_empty_root_with_synced_metadata(oimap, dovecot, mailgen):
    counts = {'INBOX': 4, 'Work': 3, 'Archive': 2}
    first_sync(oimap, mailgen, counts)
    before = server_state(oimap)
    meta_before = sorted(p.name for p in
                         (oimap.metadata / 'Account-Test' / 'LocalStatus-sqlite').iterdir())
    # An unmounted mount point: the directory is there, empty.
    oimap.maildir.rename(oimap.workdir / 'Mail.on-disk')
    oimap.maildir.mkdir()
    r = oimap.sync(ok=False)
    out = assert_failed(r, 'empty localfolders')
    assert str(oimap.maildir) in out, f'the error must name the root:\n{runner.describe(r)}'
    low = out.lower()
    assert 'empty' in low and 'mount' in low and 'metadata' in low, \
        f'the error must say the root is empty, suggest checking the mount and moving the ' \
        f'metadata aside:\n{runner.describe(r)}'
    assert re.search(rf'(?<!\d){len(counts)}(?!\d)', out), \
        f'the error must say {len(counts)} folders were synced before:\n{runner.describe(r)}'
    assert os.listdir(oimap.maildir) == [], 'something was created in the empty root'
    assert server_state(oimap) == before, 'the server changed'
    assert sorted(p.name for p in (oimap.metadata / 'Account-Test' /
                                   'LocalStatus-sqlite').iterdir()) == meta_before

    # The disk comes back: nothing to do.
    oimap.maildir.rmdir()
    (oimap.workdir / 'Mail.on-disk').rename(oimap.maildir)
    r = oimap.sync()
    assert change_lines(r) == [], runner.describe(r)
    assert server_state(oimap) == before
    assert_converged(oimap, 'disk back')

    # Starting afresh as the error suggests: metadata moved aside, empty root.
    shutil.rmtree(oimap.maildir)
    oimap.maildir.mkdir()
    oimap.metadata.rename(oimap.workdir / 'metadata.old')
    r = oimap.sync()
    assert len(copy_lines(r)) == sum(counts.values()), runner.describe(r)
    assert server_state(oimap) == before
    assert_converged(oimap, 'started afresh')


# ----------------------------------------------------------------------------- 4. folder removed


def test_folder_directory_removed(oimap, dovecot, mailgen):
    first_sync(oimap, mailgen, {'INBOX': 3, 'Archive': 6})
    before = server_state(oimap)
    shutil.rmtree(oimap.local_folder('Archive'))
    r = oimap.sync()
    assert len(copy_lines(r)) == 6 and all('Archive' in ln for ln in copy_lines(r)), \
        f'Archive must be downloaded again:\n{runner.describe(r)}'
    assert 'Deleting ' not in output(r), runner.describe(r)
    assert server_state(oimap) == before, 'the server changed'
    assert_converged(oimap, 'folder downloaded again')


# ----------------------------------------------------------------------------- 5. metadata removed


def test_metadata_removed(oimap, dovecot, mailgen):
    counts = {'INBOX': 5, 'Work': 3, 'Empty': 0}
    uids = first_sync(oimap, mailgen, counts)
    files = local_files(oimap.maildir)
    before = server_state(oimap)
    rows = {f: oimap.status_rows(f) for f in counts}
    shutil.rmtree(oimap.metadata)
    r = oimap.sync()
    assert copy_lines(r) == [] and 'Deleting ' not in output(r), \
        f'nothing may be downloaded, uploaded or deleted:\n{runner.describe(r)}'
    assert local_files(oimap.maildir) == files, 'local files changed'
    assert server_state(oimap) == before, 'the server changed'
    for f in counts:
        assert oimap.status_db(f).exists(), f'status DB for {f} not recreated'
        assert sorted(oimap.status_rows(f)) == sorted(uids[f])
        assert {u: v[0] for u, v in oimap.status_rows(f).items()} == \
            {u: v[0] for u, v in rows[f].items()}, f'{f}: status flags differ'
        assert oimap.folder_validity('remote', f) == dovecot.uidvalidity(f)
        assert oimap.folder_validity('local', f) == 42
    assert_converged(oimap, 'metadata recreated')


# ----------------------------------------------------------------------------- 6. disk full


def _check_files_complete(s: runner.Setup, folder: str) -> set[int]:
    """No file left in tmp/; every file in new/ and cur/ is a complete copy of a server
    message, once. Returns the local UIDs."""
    d = s.local_folder(folder)
    if not d.exists():
        return set()
    tmp = list((d / 'tmp').iterdir()) if (d / 'tmp').exists() else []
    assert tmp == [], f'files left in {d}/tmp: {[p.name for p in tmp]}'
    srv = s.dovecot.messages(folder)
    have = set()
    for m in md.read_folder(s.maildir, folder.replace(s.dovecot.separator, s.sep)):
        assert m.uid in srv and m.fmd5_matches, f'unexpected local file {m.path}'
        assert to_crlf(m.content) == srv[m.uid][1], \
            f'{m.path} is incomplete ({len(m.content)} bytes)'
        assert m.uid not in have, f'UID {m.uid} twice locally'
        have.add(m.uid)
    return have


def _check_partial_state(s: runner.Setup, folder: str) -> None:
    """_check_files_complete(), and the status has a row for every file and no other."""
    have = _check_files_complete(s, folder)
    db = s.status_db(folder)
    rows = set(runner.status_rows(db)) if db.exists() else set()
    assert rows == have, f'status rows {sorted(rows)} but files for {sorted(have)}'


def test_disk_full_maildir(oimap, dovecot, mailgen):
    with hazards.Tmpfs(oimap.maildir, '2m') as fs:
        dovecot.create('Big')
        small = [dovecot.append('INBOX', mailgen.plain()) for _ in range(3)]
        big = [dovecot.append('Big', mailgen.attachment(190_000)) for _ in range(20)]
        before = server_state(oimap)
        oimap.write_config()
        r = oimap.sync(ok=False)
        out = assert_failed(r, 'disk full')
        errs = [ln for ln in out.splitlines() if ENOSPC_RE.search(ln)]
        assert errs, f'no "disk full" error:\n{runner.describe(r)}'
        assert any('Big' in ln for ln in errs), \
            'the disk-full error must name the folder Big:\n' + '\n'.join(errs)
        assert server_state(oimap) == before, 'the server changed'
        for f in ('INBOX', 'Big'):
            _check_partial_state(oimap, f)
        assert 0 < len(local_uids(oimap, 'Big')) < 20
        assert local_uids(oimap, 'INBOX') == small

        fs.resize('16m')
        r = oimap.sync()
        assert local_uids(oimap, 'Big') == big
        assert server_state(oimap) == before, 'the server changed'
        assert_converged(oimap, 'after more room')


def test_disk_full_metadata(oimap, dovecot, mailgen):
    with hazards.Tmpfs(oimap.metadata, '1m') as fs:
        uids = first_sync(oimap, mailgen, {'INBOX': 5})['INBOX']
        more = [dovecot.append('INBOX', mailgen.plain()) for _ in range(300)]
        before = server_state(oimap)
        ballast = hazards.fill(fs.path, leave=4096)
        r = oimap.sync(ok=False)
        out = assert_failed(r, 'metadata disk full')
        assert ENOSPC_RE.search(out), f'no "disk full" error:\n{runner.describe(r)}'
        assert server_state(oimap) == before, 'the server changed'
        _check_files_complete(oimap, 'INBOX')
        assert set(local_uids(oimap, 'INBOX')) >= set(uids), 'local messages lost'
        ballast.unlink()
        oimap.sync()
        assert server_state(oimap) == before, 'the server changed'
        assert local_uids(oimap, 'INBOX')[-len(more):] == more
        assert_converged(oimap, 'metadata with room again')


# ----------------------------------------------------------------------------- 7. unreadable


NOBODY = 65534


def _as_nobody(dovecot, our_binary) -> runner.Setup:
    """A Setup whose runs are made by user nobody (root reads every file whatever its
    mode): the work directory is owned by nobody and the binary is run through setpriv."""
    if os.geteuid() != 0 or shutil.which('setpriv') is None:
        pytest.skip('running as nobody needs root and setpriv(1)')
    work = Path(tempfile.mkdtemp(prefix='oimap-nobody-'))
    os.chown(work, NOBODY, NOBODY)
    wrapper = work / 'run-as-nobody'
    wrapper.write_text('#!/bin/sh\nexec setpriv --reuid=%d --regid=%d --clear-groups %s "$@"\n'
                       % (NOBODY, NOBODY, our_binary))
    wrapper.chmod(0o755)
    s = runner.Setup(dovecot, work / 'oimap', binary=wrapper)
    os.chown(s.workdir, NOBODY, NOBODY)
    s.write_config()
    os.chown(s.config, NOBODY, NOBODY)
    return s


@pytest.fixture
def nobody_setup(dovecot, our_binary):
    s = _as_nobody(dovecot, our_binary)
    yield s
    shutil.rmtree(s.workdir.parent, ignore_errors=True)


@pytest.mark.parametrize('how', ['permission', 'dangling-symlink'])
def test_unreadable_local_message(request, oimap, dovecot, mailgen, how):
    s = request.getfixturevalue('nobody_setup') if how == 'permission' else oimap
    uids = first_sync(s, mailgen, {'INBOX': 3})['INBOX']
    folder = s.local_folder('INBOX')
    contents = [mailgen.plain(f'local {i}') for i in range(3)]
    paths = [md.add_message(folder, c) for c in contents]
    for p in paths:
        os.chown(p, os.stat(folder).st_uid, os.stat(folder).st_gid)
    bad = paths[1]
    if how == 'permission':
        bad.chmod(0)
    else:
        os.unlink(bad)
        bad.symlink_to(folder / 'tmp' / 'no-such-file')
    r = s.sync(ok=False)
    out = assert_failed(r, f'unreadable local message ({how})')
    errs = [ln for ln in out.splitlines() if bad.name in ln]
    assert errs, f'no error naming {bad.name}:\n{runner.describe(r)}'
    srv = dovecot.messages('INBOX')
    assert len(srv) == 5, f'the two readable messages must be uploaded: {sorted(srv)}'
    bodies = {b for _, b in srv.values()}
    assert to_crlf(contents[0]) in bodies and to_crlf(contents[2]) in bodies
    assert os.path.lexists(bad), f'{bad} was removed'
    assert local_uids(s, 'INBOX')[:3] == uids

    # Make the message readable again: it goes up, exactly once.
    if how == 'permission':
        bad.chmod(0o600)
    else:
        bad.unlink()
        bad.write_bytes(contents[1])
    s.sync()
    bodies = [b for _, b in dovecot.messages('INBOX').values()]
    assert len(bodies) == 6 and bodies.count(to_crlf(contents[1])) == 1
    assert_converged(s, 'file readable again')


# ----------------------------------------------------------------------------- 8. lock


def _with_hook(s: runner.Setup, marker: Path, seconds: int = 3) -> None:
    s.write_config(account_opts={'presynchook': f'touch {marker}; sleep {seconds}'})


def _without_hook(s: runner.Setup) -> None:
    s.write_config()


def test_second_instance_refused(oimap, dovecot, mailgen):
    seed(dovecot, mailgen, {'INBOX': 3})
    marker = oimap.workdir / 'hook-started'
    _with_hook(oimap, marker)
    first = spawn(oimap, oimap.binary)
    try:
        wait_for(marker, first)
        r = oimap.sync(ok=False)
    finally:
        r1 = finish(first)
    out = assert_failed(r, 'second instance')
    assert LOCK_MESSAGE in out, runner.describe(r)
    assert copy_lines(r) == [], runner.describe(r)
    assert r1.returncode == 0, f'the first run failed:\n{runner.describe(r1)}'
    assert len(copy_lines(r1)) == 3, runner.describe(r1)
    assert not (oimap.metadata / 'Test.lock').exists(), 'lock file left behind'
    _without_hook(oimap)
    assert_converged(oimap, 'after the two instances')


@pytest.mark.interop
def test_lock_excludes_offlineimap3(oimap, dovecot, mailgen):
    if not runner.OFFLINEIMAP3.exists():
        pytest.skip(f'{runner.OFFLINEIMAP3} is not installed')
    seed(dovecot, mailgen, {'INBOX': 3})
    marker = oimap.workdir / 'hook-started'
    _with_hook(oimap, marker)
    first = spawn(oimap, oimap.binary)
    try:
        wait_for(marker, first)
        r = oimap.run('-o', '-u', 'basic', binary=runner.OFFLINEIMAP3)
    finally:
        r1 = finish(first)
    assert LOCK_MESSAGE in output(r), \
        f'offlineimap3 was not refused while we held the lock:\n{runner.describe(r)}'
    assert r.returncode != 0, runner.describe(r)
    assert copy_lines(r) == [], runner.describe(r)
    assert r1.returncode == 0, f'our run failed:\n{runner.describe(r1)}'
    _without_hook(oimap)
    assert_converged(oimap, 'after offlineimap3 was refused')


@pytest.mark.interop
def test_offlineimap3_lock_excludes_us(oimap, dovecot, mailgen):
    if not runner.OFFLINEIMAP3.exists():
        pytest.skip(f'{runner.OFFLINEIMAP3} is not installed')
    seed(dovecot, mailgen, {'INBOX': 3})
    marker = oimap.workdir / 'hook-started'
    _with_hook(oimap, marker)
    first = spawn(oimap, runner.OFFLINEIMAP3)
    try:
        wait_for(marker, first)
        r = oimap.sync(ok=False)
    finally:
        r1 = finish(first)
    out = assert_failed(r, 'ours while offlineimap3 holds the lock')
    assert LOCK_MESSAGE in out, runner.describe(r)
    assert copy_lines(r) == [], runner.describe(r)
    assert r1.returncode == 0, f'offlineimap3 failed:\n{runner.describe(r1)}'
    _without_hook(oimap)
    assert_converged(oimap, 'after offlineimap3')


@pytest.mark.interop
def test_lock_survives_offlineimap3_refusal(oimap, dovecot, mailgen):
    """offlineimap3, refused, still unlinks <metadata>/Test.lock on its way out
    (accounts.py _unlock() in a finally). The instance holding the lock must go on
    excluding a further instance of ours all the same."""
    if not runner.OFFLINEIMAP3.exists():
        pytest.skip(f'{runner.OFFLINEIMAP3} is not installed')
    seed(dovecot, mailgen, {'INBOX': 3})
    marker = oimap.workdir / 'hook-started'
    _with_hook(oimap, marker)
    first = spawn(oimap, oimap.binary)
    try:
        wait_for(marker, first)
        r3 = oimap.run('-o', '-u', 'basic', binary=runner.OFFLINEIMAP3)
        r = oimap.sync(ok=False)
    finally:
        r1 = finish(first)
    assert LOCK_MESSAGE in output(r3), runner.describe(r3)
    out = assert_failed(r, 'ours after offlineimap3 removed the lock file')
    assert LOCK_MESSAGE in out, runner.describe(r)
    assert r1.returncode == 0, f'our first run failed:\n{runner.describe(r1)}'
    _without_hook(oimap)
    assert_converged(oimap, 'after the three runs')


def test_empty_root_with_only_unwritten_status(oimap, dovecot, mailgen):
    """A first run killed just after it created a folder's status database (no message
    recorded yet) is no proof of an earlier sync: the next run with the still empty
    root syncs, instead of asking whether the disk is mounted."""
    dovecot.append('INBOX', mailgen.plain())
    sq = oimap.metadata / 'Account-Test' / 'LocalStatus-sqlite'
    sq.mkdir(parents=True)
    con = sqlite3.connect(sq / 'INBOX')
    con.execute('CREATE TABLE metadata (key VARCHAR(50) PRIMARY KEY, value VARCHAR(128))')
    con.execute("INSERT INTO metadata VALUES('db_version', '2')")
    con.execute('CREATE TABLE status (id INTEGER PRIMARY KEY, flags VARCHAR(50), mtime INTEGER, '
                'labels VARCHAR(256))')
    con.commit()
    con.close()
    # And one created but not even given its tables (killed inside the first transaction).
    sqlite3.connect(sq / 'Work').close()
    oimap.maildir.mkdir(exist_ok=True)
    r = oimap.sync()
    assert 'mounted' not in r.stdout + r.stderr, runner.describe(r)
    snap = oimap.assert_in_sync()
    assert len(snap.local['INBOX']) == 1
