"""Folder structure sync against a real Dovecot (separator '.').

- folders made on the server appear locally (empty ones too), folders made locally (a
  Maildir directory with cur/new/tmp) are created on the server;
- nested folders: with the local sep '.' they are flat directories "Archive.2024"; with
  sep = / they are nested directories Archive/2024, and the server name stays
  "Archive.2024"; FMD5 is the md5 of the local name, the status DB and FolderValidity
  files are named as offlineimap names them (REFERENCE 4.4);
- -f selects folders by their remote names;
- names with spaces and non-ASCII characters: without utf8foldernames offlineimap keeps
  the server's raw modified UTF-7 name as the local directory name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import maildir as md
from harness import runner
from harness.imaputil import mutf7_encode
from harness.mailgen import to_crlf, to_lf

CHANGE_MARKERS = ('Copy message', 'Deleting ', 'Adding flag', 'Deleting flag',
                  'Creating folder', 'Creating new Local Status db')


def output(r) -> str:
    return r.stdout + r.stderr


def change_lines(r) -> list[str]:
    return [ln for ln in output(r).splitlines() if any(m in ln for m in CHANGE_MARKERS)]


def copy_lines(r) -> list[str]:
    return [ln for ln in output(r).splitlines() if 'Copy message' in ln]


def raw(name: str) -> str:
    """The server's raw (modified UTF-7) folder name."""
    return mutf7_encode(name).decode('ascii')


def raw_snapshot(dc, root: Path, sep: str = '.') -> runner.Snapshot:
    """runner.snapshot(), with the server side keyed by the raw modified UTF-7 names
    (the names offlineimap uses locally when utf8foldernames is off)."""
    snap = runner.snapshot(dc, root, sep=sep)
    snap.server = {raw(f): v for f, v in snap.server.items()}
    return snap


def assert_quiet(s: runner.Setup, what: str) -> None:
    r = s.sync()
    assert change_lines(r) == [], f'{what}: the next run must change nothing:\n' \
                                  f'{runner.describe(r)}'


def check_files(s: runner.Setup, local_name: str, uids) -> None:
    files = md.read_folder(s.maildir, local_name)
    assert sorted(m.uid for m in files) == sorted(uids), f'{local_name}: local UIDs'
    for m in files:
        assert m.fmd5 == md.folder_md5(local_name), \
            f'{local_name}: {m.name} has FMD5 {m.fmd5}, expected md5({local_name!r})'


# ----------------------------------------------------------------------------- server -> local


@pytest.mark.threads
def test_server_folders_appear_locally(oimap, dovecot, mailgen):
    dc = dovecot
    folders = {'INBOX': 2, 'Sent': 1, 'Archive.2023': 1, 'Archive.2024': 3,
               'Lists.dev.announce': 1, 'Empty': 0}
    uids = {}
    for f, n in folders.items():
        if f != 'INBOX':
            dc.create(f)
        uids[f] = [dc.append(f, mailgen.plain()) for _ in range(n)]
    oimap.write_config(remote_opts={'maxconnections': 3})
    r = oimap.sync()
    assert md.list_folders(oimap.maildir) == sorted(folders), \
        f'local folders (the \\Noselect parents "Archive", "Lists", "Lists.dev" are not ' \
        f'folders):\n{runner.describe(r)}'
    for f in folders:
        d = oimap.maildir / f
        assert md.is_maildir(d), f'{d} lacks cur/new/tmp'
        check_files(oimap, f, uids[f])
        assert oimap.status_db(f).exists(), f'no status DB for {f}'
        assert oimap.folder_validity('remote', f) == dc.uidvalidity(f)
        assert oimap.folder_validity('local', f) == 42
    for parent in ('Archive', 'Lists', 'Lists.dev'):
        assert not (oimap.maildir / parent).exists(), f'{parent} is not a folder'
    oimap.assert_in_sync()
    assert_quiet(oimap, 'after the first sync')

    # a folder created on the server later also appears, with its messages
    dc.create('Later.Sub')
    later = dc.append('Later.Sub', mailgen.plain(), flags=['\\Seen'])
    r = oimap.sync()
    assert 'Later.Sub' in md.list_folders(oimap.maildir), runner.describe(r)
    check_files(oimap, 'Later.Sub', [later])
    oimap.assert_in_sync()


# ----------------------------------------------------------------------------- local -> server


