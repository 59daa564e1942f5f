"""Basic two-way sync against a real Dovecot: what issue 2 asks the program to show.

Every test starts from a fresh private Dovecot and an empty work directory. After each
step the two sides are compared with the harness snapshot (same folders, same UIDs, same
flags, bytes equal up to CRLF/LF, no duplicates), and where a run must change nothing,
the Maildir file names and contents, the server (messages, flags, UIDNEXT,
HIGHESTMODSEQ) and the status databases are compared before and after.

Behaviour expected (offlineimap3's, /work/shared/REFERENCE.md sections 4 and 5):
- file names <time>_<seq>.<pid>.<host>,U=<uid>,FMD5=<md5 of the local folder>:2,<sorted
  flags>; Seen messages in cur/, the others in new/ (with the info part even there);
- remote changes are applied first, then local ones; per flag the two changes merge;
- a message deleted on one side is deleted on the other, even if the other side changed
  its flags meanwhile;
- readonly on a repository: nothing is written to it; sync_deletes = no on a repository:
  deletions made there are not propagated;
- a changed UIDVALIDITY skips the folder with offlineimap's warning and exit status 2.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness import maildir as md
from harness import runner
from harness.mailgen import to_crlf, to_lf

NAME_RE = re.compile(
    r'^(\d+)_(\d+)\.(\d+)\.([^,/]+),U=(\d+),FMD5=([0-9a-f]{32}):2,([A-Za-z]*)$')

SEED_FLAGS = [(), ('\\Seen',), ('\\Seen', '\\Flagged'), ('\\Answered', '\\Seen'),
              ('\\Draft',), ('\\Flagged',), ('\\Seen', '$Forwarded'),
              ('\\Answered', '\\Draft', '\\Flagged', '\\Seen')]
SEED = {'INBOX': 8, 'Work': 4, 'Archive.2024': 5, 'Empty': 0}

# Output lines that mean "the run changed something" (offlineimap's texts).
CHANGE_MARKERS = ('Copy message', 'Deleting ', 'Adding flag', 'Deleting flag',
                  'Creating folder', 'Creating new Local Status db')


# ----------------------------------------------------------------------------- helpers


def seed(dc, gen, counts=SEED) -> dict[str, dict[int, tuple]]:
    """Create the folders and fill them; return {folder: {uid: flags}}."""
    out: dict[str, dict[int, tuple]] = {}
    i = 0
    for folder, n in counts.items():
        if folder != 'INBOX':
            dc.create(folder)
        out[folder] = {}
        for _ in range(n):
            flags = SEED_FLAGS[i % len(SEED_FLAGS)]
            i += 1
            out[folder][dc.append(folder, gen.plain(), flags=flags)] = flags
    return out


def output(r) -> str:
    return r.stdout + r.stderr


def change_lines(r) -> list[str]:
    return [ln for ln in output(r).splitlines() if any(m in ln for m in CHANGE_MARKERS)]


def copy_lines(r) -> list[str]:
    return [ln for ln in output(r).splitlines() if 'Copy message' in ln]


def local_files(root: Path) -> dict[str, bytes]:
    """{path relative to root: content} of every message file (new/, cur/ and tmp/)."""
    out = {}
    if not root.exists():
        return out
    for p in sorted(root.rglob('*')):
        if p.is_file() and p.parent.name in ('new', 'cur', 'tmp'):
            out[str(p.relative_to(root))] = p.read_bytes()
    return out


def server_state(dc, user=None) -> dict[str, tuple[dict, dict]]:
    """{folder: (STATUS counters incl. HIGHESTMODSEQ, {uid: (flags, bytes)})}."""
    out = {}
    for f in dc.list_folders(user=user, selectable_only=True):
        st = dc.status(f, ('MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'HIGHESTMODSEQ'), user=user)
        out[f] = (st, dc.messages(f, user=user))
    return out


def metadata_state(meta: Path) -> dict[str, object]:
    """Status DB rows and FolderValidity contents under a metadata directory."""
    out: dict[str, object] = {}
    if not meta.exists():
        return out
    for p in sorted(meta.rglob('*')):
        if not p.is_file():
            continue
        rel = str(p.relative_to(meta))
        if p.parent.name == 'LocalStatus-sqlite':
            out[rel] = runner.status_rows(p)
        elif p.parent.name == 'FolderValidity':
            out[rel] = p.read_text()
    return out


def full_state(s: runner.Setup) -> dict[str, object]:
    return {'local': local_files(s.maildir), 'server': server_state(s.dovecot),
            'metadata': metadata_state(s.metadata)}


def assert_same_state(before: dict, after: dict, what: str) -> None:
    probs = []
    bl, al = before['local'], after['local']
    for k in sorted(set(bl) - set(al)):
        probs.append(f'local file gone: {k}')
    for k in sorted(set(al) - set(bl)):
        probs.append(f'local file appeared: {k}')
    for k in sorted(set(al) & set(bl)):
        if al[k] != bl[k]:
            probs.append(f'local file content changed: {k}')
    bs, as_ = before['server'], after['server']
    for f in sorted(set(bs) | set(as_)):
        if f not in as_ or f not in bs:
            probs.append(f'server folder {f!r} {"vanished" if f not in as_ else "appeared"}')
            continue
        if bs[f][0] != as_[f][0]:
            probs.append(f'server folder {f!r} STATUS changed: {bs[f][0]} -> {as_[f][0]}')
        if bs[f][1] != as_[f][1]:
            bu, au = bs[f][1], as_[f][1]
            probs.append(f'server folder {f!r} messages changed: UIDs {sorted(bu)} -> '
                         f'{sorted(au)}; flags {[bu[u][0] for u in sorted(bu)]} -> '
                         f'{[au[u][0] for u in sorted(au)]}')
    bm, am = before['metadata'], after['metadata']
    for k in sorted(set(bm) | set(am)):
        if bm.get(k) != am.get(k):
            probs.append(f'metadata {k}: {bm.get(k)!r} -> {am.get(k)!r}')
    assert not probs, f'{what} changed something:\n  ' + '\n  '.join(probs)


def letters(flags) -> str:
    return runner.server_flags_to_letters(flags)


def local_by_uid(s: runner.Setup, folder: str) -> dict[int, md.MaildirMessage]:
    out = {}
    for m in md.read_folder(s.maildir, folder.replace('.', s.sep) if s.sep != '.' else folder):
        if m.uid is not None and m.fmd5_matches:
            assert m.uid not in out, f'UID {m.uid} twice in local {folder}: {m.name}'
            out[m.uid] = m
    return out


def check_name(m: md.MaildirMessage, folder: str) -> re.Match:
    g = NAME_RE.match(m.name)
    assert g, f'{folder}: file name {m.name!r} is not offlineimap\'s ' \
              f'<time>_<seq>.<pid>.<host>,U=<uid>,FMD5=<md5>:2,<flags>'
    assert g.group(6) == md.folder_md5(folder), \
        f'{folder}: FMD5 in {m.name} is not md5({folder!r}) = {md.folder_md5(folder)}'
    assert g.group(4) == md.hostname(), f'{m.name}: host part is not {md.hostname()!r}'
    assert g.group(7) == ''.join(sorted(g.group(7))), f'{m.name}: flags not sorted'
    assert m.subdir == ('cur' if 'S' in g.group(7) else 'new'), \
        f'{folder}: {m.name} is in {m.subdir}/ but Seen messages belong in cur/, others in new/'
    return g


def check_uploaded_name(m: md.MaildirMessage, folder: str, uid: int, flags: str,
                        originals: set[str]) -> None:
    """An uploaded file is renamed to carry ,U=<server uid>,FMD5=<md5 of folder> and the
    info part. offlineimap3 gives it a brand-new name of its own form; keeping the mail
    reader's unique part and adding the items is read the same way by offlineimap3 (it
    looks only for ',U=' and ',FMD5=<md5>'), so either form is accepted."""
    if NAME_RE.match(m.name):
        g = check_name(m, folder)
        assert int(g.group(5)) == uid, f'{m.name} does not carry the server UID {uid}'
    else:
        base = md.parse_name(m.name)['base']
        unique = base.split(',')[0]
        assert unique in originals and \
            base == f'{unique},U={uid},FMD5={md.folder_md5(folder)}', \
            f'{folder}: uploaded message renamed to {m.name!r}: expected offlineimap\'s ' \
            f'name or <unique>,U={uid},FMD5={md.folder_md5(folder)}:2,{flags}'
        assert m.has_info, f'{m.name}: no info part (:2,...)'
        assert m.subdir == ('cur' if 'S' in flags else 'new'), f'{m.name} in {m.subdir}/'
    assert m.uid == uid and m.fmd5_matches
    assert m.flags == flags, f'{m.name}: flags {m.flags!r}, expected {flags!r}'


def first_sync(s: runner.Setup, gen, counts=SEED, **cfg) -> dict[str, dict[int, tuple]]:
    seeded = seed(s.dovecot, gen, counts)
    s.write_config(**cfg)
    r = s.sync()
    assert len(copy_lines(r)) == sum(counts.values()), runner.describe(r)
    s.assert_in_sync()
    return seeded


def threaded(**extra) -> dict:
    """Config keyword arguments for a multi-connection run."""
    remote = {'maxconnections': 3}
    remote.update(extra.pop('remote_opts', {}))
    return dict(remote_opts=remote, **extra)


# ----------------------------------------------------------------------------- first sync


@pytest.mark.threads
def test_first_sync_of_several_folders(oimap, dovecot, mailgen):
    seeded = seed(dovecot, mailgen)
    oimap.write_config(**threaded())
    r = oimap.sync()
    out = output(r)
    assert 'ERROR' not in out and 'Traceback' not in out, runner.describe(r)
    assert len(copy_lines(r)) == sum(SEED.values()), \
        f'expected one "Copy message" line per message:\n{runner.describe(r)}'

    snap = oimap.assert_in_sync()
    assert snap.counts() == {f: (n, n) for f, n in SEED.items()}
    assert md.list_folders(oimap.maildir) == sorted(SEED), 'local folders'
    names = []
    for folder, uid_flags in seeded.items():
        loc = local_by_uid(oimap, folder)
        assert sorted(loc) == sorted(uid_flags), f'{folder}: local UIDs'
        for uid, flags in uid_flags.items():
            m = loc[uid]
            g = check_name(m, folder)
            assert int(g.group(5)) == uid
            assert g.group(7) == letters(flags), \
                f'{folder} UID {uid}: server flags {flags} but file name {m.name}'
            names.append((g.group(1), g.group(2)))
        # one status DB per folder, offlineimap's schema and rows
        db = oimap.status_db(folder)
        assert db.exists(), f'no status DB {db}'
        assert runner.status_metadata(db) == {'db_version': '2'}
        assert oimap.status_rows(folder) == {u: (letters(f), 0, '') for u, f in uid_flags.items()}
        assert oimap.folder_validity('remote', folder) == dovecot.uidvalidity(folder)
        assert oimap.folder_validity('local', folder) == 42
    assert len(set(names)) == len(names), 'two files share <time>_<seq>'
    pids = {NAME_RE.match(m.name).group(3) for ms in oimap.local().values() for m in ms}
    assert len(pids) == 1, f'one run, one pid in the names: {pids}'
    assert not (oimap.metadata / 'Test.lock').exists(), 'account lock left behind'


@pytest.mark.threads
def test_second_run_changes_nothing(oimap, dovecot, mailgen):
    first_sync(oimap, mailgen, **threaded())
    before = full_state(oimap)
    r = oimap.sync()
    assert change_lines(r) == [], f'a run without changes reported work:\n{runner.describe(r)}'
    assert_same_state(before, full_state(oimap), 'a second run')
    oimap.assert_in_sync()


# ----------------------------------------------------------------------------- server -> local


@pytest.mark.threads
def test_server_changes_arrive_locally(oimap, dovecot, mailgen):
    seeded = first_sync(oimap, mailgen, **threaded())
    dc = dovecot
    # new messages
    new_inbox = [dc.append('INBOX', mailgen.plain()),
                 dc.append('INBOX', mailgen.plain(), flags=['\\Seen', '\\Flagged'])]
    new_empty = dc.append('Empty', mailgen.plain(), flags=['\\Answered'])
    # flag changes: add several, remove several, replace
    inbox = seeded['INBOX']
    unseen = next(u for u, f in inbox.items() if f == ())
    seen_flagged = next(u for u, f in inbox.items() if f == ('\\Seen', '\\Flagged'))
    all4 = next(u for u, f in inbox.items() if len(f) == 4)
    dc.set_flags('INBOX', unseen, ['\\Seen', '\\Answered', '\\Flagged'])
    dc.clear_flags('INBOX', seen_flagged, ['\\Seen', '\\Flagged'])
    dc.replace_flags('INBOX', all4, ['\\Draft'])
    # deletions
    gone_work = min(seeded['Work'])
    gone_arch = sorted(seeded['Archive.2024'])[1:3]
    dc.expunge('Work', gone_work)
    dc.expunge('Archive.2024', gone_arch)

    r = oimap.sync()
    out = output(r)
    oimap.assert_in_sync()
    assert len(copy_lines(r)) == 3, runner.describe(r)
    loc = local_by_uid(oimap, 'INBOX')
    for u in new_inbox:
        assert u in loc, f'new server message INBOX UID {u} not downloaded'
    assert loc[new_inbox[1]].subdir == 'cur' and loc[new_inbox[1]].flags == 'FS'
    assert local_by_uid(oimap, 'Empty')[new_empty].flags == 'R'
    assert loc[unseen].flags == 'FRS' and loc[unseen].subdir == 'cur', loc[unseen].name
    assert loc[seen_flagged].flags == '' and loc[seen_flagged].subdir == 'new', \
        f'Seen removed on the server: the file belongs in new/ ({loc[seen_flagged].path})'
    assert loc[all4].flags == 'D'
    for f in (unseen, seen_flagged, all4):
        check_name(loc[f], 'INBOX')
        assert oimap.status_rows('INBOX')[f][0] == loc[f].flags
    assert gone_work not in local_by_uid(oimap, 'Work')
    assert not set(gone_arch) & set(local_by_uid(oimap, 'Archive.2024'))
    assert gone_work not in oimap.status_rows('Work')
    assert not set(gone_arch) & set(oimap.status_rows('Archive.2024'))
    assert re.search(rf'Deleting 1 messages \({gone_work}\) in ', out), runner.describe(r)
    assert re.search(rf'Deleting 2 messages \({gone_arch[0]}:{gone_arch[1]}\) in ', out), \
        runner.describe(r)
    assert 'Adding flag' in out and 'Deleting flag' in out, runner.describe(r)
    # and the next run is quiet again
    r = oimap.sync()
    assert change_lines(r) == [], runner.describe(r)


# ----------------------------------------------------------------------------- local -> server


def test_new_local_message_is_uploaded_and_renamed(oimap, dovecot, mailgen):
    first_sync(oimap, mailgen, counts={'INBOX': 2, 'Work': 1})
    plain = to_lf(mailgen.plain())
    seen = to_lf(mailgen.plain())
    work = to_lf(mailgen.plain())
    p_plain = md.add_message(oimap.local_folder('INBOX'), plain)
    p_seen = md.add_message(oimap.local_folder('INBOX'), seen, flags='SF')
    p_work = md.add_message(oimap.local_folder('Work'), work)
    assert ',U=' not in p_plain.name and p_plain.parent.name == 'new'
    originals = {md.parse_name(p.name)['base'] for p in (p_plain, p_seen, p_work)}
    before_uids = {f: set(dovecot.flags(f)) for f in ('INBOX', 'Work')}

    r = oimap.sync()
    assert len(copy_lines(r)) == 3, runner.describe(r)
    for p in (p_plain, p_seen, p_work):
        assert not p.exists(), f'{p.name} should have been renamed to carry U= and FMD5'
    srv_inbox = dovecot.messages('INBOX')
    srv_work = dovecot.messages('Work')
    for folder, content, flags, srv in (('INBOX', plain, set(), srv_inbox),
                                         ('INBOX', seen, {'\\Seen', '\\Flagged'}, srv_inbox),
                                         ('Work', work, set(), srv_work)):
        up = [u for u, (_f, b) in srv.items() if b == to_crlf(content)]
        assert len(up) == 1, f'{folder}: uploaded message found {len(up)} times on the server'
        uid = up[0]
        assert uid not in before_uids[folder]
        assert srv[uid][0] == flags, f'{folder} UID {uid}: server flags {srv[uid][0]}'
        locs = [m for m in md.read_folder(oimap.maildir, folder) if m.content == content]
        assert len(locs) == 1, f'{folder}: {len(locs)} local copies of the uploaded message'
        check_uploaded_name(locs[0], folder, uid, letters(flags), originals)
        assert oimap.status_rows(folder)[uid] == (letters(flags), 0, '')
    oimap.assert_in_sync()
    before = full_state(oimap)
    r = oimap.sync()
    assert change_lines(r) == [], runner.describe(r)
    assert_same_state(before, full_state(oimap), 'the run after an upload')


def test_local_flag_rename_reaches_server(oimap, dovecot, mailgen):
    seeded = first_sync(oimap, mailgen, counts={'INBOX': 8})
    inbox = seeded['INBOX']
    loc = local_by_uid(oimap, 'INBOX')
    unseen = next(u for u, f in inbox.items() if f == ())
    seen_flagged = next(u for u, f in inbox.items() if f == ('\\Seen', '\\Flagged'))
    draft = next(u for u, f in inbox.items() if f == ('\\Draft',))
    all4 = next(u for u, f in inbox.items() if len(f) == 4)
    keyword = next(u for u, f in inbox.items() if '$Forwarded' in f)
    assert loc[unseen].subdir == 'new'
    md.set_flags(loc[unseen].path, 'F')          # new/ -> cur/:2,F (mutt)
    md.set_flags(loc[seen_flagged].path, '')      # remove S and F
    md.set_flags(loc[draft].path, 'DRS')          # add R and S
    md.set_flags(loc[all4].path, 'T' + 'DFRS')    # trashed: \Deleted
    md.set_flags(loc[keyword].path, 'FS')         # keyword must survive on the server

    r = oimap.sync()
    out = output(r)
    assert copy_lines(r) == [], runner.describe(r)
    srv = dovecot.flags('INBOX')
    assert srv[unseen] == {'\\Flagged'}
    assert srv[seen_flagged] == set()
    assert srv[draft] == {'\\Draft', '\\Answered', '\\Seen'}
    assert srv[all4] == {'\\Answered', '\\Draft', '\\Flagged', '\\Seen', '\\Deleted'}
    assert srv[keyword] == {'\\Seen', '\\Flagged', '$Forwarded'}, \
        'a keyword the Maildir cannot show must not be removed from the server'
    assert sorted(srv) == sorted(inbox), 'no message may appear or vanish'
    assert 'Adding flag' in out and 'Deleting flag' in out, runner.describe(r)
    rows = oimap.status_rows('INBOX')
    assert {u: rows[u][0] for u in (unseen, seen_flagged, draft, all4, keyword)} == \
        {unseen: 'F', seen_flagged: '', draft: 'DRS', all4: 'DFRST', keyword: 'FS'}
    oimap.assert_in_sync()
    before = full_state(oimap)
    r = oimap.sync()
    assert change_lines(r) == [], runner.describe(r)
    assert_same_state(before, full_state(oimap), 'the run after a flag change')


def test_local_deletion_reaches_server(oimap, dovecot, mailgen):
    seeded = first_sync(oimap, mailgen, counts={'INBOX': 4, 'Work': 3})
    loc_inbox = local_by_uid(oimap, 'INBOX')
    loc_work = local_by_uid(oimap, 'Work')
    gone_inbox = sorted(seeded['INBOX'])[1:3]
    gone_work = max(seeded['Work'])
    for u in gone_inbox:
        md.delete(loc_inbox[u].path)
    md.delete(loc_work[gone_work].path)

    r = oimap.sync()
    assert copy_lines(r) == [], runner.describe(r)
    assert sorted(dovecot.flags('INBOX')) == sorted(set(seeded['INBOX']) - set(gone_inbox))
    assert sorted(dovecot.flags('Work')) == sorted(set(seeded['Work']) - {gone_work})
    assert not set(gone_inbox) & set(oimap.status_rows('INBOX'))
    assert gone_work not in oimap.status_rows('Work')
    assert re.search(rf'Deleting 2 messages \({gone_inbox[0]}:{gone_inbox[1]}\) in ',
                     output(r)), runner.describe(r)
    oimap.assert_in_sync()
    r = oimap.sync()
    assert change_lines(r) == [], runner.describe(r)


# ----------------------------------------------------------------------------- conflicts


def test_conflicting_changes_follow_offlineimaps_rule(oimap, dovecot, mailgen):
    """Remote changes are applied first, per flag, then the local ones (REFERENCE 5.3):
    changes to different flags merge, the same change on both sides is applied once, and a
    deletion on one side wins over a flag change on the other."""
    dc = dovecot
    msgs = [mailgen.plain() for _ in range(6)]
    uids = [dc.append('INBOX', m, flags=f) for m, f in zip(msgs, [
        ('\\Seen', '\\Flagged'), (), ('\\Seen',), ('\\Seen',), (), ('\\Seen', '\\Answered')])]
    a, b, c, d, e, f = uids
    oimap.sync()
    loc = local_by_uid(oimap, 'INBOX')
    # a: server -F +R, local -S +D               -> D R
    dc.clear_flags('INBOX', a, '\\Flagged')
    dc.set_flags('INBOX', a, '\\Answered')
    md.set_flags(loc[a].path, 'DF')
    # b: both add S                              -> S
    dc.set_flags('INBOX', b, '\\Seen')
    md.set_flags(loc[b].path, 'S')
    # c: server adds F, local deletes the file   -> deleted everywhere
    dc.set_flags('INBOX', c, '\\Flagged')
    md.delete(loc[c].path)
    # d: server expunges, local adds F           -> deleted everywhere
    dc.expunge('INBOX', d)
    md.set_flags(loc[d].path, 'FS')
    # e: server adds F and D, local adds F                    -> D F
    dc.set_flags('INBOX', e, ['\\Flagged', '\\Draft'])
    md.set_flags(loc[e].path, 'F')
    # f: server removes S, local removes S and adds F          -> F R
    dc.clear_flags('INBOX', f, '\\Seen')
    md.set_flags(loc[f].path, 'FR')

    r = oimap.sync()
    assert copy_lines(r) == [], runner.describe(r)
    srv = dc.flags('INBOX')
    assert sorted(srv) == sorted([a, b, e, f]), \
        f'messages deleted on either side must be gone from the server: {sorted(srv)}'
    got = {u: letters(fl) for u, fl in srv.items()}
    assert got == {a: 'DR', b: 'S', e: 'DF', f: 'FR'}, f'server flags {got}'
    loc = local_by_uid(oimap, 'INBOX')
    assert sorted(loc) == sorted([a, b, e, f]), f'local UIDs {sorted(loc)}'
    assert {u: m.flags for u, m in loc.items()} == got
    assert {u: fl for u, (fl, _m, _l) in oimap.status_rows('INBOX').items()} == got
    oimap.assert_in_sync()
    r = oimap.sync()
    assert change_lines(r) == [], runner.describe(r)


# ----------------------------------------------------------------------------- accounts


@pytest.mark.dovecot(users={'test': 'testpass', 'other': 'other pass%'})
def test_account_selection_with_two_accounts(oimap, dovecot, mailgen):
    dc = dovecot
    mail_b = oimap.workdir / 'MailB'
    dc.append('INBOX', mailgen.plain(), flags=['\\Seen'])
    dc.create('Work', user='other')
    b_msgs = [dc.append('INBOX', mailgen.plain(), user='other'),
              dc.append('Work', mailgen.plain(), flags=['\\Flagged'], user='other')]
    extra = {
        'Account Other': {'localrepository': 'Other-Local', 'remoterepository': 'Other-Remote'},
        'Repository Other-Local': {'type': 'Maildir', 'localfolders': mail_b},
        'Repository Other-Remote': {'type': 'IMAP', 'remotehost': dc.host,
                                    'remoteport': dc.port, 'remoteuser': 'other',
                                    'remotepass': 'other pass%%', 'ssl': False,
                                    'starttls': False},
    }
    oimap.write_config(general={'accounts': 'Test, Other'}, extra_sections=extra)

    r = oimap.sync('-a', 'Other')
    assert 'Processing account Other' in output(r) and \
        'Processing account Test' not in output(r), runner.describe(r)
    assert local_files(oimap.maildir) == {}, '-a Other must not sync account Test'
    assert not (oimap.metadata / 'Account-Test').exists()
    snap_b = runner.snapshot(dc, mail_b, user='other')
    snap_b.assert_in_sync()
    assert snap_b.counts() == {'INBOX': (1, 1), 'Work': (1, 1)}
    assert runner.status_rows(runner.status_db_path(oimap.metadata, 'Other', 'Work')) == \
        {b_msgs[1]: ('F', 0, '')}

    r = oimap.sync()  # the accounts from [general]
    out = output(r)
    assert 'Processing account Test' in out, runner.describe(r)
    assert len(copy_lines(r)) == 1, 'only account Test had anything new'
    oimap.assert_in_sync()
    runner.snapshot(dc, mail_b, user='other').assert_in_sync()
    assert (oimap.metadata / 'Account-Test' / 'LocalStatus-sqlite' / 'INBOX').exists()


# ----------------------------------------------------------------------------- dry run


def _changes_on_both_sides(s, gen, seeded) -> dict:
    dc = s.dovecot
    loc = local_by_uid(s, 'INBOX')
    inbox = sorted(seeded['INBOX'])
    ch = {
        'server_new': dc.append('INBOX', gen.plain()),
        'server_flag': inbox[0],
        'server_gone': inbox[1],
        'local_flag': inbox[2],
        'local_gone': inbox[3],
    }
    dc.set_flags('INBOX', inbox[0], '\\Flagged')
    dc.expunge('INBOX', inbox[1])
    md.set_flags(loc[inbox[2]].path, loc[inbox[2]].flags + 'R')
    md.delete(loc[inbox[3]].path)
    ch['local_new'] = to_lf(gen.plain())
    md.add_message(s.local_folder('Work'), ch['local_new'])
    return ch


@pytest.mark.threads
def test_dry_run_changes_nothing(oimap, dovecot, mailgen):
    seeded = first_sync(oimap, mailgen, **threaded())
    ch = _changes_on_both_sides(oimap, mailgen, seeded)
    before = full_state(oimap)
    r = oimap.sync('--dry-run')
    assert '[DRYRUN]' in output(r), f'a dry run says so:\n{runner.describe(r)}'
    assert_same_state(before, full_state(oimap), '--dry-run')

    # the dry run recorded nothing: a real run still does all of it
    r = oimap.sync()
    oimap.assert_in_sync()
    srv = dovecot.flags('INBOX')
    assert ch['server_new'] in local_by_uid(oimap, 'INBOX')
    assert local_by_uid(oimap, 'INBOX')[ch['server_flag']].flags.count('F') == 1
    assert ch['server_gone'] not in local_by_uid(oimap, 'INBOX')
    assert '\\Answered' in srv[ch['local_flag']]
    assert ch['local_gone'] not in srv
    assert any(b == to_crlf(ch['local_new']) for _f, b in dovecot.messages('Work').values())


@pytest.mark.threads
def test_dry_run_on_first_sync_writes_no_mail(oimap, dovecot, mailgen):
    seed(dovecot, mailgen)
    oimap.write_config(**threaded())
    # a folder that exists only locally, with a message from a mail reader
    local_only = md.make_folder(oimap.maildir, 'LocalOnly')
    md.add_message(local_only, to_lf(mailgen.plain()))
    files_before = local_files(oimap.maildir)
    server_before = server_state(dovecot)
    r = oimap.sync('--dry-run', ok=False)
    assert local_files(oimap.maildir) == files_before, 'a dry run must not write message files'
    assert md.list_folders(oimap.maildir) == ['LocalOnly'], \
        f'a dry run must not create local folders:\n{runner.describe(r)}'
    assert server_state(dovecot) == server_before, \
        f'a dry run must not touch the server (no folder, no message):\n{runner.describe(r)}'
    assert '[DRYRUN]' in output(r), runner.describe(r)
    r = oimap.sync()
    assert len(copy_lines(r)) == sum(SEED.values()) + 1, \
        f'after a dry run, the real first sync must copy everything:\n{runner.describe(r)}'
    oimap.assert_in_sync()


def test_dry_run_on_first_sync_reports_without_errors(oimap, dovecot, mailgen):
    """A dry run of a new configuration is what --dry-run is for: it must say what it
    would do and succeed. (offlineimap3 8.0.0 fails here with "getfolder() asked for a
    nonexisting folder", because the folders it only pretended to create are missing.)"""
    seed(dovecot, mailgen, counts={'INBOX': 2, 'Work': 1})
    r = oimap.sync('--dry-run', ok=False)
    assert r.returncode == 0 and 'ERROR' not in output(r), \
        f'--dry-run on a first sync failed:\n{runner.describe(r)}'
    assert '[DRYRUN]' in output(r), runner.describe(r)
    assert local_files(oimap.maildir) == {}


# ----------------------------------------------------------------------------- readonly, sync_deletes


def test_remote_readonly_never_writes_to_the_server(oimap, dovecot, mailgen):
    seeded = first_sync(oimap, mailgen, counts={'INBOX': 5})
    dc = dovecot
    inbox = sorted(seeded['INBOX'])
    # server changes still arrive
    new_srv = dc.append('INBOX', mailgen.plain(), flags=['\\Seen'])
    dc.set_flags('INBOX', inbox[0], '\\Flagged')
    dc.expunge('INBOX', inbox[1])
    # local changes stay local
    loc = local_by_uid(oimap, 'INBOX')
    md.set_flags(loc[inbox[2]].path, 'DRS')
    md.delete(loc[inbox[3]].path)
    new_local = md.add_message(oimap.local_folder('INBOX'), to_lf(mailgen.plain()))
    oimap.write_config(remote_opts={'readonly': True})
    server_before = server_state(dc)

    r = oimap.sync()
    assert server_state(dc) == server_before, \
        f'readonly remote repository was changed:\n{runner.describe(r)}'
    loc = local_by_uid(oimap, 'INBOX')
    assert new_srv in loc and loc[new_srv].flags == 'S'
    assert 'F' in loc[inbox[0]].flags
    assert inbox[1] not in loc
    assert loc[inbox[2]].flags == 'DRS', 'the local flag change must stay'
    assert inbox[3] not in loc, 'the locally deleted message must not come back'
    assert new_local.exists(), 'the local message must not be uploaded (or renamed)'
    r = oimap.sync()
    assert server_state(dc) == server_before
    assert change_lines(r) == [], runner.describe(r)


def test_local_readonly_never_writes_to_the_maildir(oimap, dovecot, mailgen):
    seeded = first_sync(oimap, mailgen, counts={'INBOX': 5})
    dc = dovecot
    inbox = sorted(seeded['INBOX'])
    # server changes do not arrive
    dc.append('INBOX', mailgen.plain(), flags=['\\Seen'])
    dc.set_flags('INBOX', inbox[0], '\\Flagged')
    dc.expunge('INBOX', inbox[1])
    # local changes still go out
    loc = local_by_uid(oimap, 'INBOX')
    md.set_flags(loc[inbox[2]].path, 'DRS')
    md.delete(loc[inbox[3]].path)
    oimap.write_config(local_opts={'readonly': True})
    local_before = local_files(oimap.maildir)

    r = oimap.sync()
    assert local_files(oimap.maildir) == local_before, \
        f'readonly local repository was changed:\n{runner.describe(r)}'
    assert copy_lines(r) == [], runner.describe(r)
    srv = dc.flags('INBOX')
    assert letters(srv[inbox[2]]) == 'DRS', 'the local flag change must reach the server'
    assert inbox[3] not in srv, 'the local deletion must reach the server'
    r = oimap.sync()
    assert local_files(oimap.maildir) == local_before
    assert change_lines(r) == [], runner.describe(r)


@pytest.mark.parametrize('side', ['remote', 'local'])
def test_sync_deletes_no(oimap, dovecot, mailgen, side):
    """sync_deletes = no on a repository: deletions made there are not propagated; other
    changes still are, and the message stays where it is on the other side."""
    seeded = first_sync(oimap, mailgen, counts={'INBOX': 4})
    dc = dovecot
    inbox = sorted(seeded['INBOX'])
    loc = local_by_uid(oimap, 'INBOX')
    # deletions on both sides; only the one from the side with sync_deletes = yes goes
    dc.expunge('INBOX', inbox[0])
    md.delete(loc[inbox[1]].path)
    dc.set_flags('INBOX', inbox[2], '\\Flagged')
    opts = {'sync_deletes': False}
    oimap.write_config(**({'remote_opts': opts} if side == 'remote' else {'local_opts': opts}))

    r = oimap.sync()
    assert copy_lines(r) == [], 'nothing may be copied back'
    srv = dc.flags('INBOX')
    loc = local_by_uid(oimap, 'INBOX')
    assert 'F' in loc[inbox[2]].flags, 'flag changes still sync'
    if side == 'remote':
        assert inbox[0] in loc, 'the server deletion must not be propagated (sync_deletes = no)'
        assert inbox[1] not in srv, 'the local deletion must still be propagated'
    else:
        assert inbox[1] in srv, 'the local deletion must not be propagated (sync_deletes = no)'
        assert inbox[0] not in loc, 'the server deletion must still be propagated'
    assert inbox[1] not in loc and inbox[0] not in srv
    r = oimap.sync()
    assert change_lines(r) == [], f'the state must be stable:\n{runner.describe(r)}'


# ----------------------------------------------------------------------------- UIDVALIDITY


@pytest.mark.threads
def test_uidvalidity_change_skips_the_folder(oimap, dovecot, mailgen):
    seeded = first_sync(oimap, mailgen, **threaded())
    dc = dovecot
    work = sorted(seeded['Work'])
    old_uv = dc.uidvalidity('Work')
    # Work is recreated: its first message is gone, a new one is there, UIDs start at 1
    msgs = dc.messages('Work')
    keep = [(msgs[u][1], sorted(msgs[u][0])) for u in work[1:]] + [mailgen.plain()]
    new_uv = dc.recreate_folder_with_new_uidvalidity('Work', keep)
    assert sorted(dc.flags('Work')) == list(range(1, len(keep) + 1))
    # meanwhile, other folders change on both sides
    new_inbox = dc.append('INBOX', mailgen.plain())
    up = to_lf(mailgen.plain())
    md.add_message(oimap.local_folder('Archive.2024'), up)

    work_local = local_files(oimap.maildir / 'Work')
    work_server = server_state(dc)['Work']
    work_status = oimap.status_rows('Work')
    r = oimap.sync(ok=False)
    out = output(r)
    assert r.returncode == 2, f'a UID validity problem exits with status 2:\n{runner.describe(r)}'
    assert re.search(rf'UID validity problem for folder Work \(repo Test-Remote\) '
                     rf'\(saved {old_uv}; got {new_uv}\); skipping it', out), runner.describe(r)
    assert local_files(oimap.maildir / 'Work') == work_local, \
        'the folder with the UID validity problem must not be changed locally'
    assert server_state(dc)['Work'] == work_server, 'nor on the server'
    assert oimap.status_rows('Work') == work_status, 'nor in the status DB'
    assert oimap.folder_validity('remote', 'Work') == old_uv, \
        'the saved UIDVALIDITY must stay, or the next run would mix the UIDs up'
    # the other folders still synced
    assert new_inbox in local_by_uid(oimap, 'INBOX')
    assert any(b == to_crlf(up) for _f, b in dc.messages('Archive.2024').values())
    oimap.snapshot().assert_in_sync(folders=['INBOX', 'Archive.2024', 'Empty'])
    # and it stays skipped until the user deals with it
    r = oimap.sync(ok=False)
    assert r.returncode == 2, runner.describe(r)
    assert 'UID validity problem for folder Work' in output(r)
    assert local_files(oimap.maildir / 'Work') == work_local
    assert server_state(dc)['Work'] == work_server
