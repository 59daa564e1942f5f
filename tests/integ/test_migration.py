"""Migration in: users of an old offlineimap and of mbsync switch without copying again.

Old offlineimap (before 7.0): a Maildir named as offlineimap names files, with the plain
text LocalStatus (FORMAT 2, and FORMAT 1 from 2003) and the FolderValidity files. Our first
run imports the plain status into the SQLite status (offlineimap3's own migration never
runs) and then downloads, uploads and deletes nothing; changes made on either side since
the old program's last run are merged three-way, as that program would have.

mbsync (isync 1.4, the real /usr/bin/mbsync against the same Dovecot): its Maildir (file
names with its own ",U=<near uid>", a .uidvalidity per folder) and its sync state (in the
folder with "SyncState *", or under ~/.mbsync/ by default) are taken over: every synced
file is renamed to offlineimap's name with the server's UID and the folder's FMD5, the
state is retired (<state>.taken-over-by-offlineimap), and nothing is copied again.

Both layouts are covered: mbsync's "Flatten ." is offlineimap's default sep '.'
(Archive.2024), "SubFolders Verbatim" is sep '/' (Archive/2024).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from harness import maildir as md
from harness import runner
from harness.mailgen import to_crlf, to_lf

MBSYNC = Path('/usr/bin/mbsync')
CHANGE_MARKERS = ('Copy message', 'Deleting ', 'Adding flag', 'Deleting flag',
                  'Creating folder')
FOLDERS = ['INBOX', 'Work', 'Archive.2024']
FLAG_CYCLE = [('\\Seen',), (), ('\\Seen', '\\Flagged'), ('\\Answered', '\\Seen'),
              ('\\Flagged',), ('\\Draft',), ('\\Seen',)]
PLAIN_MAGIC = 'OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT {}\n'
# What is left where mbsync's state was: mbsync refuses to read it.
STUB = 'OfflineIMAP took this folder over from mbsync'

needs_mbsync = pytest.mark.skipif(not MBSYNC.exists(), reason=f'{MBSYNC} is not installed')


def output(r) -> str:
    return r.stdout + r.stderr


def change_lines(r) -> list[str]:
    return [ln for ln in output(r).splitlines() if any(m in ln for m in CHANGE_MARKERS)]


def letters(flags) -> str:
    return runner.server_flags_to_letters(flags)


def seed(dc, gen, folders=FOLDERS, n=7, expunge=2) -> None:
    """n messages per folder with a cycle of flags; the first `expunge` are expunged
    so that the server's UIDs do not start at 1 (and differ from mbsync's own)."""
    kinds = list(gen.kinds().values())
    for fi, f in enumerate(folders):
        if f != 'INBOX':
            dc.create(f)
        uids = [dc.append(f, to_crlf(kinds[(fi + i) % len(kinds)]()),
                          FLAG_CYCLE[(fi + i) % len(FLAG_CYCLE)]) for i in range(n)]
        if expunge:
            dc.expunge(f, uids[:expunge])


def strip_tuid(data: bytes) -> bytes:
    """mbsync adds an X-TUID header to what it copies; compare messages without it."""
    return re.sub(rb'(?m)^X-TUID: [^\r\n]*\r?\n', b'', data)


# ----------------------------------------------------------------------------- old offlineimap


def old_offlineimap_files(oimap, server: dict, plain_formats: dict) -> dict:
    """Write what offlineimap 6.x left behind for `server` ({folder: {uid: (flags,
    bytes)}}): Maildir files, LocalStatus/<folder> in the given FORMAT, FolderValidity of
    both repositories. Returns {folder: {uid: letters}} as written to the status."""
    dc = oimap.dovecot
    seq = 0
    rows = {}
    for folder, msgs in server.items():
        fdir = md.make_folder(oimap.maildir, folder)
        fmd5 = md.folder_md5(folder)
        rows[folder] = {}
        for uid, (flags, body) in sorted(msgs.items()):
            fl = letters(flags)
            seq += 1
            name = f'{1700000000 + seq}_{seq % 3}.4242.oldhost,U={uid},FMD5={fmd5}:2,{fl}'
            (fdir / ('cur' if 'S' in fl else 'new') / name).write_bytes(to_lf(body))
            rows[folder][uid] = fl
        fmt = plain_formats[folder]
        lines = [PLAIN_MAGIC.format(fmt)]
        for uid, fl in sorted(rows[folder].items()):
            lines.append(f'{uid}|{fl}|0|\n' if fmt == 2 else f'{uid}:{fl}\n')
        plain = oimap.metadata / f'Account-{oimap.account}' / 'LocalStatus' / folder
        plain.parent.mkdir(parents=True, exist_ok=True)
        plain.write_text(''.join(lines))
        for repo, value in ((oimap.remote_repo, dc.uidvalidity(folder)),
                            (oimap.local_repo, 42)):
            p = runner.folder_validity_path(oimap.metadata, repo, folder)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(f'{value}\n')
    return rows


def local_names(root, sep='.') -> dict:
    return {f: sorted(m.name for m in msgs) for f, msgs in md.read_tree(root, sep).items()}


def test_old_offlineimap_plain_status(oimap, dovecot, mailgen):
    """FORMAT 2 and FORMAT 1 plain status, both sides as the old program left them: nothing
    is copied, the SQLite status gets the same rows, later changes sync."""
    dc = dovecot
    seed(dc, mailgen)
    server = {f: dc.messages(f) for f in FOLDERS}
    rows = old_offlineimap_files(oimap, server, {'INBOX': 2, 'Work': 1, 'Archive.2024': 2})
    names_before = local_names(oimap.maildir)

    r = oimap.sync()
    assert change_lines(r) == [], runner.describe(r)
    assert output(r).count('Migrating LocalStatus cache') == 3, runner.describe(r)
    assert {f: dc.messages(f) for f in FOLDERS} == server
    assert local_names(oimap.maildir) == names_before
    for f in FOLDERS:
        assert oimap.status_rows(f) == {u: (fl, 0, '') for u, fl in rows[f].items()}
        # The plain files stay (offlineimap3 ignores them; an old version may still read them).
        assert (oimap.metadata / 'Account-Test' / 'LocalStatus' / f).exists()
    oimap.assert_in_sync()

    # A second run changes nothing and imports nothing again.
    r = oimap.sync()
    assert change_lines(r) == [] and 'Migrating' not in output(r), runner.describe(r)

    # Later changes on either side sync.
    work = sorted(server['Work'])
    inbox = sorted(server['INBOX'])
    dc.set_flags('Work', work[0], '\\Flagged')
    dc.expunge('Work', work[1])
    new_uid = dc.append('INBOX', to_crlf(mailgen.plain('after the migration')))
    local = {m.uid: m for m in md.read_folder(oimap.maildir, 'INBOX')}
    md.add_flags(local[inbox[1]].path, 'R')
    md.delete(local[inbox[2]].path)
    md.add_message(oimap.local_folder('Archive.2024'), to_lf(mailgen.plain('written here')))
    r = oimap.sync()
    snap = oimap.assert_in_sync()
    assert new_uid in {e.uid for e in snap.local['INBOX']}
    assert work[1] not in dc.messages('Work')
    assert inbox[2] not in dc.messages('INBOX')
    assert '\\Answered' in dc.flags('INBOX')[inbox[1]]
    assert len(dc.messages('Archive.2024')) == len(server['Archive.2024']) + 1


def test_old_offlineimap_changes_since_its_last_run(oimap, dovecot, mailgen):
    """Changes made on both sides after the old program's last run are merged three-way
    through the imported status: a local deletion is not undone by a download, a server
    deletion is not undone by an upload, flag changes travel in their direction."""
    dc = dovecot
    seed(dc, mailgen, folders=['INBOX'], n=8)
    server = {'INBOX': dc.messages('INBOX')}
    old_offlineimap_files(oimap, server, {'INBOX': 2})
    uids = sorted(server['INBOX'])
    local = {m.uid: m for m in md.read_folder(oimap.maildir, 'INBOX')}
    md.delete(local[uids[0]].path)                   # deleted locally
    dc.expunge('INBOX', uids[1])                      # deleted on the server
    md.add_flags(local[uids[2]].path, 'F')            # flagged locally
    dc.set_flags('INBOX', uids[3], '\\Answered')      # answered elsewhere
    r = oimap.sync()
    assert 'Copy message' not in output(r), runner.describe(r)
    after = dc.messages('INBOX')
    assert uids[0] not in after and uids[1] not in after
    assert '\\Flagged' in after[uids[2]][0]
    snap = oimap.assert_in_sync()
    assert {e.uid for e in snap.local['INBOX']} == set(uids[2:])
    assert 'R' in {e.uid: e.flags for e in snap.local['INBOX']}[uids[3]]


def test_old_offlineimap_damaged_plain_status(oimap, dovecot, mailgen):
    """A plain status that cannot be read stops that folder with a message naming the file
    (nothing is copied in it); the other folders sync; once repaired it is imported."""
    dc = dovecot
    seed(dc, mailgen, folders=['INBOX', 'Work'], n=4)
    server = {f: dc.messages(f) for f in ('INBOX', 'Work')}
    old_offlineimap_files(oimap, server, {'INBOX': 2, 'Work': 2})
    plain = oimap.metadata / 'Account-Test' / 'LocalStatus' / 'Work'
    good = plain.read_text()
    plain.write_text(good + 'garbage line\n')
    r = oimap.sync(ok=False)
    assert r.returncode != 0
    assert str(plain) in output(r) and 'line' in output(r), runner.describe(r)
    assert change_lines(r) == [], runner.describe(r)
    assert oimap.status_rows('INBOX') != {}
    # The failure is remembered: the next run tries again instead of syncing without it.
    r = oimap.sync(ok=False)
    assert r.returncode != 0 and change_lines(r) == [], runner.describe(r)
    plain.write_text(good)
    r = oimap.sync()
    assert change_lines(r) == [] and 'Migrating' in output(r), runner.describe(r)
    assert set(oimap.status_rows('Work')) == set(server['Work'])
    oimap.assert_in_sync()


def test_old_offlineimap_folder_gone_locally(oimap, dovecot, mailgen):
    """A folder whose local directory is gone is created again and downloaded: its old
    plain status must not make the empty folder look like deletions for the server."""
    dc = dovecot
    seed(dc, mailgen, folders=['INBOX', 'Work'], n=4)
    server = {f: dc.messages(f) for f in ('INBOX', 'Work')}
    old_offlineimap_files(oimap, server, {'INBOX': 2, 'Work': 2})
    md_dir = oimap.local_folder('Work')
    for sub in ('cur', 'new', 'tmp'):
        for p in (md_dir / sub).iterdir():
            p.unlink()
        (md_dir / sub).rmdir()
    md_dir.rmdir()
    r = oimap.sync()
    assert dc.messages('Work') == server['Work'], runner.describe(r)
    oimap.assert_in_sync()


# ----------------------------------------------------------------------------- mbsync


def write_mbsyncrc(home: Path, dc, maildir: Path, *, layout: str, sync_state: str | None,
                   max_size: str | None = None):
    """An mbsyncrc for the harness Dovecot. layout 'flatten' (Flatten .: offlineimap's
    sep '.') or 'verbatim' (SubFolders Verbatim: sep '/'); sync_state '*' or None for
    mbsync's default (~/.mbsync/); max_size: MaxSize of the Maildir (placeholders)."""
    maildir.mkdir(parents=True, exist_ok=True)
    user = dc.default_user
    store = [f'Path {maildir}/', f'Inbox {maildir}/INBOX']
    store.append('Flatten .' if layout == 'flatten' else 'SubFolders Verbatim')
    if max_size:
        store.append(f'MaxSize {max_size}')
    text = '\n'.join([
        'IMAPAccount acc', f'Host {dc.host}', f'Port {dc.port}', f'User {user}',
        f'Pass {dc.password(user)}', 'SSLType None', 'AuthMechs LOGIN', '',
        'IMAPStore remote', 'Account acc', '',
        'MaildirStore local', *store, '',
        'Channel mail', 'Far :remote:', 'Near :local:', 'Patterns *', 'Create Both',
        'Expunge Both', 'Sync All', *([f'SyncState {sync_state}'] if sync_state else []), '',
    ])
    rc = home / '.mbsyncrc'
    rc.write_text(text)
    return rc