def test_local_folders_are_created_on_the_server(oimap, dovecot, mailgen):
    dc = dovecot
    dc.append('INBOX', mailgen.plain())
    oimap.sync()
    msgs = {}
    for name in ('Projects', 'Projects.Alpha', 'Notes'):
        d = md.make_folder(oimap.maildir, name)
        msgs[name] = to_lf(mailgen.plain())
        md.add_message(d, msgs[name])
    md.make_folder(oimap.maildir, 'EmptyLocal')

    r = oimap.sync()
    have = dc.list_folders(selectable_only=True)
    for name in ('Projects', 'Projects.Alpha', 'Notes', 'EmptyLocal'):
        assert name in have, f'local folder {name} was not created on the server ' \
                             f'({have}):\n{runner.describe(r)}'
    for name, content in msgs.items():
        srv = dc.messages(name)
        assert [b for _f, b in srv.values()] == [to_crlf(content)], \
            f'{name}: the local message was not uploaded exactly once'
        check_files(oimap, name, srv)
        assert oimap.status_rows(name) == {u: ('', 0, '') for u in srv}
        assert oimap.folder_validity('remote', name) == dc.uidvalidity(name)
    assert dc.messages('EmptyLocal') == {}
    oimap.assert_in_sync()
    assert_quiet(oimap, 'after creating folders on the server')


# ----------------------------------------------------------------------------- sep = /


def test_local_sep_slash_gives_nested_directories(dovecot, tmp_path, our_binary, mailgen):
    dc = dovecot
    s = runner.Setup(dc, tmp_path / 'w', binary=our_binary, sep='/')
    for f in ('Archive.2024', 'Lists.dev.announce'):
        dc.create(f)
    u_arch = dc.append('Archive.2024', mailgen.plain(), flags=['\\Seen'])
    u_list = dc.append('Lists.dev.announce', mailgen.plain())
    dc.append('INBOX', mailgen.plain())
    r = s.sync()

    assert md.is_maildir(s.maildir / 'Archive' / '2024'), runner.describe(r)
    assert md.is_maildir(s.maildir / 'Lists' / 'dev' / 'announce')
    assert not md.is_maildir(s.maildir / 'Archive'), 'the parent is a plain directory'
    assert not (s.maildir / 'Archive.2024').exists(), 'sep = / must not give flat names'
    assert md.list_folders(s.maildir, '/') == ['Archive/2024', 'INBOX', 'Lists/dev/announce']
    check_files(s, 'Archive/2024', [u_arch])
    check_files(s, 'Lists/dev/announce', [u_list])
    # metadata names: status DB from the remote name, local FolderValidity '/' -> '.'
    assert s.status_db('Archive.2024').exists()
    assert s.status_rows('Lists.dev.announce') == {u_list: ('', 0, '')}
    assert s.folder_validity('local', 'Archive/2024') == 42
    assert s.folder_validity('remote', 'Archive.2024') == dc.uidvalidity('Archive.2024')
    s.assert_in_sync()

    # a local nested folder goes to the server with the server's separator
    d = md.make_folder(s.maildir, 'Projects/Alpha')
    content = to_lf(mailgen.plain())
    md.add_message(d, content, flags='S')
    r = s.sync()
    assert 'Projects.Alpha' in dc.list_folders(selectable_only=True), runner.describe(r)
    assert 'Projects/Alpha' not in dc.list_folders()
    srv = dc.messages('Projects.Alpha')
    assert [(f, b) for f, b in srv.values()] == [({'\\Seen'}, to_crlf(content))]
    check_files(s, 'Projects/Alpha', srv)
    local = md.list_folders(s.maildir, '/')
    assert 'Projects/Alpha' in local and 'Projects.Alpha' not in local, \
        f'no flat "Projects.Alpha" directory may appear locally: {local}'
    s.assert_in_sync()
    assert_quiet(s, 'with sep = /')


# ----------------------------------------------------------------------------- -f


def test_folder_selection_with_f(oimap, dovecot, mailgen):
    dc = dovecot
    folders = ['INBOX', 'Work', 'Archive.2024', 'Lists.dev']
    for f in folders[1:]:
        dc.create(f)
    for f in folders:
        dc.append(f, mailgen.plain())
    r = oimap.sync('-f', 'Work,Archive.2024')
    assert md.list_folders(oimap.maildir) == ['Archive.2024', 'Work'], \
        f'-f Work,Archive.2024 must create and sync only those:\n{runner.describe(r)}'
    assert len(copy_lines(r)) == 2
    assert not oimap.status_db('INBOX').exists()
    runner.assert_in_sync(oimap.snapshot(), folders=['Work', 'Archive.2024'])

    r = oimap.sync()
    assert md.list_folders(oimap.maildir) == sorted(folders)
    assert len(copy_lines(r)) == 2, 'the full run fetches the two other folders only'
    oimap.assert_in_sync()

    # changes everywhere; -f Work only carries the ones in Work
    new_work = dc.append('Work', mailgen.plain())
    new_lists = dc.append('Lists.dev', mailgen.plain())
    local_inbox = to_lf(mailgen.plain())
    md.add_message(oimap.local_folder('INBOX'), local_inbox)
    r = oimap.sync('-f', 'Work')
    assert new_work in {m.uid for m in md.read_folder(oimap.maildir, 'Work')}
    assert new_lists not in {m.uid for m in md.read_folder(oimap.maildir, 'Lists.dev')}, \
        f'-f Work synced Lists.dev:\n{runner.describe(r)}'
    assert all(b != to_crlf(local_inbox) for _f, b in dc.messages('INBOX').values()), \
        '-f Work uploaded a message of INBOX'
    r = oimap.sync()
    oimap.assert_in_sync()


