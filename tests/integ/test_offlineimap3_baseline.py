"""offlineimap3 against the harness Dovecot: proves the harness can drive interop tests
and records what offlineimap3 really writes (names, flags, bytes, metadata), which our
binary must reproduce on the same Maildir.

Recorded behaviour of offlineimap3 8.0.0 (Debian), asserted below:
- file names: <time>_<seq>.<pid>.<host>,U=<uid>,FMD5=<md5(local folder)>:2,<sorted flags>;
  the info part is there in new/ too; Seen messages go to cur/, the others to new/.
- bytes: the server's bytes with CRLF -> LF, except where Python's email package
  re-serialises a defective message: a multipart whose final boundary is missing gets
  "--<boundary>--" appended; a multipart without a boundary parameter keeps CRLF in its
  body (LF in the header: mixed line endings). Raw 8-bit headers, encoded words, lines
  over 998 bytes, nested multiparts and a missing final newline survive unchanged.
- expunge: offlineimap3 deletes with a plain EXPUNGE, so a message that was flagged Deleted on
  the server for other reasons vanishes there too, and locally one run later.
- an uploaded local message reaches the server as the file's bytes with LF -> CRLF and
  the local file is renamed to a brand new offlineimap name; without UIDPLUS the server
  copy additionally gets an "X-OfflineIMAP: <crc32>-<random>" header, the local file not.
- metadata: Account-<a>/LocalStatus-sqlite/<folder> (db_version 2; rows uid|flags|0|''),
  Repository-<remote>/FolderValidity/<folder> = the server's UIDVALIDITY,
  Repository-<local>/FolderValidity/<folder> = 42; no <account>.lock left behind.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from harness import maildir as md
from harness import runner
from harness.mailgen import to_crlf, to_lf

pytestmark = pytest.mark.interop

NAME_RE = re.compile(r'^(\d+)_(\d+)\.(\d+)\.([^,/]+),U=(\d+),FMD5=([0-9a-f]{32}):2,([A-Za-z]*)$')

FOLDERS = ['INBOX', 'Sent', 'Archive.2024', 'Lists.dev', 'Empty']
FLAG_CYCLE = [(), ('\\Seen',), ('\\Seen', '\\Flagged'), ('\\Answered', '\\Seen'),
              ('\\Draft',), ('\\Flagged',), ('\\Seen', '\\Deleted')]


def _seed(dc, gen) -> dict[tuple[str, int], str]:
    """Fill the server; return {(folder, uid): kind}."""
    kinds = {}
    for f in FOLDERS:
        if f != 'INBOX':
            dc.create(f)
    i = 0
    for name, make in gen.kinds().items():
        uid = dc.append('INBOX', make(), flags=FLAG_CYCLE[i % len(FLAG_CYCLE)])
        kinds[('INBOX', uid)] = name
        i += 1
    for f, n in (('Sent', 4), ('Archive.2024', 6), ('Lists.dev', 3)):
        for _ in range(n):
            uid = dc.append(f, gen.plain(), flags=FLAG_CYCLE[i % len(FLAG_CYCLE)])
            kinds[(f, uid)] = 'plain'
            i += 1
    return kinds


def _known_change(kind: str, server: bytes, local: bytes) -> bool:
    """offlineimap3's re-serialisation differences we know of (see module docstring)."""
    if kind == 'missing-final-boundary':
        b = re.search(rb'boundary="([^"]+)"', server).group(1)
        return local == to_lf(server) + b'--' + b + b'--\n'
    if kind == 'multipart-no-boundary':
        # the unparsed multipart body is written as it came, CRLF and all
        head, sep, body = server.partition(b'\r\n\r\n')
        return local == to_lf(head + sep) + body
    return False