def run_mbsync(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME=str(home))
    r = subprocess.run([str(MBSYNC), '-c', str(home / '.mbsyncrc'), *args], env=env,
                       capture_output=True, text=True, timeout=120 * runner.timeout_scale(),
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f'mbsync failed ({r.returncode}):\n{r.stdout}\n{r.stderr}'
    return r


def mbsync_user(oimap, mailgen, *, layout: str, sync_state: str | None) -> None:
    """A user of mbsync: two mbsync runs with changes on both sides in between, so that
    its near UIDs differ from the server's and it has pushed a message of its own."""
    dc = oimap.dovecot
    seed(dc, mailgen, n=6, expunge=2)
    write_mbsyncrc(oimap.workdir, dc, oimap.maildir, layout=layout, sync_state=sync_state)
    run_mbsync(oimap.workdir, '-a')
    sep = '.' if layout == 'flatten' else '/'
    work = md.folder_dir(oimap.maildir, 'Work')
    md.add_message(work, to_lf(mailgen.plain('written in mutt')), flags='S')
    msgs = md.read_folder(oimap.maildir, f'Archive{sep}2024')
    md.add_flags(msgs[0].path, 'F')
    dc.expunge('INBOX', min(dc.messages('INBOX')))
    dc.set_flags('Work', max(dc.messages('Work')), '\\Answered')
    run_mbsync(oimap.workdir, '-a')
    # In sync now, as far as mbsync is concerned.
    r = run_mbsync(oimap.workdir, '-a', '-V')
    assert 'Copying' not in r.stdout


def mbsync_states(oimap, layout: str, sync_state: str | None, sep: str) -> list[Path]:
    if sync_state == '*':
        return [md.folder_dir(oimap.maildir, f.replace('.', sep) if f != 'INBOX' else f)
                / '.mbsyncstate' for f in FOLDERS]
    box = {'flatten': lambda f: f, 'verbatim': lambda f: f.replace('.', '!')}[layout]
    far = {'INBOX': 'INBOX', 'Work': 'Work', 'Archive.2024': 'Archive!2024'}
    return [oimap.workdir / '.mbsync' / f':remote:{far[f]}_:local:{box(f)}' for f in FOLDERS]


def snapshot_files(root, sep) -> dict:
    """{folder: {unique part: flags}} of the local files."""
    out = {}
    for folder, msgs in md.read_tree(root, sep).items():
        out[folder] = {re.sub(r',(U|FMD5)=[^,:!]*', '', m.base): m.flags for m in msgs}
    return out


@needs_mbsync
@pytest.mark.parametrize('layout,sync_state', [('flatten', '*'), ('verbatim', None)],
                         ids=['flatten-in-folder-state', 'verbatim-home-state'])
def test_mbsync_takeover(oimap, dovecot, mailgen, layout, sync_state):
    """The real mbsync syncs several folders with flags; our run on its Maildir copies
    nothing, keeps every flag and file, names the files as offlineimap does, fills the
    status, retires mbsync's state; then changes on each side sync."""
    dc = dovecot
    sep = '.' if layout == 'flatten' else '/'
    oimap.sep = sep
    mbsync_user(oimap, mailgen, layout=layout, sync_state=sync_state)
    states = mbsync_states(oimap, layout, sync_state, sep)
    assert all(p.exists() for p in states), states
    server = {f: dc.messages(f) for f in FOLDERS}
    files = snapshot_files(oimap.maildir, sep)
    assert sum(len(v) for v in files.values()) == sum(len(v) for v in server.values())

    oimap.write_config()
    r = oimap.sync()
    assert change_lines(r) == [], runner.describe(r)
    assert output(r).count("took over mbsync's state") == 3, runner.describe(r)
    assert {f: dc.messages(f) for f in FOLDERS} == server
    assert snapshot_files(oimap.maildir, sep) == files  # same files, same flags
    snap = oimap.assert_in_sync(normalize=strip_tuid)
    for f in FOLDERS:
        key = f.replace('.', sep)
        assert all(m.fmd5_matches and m.uid for m in snap.local_files[key])
        assert oimap.status_rows(f) == {u: (letters(fl), 0, '')
                                        for u, (fl, _) in server[f].items()}
    for p in states:
        assert p.read_text().startswith(STUB), p
        assert p.with_name(p.name + '.taken-over-by-offlineimap').exists()

    # Nothing left to do, nothing taken over twice.
    r = oimap.sync()
    assert change_lines(r) == [] and 'took over' not in output(r), runner.describe(r)

    # mbsync, run again by mistake, refuses these boxes instead of copying everything.
    env = dict(os.environ, HOME=str(oimap.workdir))
    m = subprocess.run([str(MBSYNC), '-c', str(oimap.workdir / '.mbsyncrc'), '-a'], env=env,
                       capture_output=True, text=True, timeout=120 * runner.timeout_scale(),
                       stdin=subprocess.DEVNULL)
    assert m.returncode != 0 and 'malformed sync state header entry' in m.stderr, m.stderr
    assert {f: dc.messages(f) for f in FOLDERS} == server
    assert snapshot_files(oimap.maildir, sep) == files

    # A change on each side syncs.
    inbox = sorted(server['INBOX'])
    work = sorted(server['Work'])
    dc.set_flags('INBOX', inbox[0], '\\Flagged')
    dc.expunge('Work', work[0])
    new_uid = dc.append('Archive.2024', to_crlf(mailgen.plain('new on the server')))
    local = {m.uid: m for m in md.read_folder(oimap.maildir, 'Work')}
    md.add_flags(local[work[1]].path, 'R')
    md.delete(local[work[2]].path)
    md.add_message(md.folder_dir(oimap.maildir, 'INBOX'), to_lf(mailgen.plain('new here')))
    r = oimap.sync()
    snap = oimap.assert_in_sync(normalize=strip_tuid)
    assert 'F' in {e.uid: e.flags for e in snap.local['INBOX']}[inbox[0]]
    assert new_uid in {e.uid for e in snap.local['Archive.2024']}
    after = dc.messages('Work')
    assert work[0] not in after and work[2] not in after
    assert '\\Answered' in after[work[1]][0]
    assert len(dc.messages('INBOX')) == len(server['INBOX']) + 1


@needs_mbsync
def test_mbsync_changes_since_its_last_run(oimap, dovecot, mailgen):
    """Changes after mbsync's last run are merged with the flags its state recorded: a
    flag set on the server is not undone, a message expunged on the server is not
    uploaded again."""
    dc = dovecot
    mbsync_user(oimap, mailgen, layout='flatten', sync_state='*')
    inbox = sorted(dc.messages('INBOX'))
    dc.set_flags('INBOX', inbox[0], '\\Flagged')
    dc.clear_flags('INBOX', inbox[1], '\\Seen')
    dc.expunge('INBOX', inbox[2])
    local = {m.name: m for m in md.read_folder(oimap.maildir, 'Work')}
    first = sorted(local)[0]
    md.add_flags(local[first].path, 'F')
    oimap.write_config()
    r = oimap.sync()
    assert 'Copy message' not in output(r), runner.describe(r)
    snap = oimap.assert_in_sync(normalize=strip_tuid)
    flags = {e.uid: e.flags for e in snap.local['INBOX']}
    assert 'F' in flags[inbox[0]] and 'S' not in flags[inbox[1]]
    assert inbox[2] not in flags and inbox[2] not in dc.messages('INBOX')
    assert any('\\Flagged' in fl for fl, _ in dc.messages('Work').values())


@needs_mbsync
def test_mbsync_interrupted(oimap, dovecot, mailgen):
    """mbsync interrupted (its .new and journal present): that folder is refused with a
    clear message and nothing is copied; once mbsync has finished, it is taken over."""
    dc = dovecot
    mbsync_user(oimap, mailgen, layout='flatten', sync_state='*')
    work = md.folder_dir(oimap.maildir, 'Work')
    (work / '.mbsyncstate.new').write_text('')
    (work / '.mbsyncstate.journal').write_text('4\n')
    oimap.write_config()
    r = oimap.sync(ok=False)
    assert r.returncode != 0
    assert 'mbsync was interrupted' in output(r), runner.describe(r)
    assert change_lines(r) == [], runner.describe(r)
    assert (work / '.mbsyncstate').exists()
    # mbsync finishes its run (it replays the journal), then we take over.
    run_mbsync(oimap.workdir, 'mail:Work')
    assert not (work / '.mbsyncstate.new').exists()
    r = oimap.sync()
    assert change_lines(r) == [] and "took over mbsync's state" in output(r), runner.describe(r)
    oimap.assert_in_sync(normalize=strip_tuid)


@needs_mbsync
def test_mbsync_takeover_killed_midway(oimap, dovecot, mailgen):
    """Killed after some files were renamed: the next run finishes the take-over, and
    still nothing is copied."""
    mbsync_user(oimap, mailgen, layout='flatten', sync_state='*')
    oimap.write_config()
    env = dict(os.environ, OIMAP_CRASHPOINT='mbsync-adopt-renamed:2')
    r = oimap.run('-o', '-u', 'basic', env=env)
    assert r.returncode != 0
    r = oimap.sync()
    assert change_lines(r) == [], runner.describe(r)
    oimap.assert_in_sync(normalize=strip_tuid)
    assert len(list(oimap.maildir.glob('*/.mbsyncstate.taken-over-by-offlineimap'))) == 3
    assert all(p.read_text().startswith(STUB) for p in oimap.maildir.glob('*/.mbsyncstate'))


@needs_mbsync
def test_mbsync_maxsize_placeholders(oimap, dovecot, mailgen):
    """mbsync's MaxSize placeholders in the Maildir are not mail: they are removed and the
    real messages downloaded, instead of the placeholders being uploaded."""
    dc = dovecot
    for i in range(3):
        dc.append('INBOX', to_crlf(mailgen.plain(f'small {i}')), ('\\Seen',))
    dc.append('INBOX', to_crlf(mailgen.plain('big', body='\n'.join(['x' * 70] * 120))))
    bigs = sorted(u for u, (_, body) in dc.messages('INBOX').items() if len(body) > 4096)
    assert bigs
    write_mbsyncrc(oimap.workdir, dc, oimap.maildir, layout='flatten', sync_state='*',
                   max_size='4k')
    run_mbsync(oimap.workdir, '-a')
    inbox = md.folder_dir(oimap.maildir, 'INBOX')

    def placeholders():
        return [p for p in inbox.glob('*/*') if b'Subject: [placeholder]' in p.read_bytes()]
    assert len(placeholders()) == len(bigs)
    oimap.write_config()
    r = oimap.sync()
    copies = [ln for ln in change_lines(r) if 'Copy message' in ln]
    assert sorted(int(re.search(r'UID (\d+)', ln).group(1)) for ln in copies) == bigs, \
        runner.describe(r)
    assert "removed mbsync's placeholder" in output(r), runner.describe(r)
    assert placeholders() == []
    oimap.assert_in_sync(normalize=strip_tuid)