# ----------------------------------------------------------------------------- odd names


@pytest.mark.threads
def test_names_with_spaces_and_non_ascii(oimap, dovecot, mailgen):
    dc = dovecot
    names = ['My Folder', 'Ünïcødé', 'Q&A', 'Tëst.Sub Folder']
    uids = {}
    for n in names:
        dc.create(n)
        uids[n] = [dc.append(n, mailgen.plain(), flags=['\\Seen']), dc.append(n, mailgen.plain())]
    assert raw('Ünïcødé') == '&ANw-n&AO8-c&APg-d&AOk-' and raw('Q&A') == 'Q&-A'
    oimap.write_config(remote_opts={'maxconnections': 3})
    r = oimap.sync()
    expect = sorted(['INBOX'] + [raw(n) for n in names])
    assert md.list_folders(oimap.maildir) == expect, \
        f'local names must be the raw server names:\n{runner.describe(r)}'
    for n in names:
        check_files(oimap, raw(n), uids[n])
        assert oimap.status_db(raw(n)).exists(), f'no status DB {oimap.status_db(raw(n))}'
        assert oimap.folder_validity('remote', raw(n)) == dc.uidvalidity(n)
    raw_snapshot(dc, oimap.maildir).assert_in_sync()
    assert_quiet(oimap, 'with odd folder names')

    # both directions still work in those folders
    new_srv = dc.append('Ünïcødé', mailgen.plain())
    up = to_lf(mailgen.plain())
    md.add_message(oimap.maildir / 'My Folder', up)
    loc = {m.uid: m for m in md.read_folder(oimap.maildir, raw('Q&A'))}
    md.set_flags(loc[uids['Q&A'][1]].path, 'F')
    r = oimap.sync()
    assert new_srv in {m.uid for m in md.read_folder(oimap.maildir, raw('Ünïcødé'))}, \
        runner.describe(r)
    assert any(b == to_crlf(up) for _f, b in dc.messages('My Folder').values())
    assert dc.flags('Q&A')[uids['Q&A'][1]] == {'\\Flagged'}
    raw_snapshot(dc, oimap.maildir).assert_in_sync()

    # -f takes the name with its space
    dc.append('My Folder', mailgen.plain())
    dc.append('Q&A', mailgen.plain())
    r = oimap.sync('-f', 'My Folder')
    assert len(copy_lines(r)) == 1, runner.describe(r)

    # local folders with such names are created on the server under the same names
    made = ['Local Stuff', 'Été', 'Ünïcødé.Kïd']
    for n in made:
        d = md.make_folder(oimap.maildir, raw(n))
        md.add_message(d, to_lf(mailgen.plain()))
    r = oimap.sync()
    have = dc.list_folders(selectable_only=True)
    for n in made:
        assert n in have, f'{n!r} not created on the server ({have}):\n{runner.describe(r)}'
    raw_snapshot(dc, oimap.maildir).assert_in_sync()
    assert_quiet(oimap, 'after creating odd names on the server')


def test_utf8foldernames_decodes_and_encodes_names(dovecot, oimap, mailgen):
    """utf8foldernames: local folders get UTF-8 names; names go back as modified UTF-7."""
    dovecot.create('Données')
    dovecot.append('Données', mailgen.plain())
    oimap.write_config(account_opts={'utf8foldernames': 'yes'})
    oimap.sync()
    assert (oimap.maildir / 'Données' / 'cur').is_dir() or (oimap.maildir / 'Données' / 'new').is_dir()
    assert len(oimap.local()['Données']) == 1
    md.make_folder(oimap.maildir, 'Réunion')
    md.add_message(oimap.maildir / 'Réunion', mailgen.plain())
    oimap.sync()
    assert 'Réunion' in dovecot.list_folders()
    assert len(dovecot.messages('Réunion')) == 1
    r = oimap.sync()
    assert 'Copy message' not in r.stdout and 'Creating folder' not in r.stdout