def _check_metadata(s: runner.Setup, dc, folders) -> None:
    for f in folders:
        db = s.status_db(f)
        assert db.exists(), f'no status DB for {f}'
        assert runner.status_metadata(db) == {'db_version': '2'}
        con = sqlite3.connect(f'file:{db}?mode=ro', uri=True)
        cols = [r[1] for r in con.execute('PRAGMA table_info(status)')]
        con.close()
        assert cols == ['id', 'flags', 'mtime', 'labels']
        rows = s.status_rows(f)
        server = dc.flags(f)
        assert {u: fl for u, (fl, _m, _l) in rows.items()} == \
            {u: runner.server_flags_to_letters(v) for u, v in server.items()}
        assert all(m == 0 and lab == '' for _fl, m, lab in rows.values())
        assert s.folder_validity('remote', f) == dc.uidvalidity(f)
        assert s.folder_validity('local', f.replace('.', s.sep)) == 42
    assert not (s.metadata / f'{s.account}.lock').exists()


def test_initial_download_names_flags_bytes_metadata(dovecot, oimap3, mailgen):
    kinds = _seed(dovecot, mailgen)
    r = oimap3.sync()
    assert 'ERROR' not in r.stdout + r.stderr, runner.describe(r)

    snap = oimap3.snapshot()
    assert sorted(snap.local) == sorted(FOLDERS)
    assert snap.local['Empty'] == []
    for folder, files in snap.local_files.items():
        for m in files:
            g = NAME_RE.match(m.name)
            assert g, f'unexpected file name {m.name}'
            assert g.group(6) == md.folder_md5(folder)
            assert g.group(7) == ''.join(sorted(g.group(7)))
            assert m.subdir == ('cur' if 'S' in m.flags else 'new'), m.name
            assert g.group(4) == md.hostname()

    assert snap.diff(compare_bytes=False) == []
    differing = {}
    for folder, ents in snap.server.items():
        local = {e.uid: e for e in snap.local[folder]}
        for e in ents:
            lb = Path(local[e.uid].where).read_bytes()
            if lb != to_lf(e.body):
                kind = kinds[(folder, e.uid)]
                assert _known_change(kind, e.body, lb), \
                    f'{folder} UID {e.uid} ({kind}) changed unexpectedly'
                differing[kind] = differing.get(kind, 0) + 1
    assert differing == {'missing-final-boundary': 1, 'multipart-no-boundary': 1}
    _check_metadata(oimap3, dovecot, FOLDERS)


def test_second_run_carries_changes_both_ways(dovecot, oimap3, mailgen):
    _seed(dovecot, mailgen)
    oimap3.sync()
    # server side: a new message, a flag added, a message expunged
    new_uid = dovecot.append('Sent', mailgen.plain(), flags=['\\Seen'])
    dovecot.set_flags('Archive.2024', 1, '\\Flagged')
    dovecot.expunge('Lists.dev', 2)
    # local side: a new message from a mail reader, a flag renamed, a file deleted
    sent_local = md.read_folder(oimap3.maildir, 'Sent')
    fresh = to_lf(mailgen.plain())
    md.add_message(oimap3.local_folder('INBOX'), fresh)
    target = next(m for m in sent_local if m.uid == 1)
    md.set_flags(target.path, target.flags + 'R')
    gone = next(m for m in md.read_folder(oimap3.maildir, 'Archive.2024') if m.uid == 2)
    md.delete(gone.path)

    deleted_flagged = {u for u, f in dovecot.flags('Archive.2024').items()
                       if '\\Deleted' in f}
    assert deleted_flagged
    r = oimap3.sync()
    assert 'ERROR' not in r.stdout + r.stderr, runner.describe(r)
    # the local deletion went out as STORE \Deleted + plain EXPUNGE, which also removed
    # the messages that were already \Deleted on the server; they go locally next run
    assert not deleted_flagged & set(dovecot.flags('Archive.2024'))
    snap = oimap3.snapshot()
    assert snap.diff(normalize=_ignore_closing_boundary) == [
        f'Archive.2024: UID {u} locally only ({e.where})'
        for u in sorted(deleted_flagged)
        for e in snap.local['Archive.2024'] if e.uid == u]
    oimap3.sync()
    snap = oimap3.snapshot()
    assert snap.diff(normalize=_ignore_closing_boundary) == []
    assert new_uid in {e.uid for e in snap.local['Sent']}
    assert 'F' in next(e.flags for e in snap.local['Archive.2024'] if e.uid == 1)
    assert 2 not in {e.uid for e in snap.local['Lists.dev']}
    assert 'R' in runner.server_flags_to_letters(dovecot.flags('Sent')[1])
    assert 2 not in dovecot.flags('Archive.2024')
    # the mail reader's message: uploaded byte for byte, then renamed locally
    up = [u for u, (_f, b) in dovecot.messages('INBOX').items() if b == to_crlf(fresh)]
    assert len(up) == 1
    local = [m for m in md.read_folder(oimap3.maildir, 'INBOX') if m.content == fresh]
    assert len(local) == 1 and local[0].uid == up[0] and NAME_RE.match(local[0].name)
    _check_metadata(oimap3, dovecot, FOLDERS)


def _ignore_closing_boundary(b: bytes) -> bytes:
    m = re.search(rb'boundary="([^"]+)"', b)
    if m:
        closing = b'--' + m.group(1) + b'--\r\n'
        if b.endswith(closing) and b.count(closing) == 1:
            return b[:-len(closing)]
    return b


@pytest.mark.dovecot(capabilities_remove=['UIDPLUS'])
def test_upload_without_uidplus_adds_x_offlineimap_on_the_server_only(dovecot, oimap3, mailgen):
    dovecot.append('INBOX', mailgen.plain())
    oimap3.sync()
    msg = to_lf(mailgen.plain())
    md.add_message(oimap3.local_folder('INBOX'), msg)
    r = oimap3.sync()
    assert 'ERROR' not in r.stdout + r.stderr, runner.describe(r)
    srv = dovecot.messages('INBOX')
    assert len(srv) == 2
    body = srv[max(srv)][1]
    hdr = re.search(rb'^X-OfflineIMAP: (\d+)-(\d+)\r$', body, re.M)
    assert hdr, body[:400]
    assert body.replace(hdr.group(0) + b'\n', b'') == to_crlf(msg)
    local = [m for m in md.read_folder(oimap3.maildir, 'INBOX') if m.uid == max(srv)]
    assert len(local) == 1 and local[0].content == msg
    snap = oimap3.snapshot()
    assert snap.diff(compare_bytes=False) == []


@pytest.mark.dovecot(ssl=True)
@pytest.mark.parametrize('verify', ['cafile', 'fingerprint'])
def test_over_tls(dovecot, oimap3, mailgen, verify):
    dovecot.append('INBOX', mailgen.plain(), flags=['\\Seen'])
    if verify == 'cafile':
        oimap3.write_config()
    else:
        oimap3.write_config(remote_opts={'sslcacertfile': None,
                                         'cert_fingerprint': dovecot.server_fingerprint()})
    r = oimap3.sync()
    assert 'ERROR' not in r.stdout + r.stderr, runner.describe(r)
    oimap3.assert_in_sync()
    assert f'127.0.0.1:{dovecot.ssl_port}' in r.stdout


def test_slash_separator_layout(dovecot, tmp_path, mailgen):
    s = runner.Setup(dovecot, tmp_path / 'w', binary=runner.OFFLINEIMAP3, sep='/')
    dovecot.create('Archive.2024')
    dovecot.append('Archive.2024', mailgen.plain(), flags=['\\Seen'])
    s.sync()
    d = s.maildir / 'Archive' / '2024'
    assert md.is_maildir(d) and not md.is_maildir(s.maildir / 'Archive')
    (m,) = md.read_folder(s.maildir, 'Archive/2024')
    assert m.fmd5 == md.folder_md5('Archive/2024') and m.uid == 1
    assert s.status_db('Archive.2024').exists()
    assert s.folder_validity('local', 'Archive/2024') == 42
    assert (s.metadata / 'Repository-Test-Local' / 'FolderValidity' / 'Archive.2024').exists()
    s.assert_in_sync()


def test_wrong_password_fails_cleanly(dovecot, oimap3):
    oimap3.write_config(remote_opts={'remotepass': 'wrong'})
    r = oimap3.sync(ok=False)
    assert r.returncode != 0
    assert 'authentication failed' in (r.stdout + r.stderr).lower()
