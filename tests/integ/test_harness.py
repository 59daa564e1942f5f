"""Tests of the test harness itself: the private Dovecot, the generators, the Maildir
reader and the config/snapshot helpers. They need no binary of ours."""

from __future__ import annotations

import base64
import configparser
import email
import email.policy
import hashlib
import hmac
import imaplib
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from harness import dovecot as dvc
from harness import imaputil
from harness import maildir as md
from harness import runner
from harness.dovecot import Dovecot, make_basedir
from harness.mailgen import MailGen, to_crlf, to_lf

# ------------------------------------------------------------------------- lifecycle


def test_start_stop_timing_and_cleanup():
    base = make_basedir()
    try:
        dc = Dovecot(base)
        dc.start()
        assert dc.running
        master = dc.master_pid()
        assert master == dc._proc.pid
        port = dc.port
        assert dc.start_seconds < 1.0, f'start took {dc.start_seconds:.3f} s'
        c = dc.client()
        c.noop()
        c.logout()
        dc.stop()
        assert dc.stop_seconds < 1.0, f'stop took {dc.stop_seconds:.3f} s'
        assert not dc.running
        assert not dvc._alive(master)
        with pytest.raises(OSError):
            socket.create_connection((dc.host, port), timeout=1).close()
        # nothing of this instance is left running
        out = subprocess.run(['ps', '-eo', 'stat,args'], capture_output=True, text=True).stdout
        live = [ln for ln in out.splitlines()
                if dc.instance_name in ln and not ln.lstrip().startswith('Z')]
        assert live == []
        print(f'start {dc.start_seconds * 1000:.1f} ms, stop {dc.stop_seconds * 1000:.1f} ms')
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_many_instances_back_to_back_and_side_by_side():
    bases = [make_basedir() for _ in range(12)]
    try:
        t0 = time.monotonic()
        for b in bases[:10]:
            with Dovecot(b) as dc:
                assert dc.append('INBOX', b'Subject: s\r\n\r\nx\r\n') == 1
        per = (time.monotonic() - t0) / 10
        assert per < 1.0
        with Dovecot(bases[10]) as a, Dovecot(bases[11]) as b:
            assert a.port != b.port
            a.append('INBOX', b'Subject: a\r\n\r\na\r\n')
            assert b.messages('INBOX') == {}
        print(f'{per * 1000:.1f} ms per start+append+stop')
    finally:
        for b in bases:
            shutil.rmtree(b, ignore_errors=True)


def test_port_taken_between_probe_and_bind_is_retried(monkeypatch):
    busy = socket.socket()
    busy.bind(('127.0.0.1', 0))
    busy.listen(1)
    taken = busy.getsockname()[1]
    real = dvc.free_port
    ports = iter([taken])
    monkeypatch.setattr(dvc, 'free_port', lambda: next(ports, None) or real())
    base = make_basedir()
    try:
        with Dovecot(base) as dc:
            assert dc.port != taken
            assert 'Address already in use' in dc.stderr_path.read_text()
            c = dc.client()
            c.logout()
    finally:
        busy.close()
        shutil.rmtree(base, ignore_errors=True)


def test_bad_config_fails_clearly():
    base = make_basedir()
    try:
        dc = Dovecot(base, extra_conf='no_such_setting = 1\n')
        with pytest.raises(dvc.DovecotError, match='no_such_setting'):
            dc.start()
        assert not dc.running
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason='needs root to switch to nobody')
def test_works_as_a_normal_user():
    where = make_basedir()
    script = where / 'as_user.py'
    script.write_text(
        'import sys, shutil\n'
        f'sys.path.insert(0, {str(Path(__file__).parents[1])!r})\n'
        'from harness.dovecot import Dovecot, make_basedir\n'
        'd = make_basedir()\n'
        'try:\n'
        '    with Dovecot(d, ssl=True) as dc:\n'
        '        assert dc.mail_user == "nobody"\n'
        '        uid = dc.append("INBOX", b"Subject: x\\r\\n\\r\\ny\\r\\n", flags=["\\\\Seen"])\n'
        '        assert dc.messages("INBOX") == {uid: ({"\\\\Seen"}, b"Subject: x\\r\\n\\r\\ny\\r\\n")}\n'
        '        dc.client(tls=True).logout()\n'
        '    print("OK", dc.start_seconds, dc.stop_seconds)\n'
        'finally:\n'
        '    shutil.rmtree(d)\n')
    script.chmod(0o644)
    try:
        r = subprocess.run(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups',
                            'env', 'HOME=/tmp', sys.executable, str(script)],
                           capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    assert r.returncode == 0 and r.stdout.startswith('OK'), r.stdout + r.stderr


# ------------------------------------------------------------------------- login


def _scram(user: str, password: str, algo: str):
    """An imaplib authobject speaking SCRAM-<algo>; state['verified'] after success."""
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f'n={user},r={nonce}'
    state = {'step': 0}

    def step(challenge: bytes) -> bytes:
        if state['step'] == 0:
            state['step'] = 1
            return ('n,,' + first_bare).encode()
        if state['step'] == 1:
            state['step'] = 2
            server_first = challenge.decode()
            attrs = dict(kv.split('=', 1) for kv in server_first.split(','))
            assert attrs['r'].startswith(nonce)
            salted = hashlib.pbkdf2_hmac(algo, password.encode(), base64.b64decode(attrs['s']),
                                         int(attrs['i']))
            client_key = hmac.new(salted, b'Client Key', algo).digest()
            stored = hashlib.new(algo, client_key).digest()
            without_proof = f'c={base64.b64encode(b"n,,").decode()},r={attrs["r"]}'
            auth_msg = f'{first_bare},{server_first},{without_proof}'.encode()
            proof = bytes(a ^ b for a, b in
                          zip(client_key, hmac.new(stored, auth_msg, algo).digest()))
            server_key = hmac.new(salted, b'Server Key', algo).digest()
            state['expect'] = 'v=' + base64.b64encode(
                hmac.new(server_key, auth_msg, algo).digest()).decode()
            return f'{without_proof},p={base64.b64encode(proof).decode()}'.encode()
        state['verified'] = challenge.decode() == state['expect']
        return b''

    return step, state


@pytest.mark.dovecot(users={'test': 'testpass', 'other': 'p%ss w0rd "q"'})
def test_login_and_every_mechanism(dovecot):
    caps = dovecot.client(login=False)
    pre = set(caps.capabilities)
    caps.logout()
    for m in ('PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256'):
        assert f'AUTH={m}' in pre
    for user in ('test', 'other'):
        pw = dovecot.password(user)
        c = dovecot.client(user)  # LOGIN command
        c.logout()
        c = dovecot.client(login=False)
        c.authenticate('PLAIN', lambda _: f'\0{user}\0{pw}'.encode())
        c.logout()
        c = dovecot.client(login=False)
        c.login_cram_md5(user, pw)
        c.logout()
        for algo, mech in (('sha1', 'SCRAM-SHA-1'), ('sha256', 'SCRAM-SHA-256')):
            c = dovecot.client(login=False)
            step, st = _scram(user, pw, algo)
            c.authenticate(mech, step)
            assert st.get('verified'), f'{mech}: server signature not verified'
            c.logout()
    c = dovecot.client(login=False)
    with pytest.raises(imaplib.IMAP4.error):
        c.login('test', 'wrong')
    c.logout()


def test_added_user_can_log_in(dovecot):
    dovecot.add_user('late', 'latepass')
    c = dovecot.client('late')
    c.logout()
    dovecot.append('INBOX', b'Subject: x\r\n\r\nx\r\n', user='late')
    assert len(dovecot.messages('INBOX', user='late')) == 1
    assert dovecot.messages('INBOX') == {}


def test_many_concurrent_connections(dovecot):
    conns = [dovecot.client() for _ in range(25)]
    for c in conns:
        c.select('INBOX')
    for c in conns:
        c.logout()


# ------------------------------------------------------------------------- messages


def test_append_and_fetch_exact_bytes(dovecot, mailgen):
    msgs = mailgen.one_of_each() + [mailgen.attachment(300_000)]
    uids = [dovecot.append('INBOX', m) for m in msgs]
    assert uids == list(range(1, len(msgs) + 1))
    got = dovecot.messages('INBOX')
    assert sorted(got) == uids
    for uid, m in zip(uids, msgs):
        assert got[uid][1] == m, f'UID {uid} changed on the way through Dovecot'
    # the message without a final newline stays without one
    assert any(not b.endswith(b'\n') for _f, b in got.values())
    # raw 8-bit header bytes are kept
    assert any(b'Gr\xfc\xdfe' in b or b'Caf\xe9' in b or b'\xc5ngstr' in b
               for _f, b in got.values())


def test_lf_is_served_as_crlf_and_stored_as_lf(dovecot):
    uid = dovecot.append('INBOX', b'Subject: lf\n\nline one\nline two\n')
    assert dovecot.messages('INBOX')[uid][1] == b'Subject: lf\r\n\r\nline one\r\nline two\r\n'
    files = [p for sub in ('new', 'cur') for p in (dovecot.maildir_path() / sub).iterdir()]
    assert [p.read_bytes() for p in files] == [b'Subject: lf\n\nline one\nline two\n']


def test_internaldate(dovecot):
    uid = dovecot.append('INBOX', b'Subject: d\r\n\r\nd\r\n', date=1_600_000_000)
    c = dovecot.client()
    c.select('INBOX', readonly=True)
    typ, data = c.uid('FETCH', str(uid), '(INTERNALDATE)')
    c.logout()
    assert time.mktime(imaplib.Internaldate2tuple(data[0])) == 1_600_000_000


def test_flags_set_clear_replace(dovecot):
    a = dovecot.append('INBOX', b'Subject: a\r\n\r\na\r\n', flags=('\\Seen', '\\Flagged'))
    b = dovecot.append('INBOX', b'Subject: b\r\n\r\nb\r\n', flags='\\Draft $Forwarded')
    assert dovecot.flags('INBOX') == {a: {'\\Seen', '\\Flagged'}, b: {'\\Draft', '$Forwarded'}}
    dovecot.set_flags('INBOX', [a, b], ['\\Answered'])
    dovecot.clear_flags('INBOX', a, '\\Flagged')
    dovecot.replace_flags('INBOX', b, ())
    got = dovecot.messages('INBOX')
    assert got[a][0] == {'\\Seen', '\\Answered'}
    assert got[b][0] == set()
    # messages() is read-only: BODY.PEEK does not set \Seen, EXAMINE keeps \Recent
    assert '\\Seen' not in dovecot.flags('INBOX')[b]


def test_expunge_removes_exactly_the_given_uids(dovecot):
    uids = [dovecot.append('INBOX', f'Subject: {i}\r\n\r\n{i}\r\n'.encode()) for i in range(5)]
    dovecot.set_flags('INBOX', uids[0], '\\Deleted')
    dovecot.expunge('INBOX', [uids[1], uids[3]])
    assert sorted(dovecot.messages('INBOX')) == [uids[0], uids[2], uids[4]]


def test_folders_create_list_delete_rename(dovecot):
    dovecot.create('Archive.2024')
    dovecot.create('Lists.dev', subscribe=True)
    dovecot.create('Ünïcødé & Co')
    assert dovecot.list_folders() == sorted(['INBOX', 'Archive', 'Archive.2024', 'Lists',
                                             'Lists.dev', 'Ünïcødé & Co'])
    assert dovecot.list_folders(selectable_only=True) == sorted(
        ['INBOX', 'Archive.2024', 'Lists.dev', 'Ünïcødé & Co'])
    assert dovecot.folder_path('Archive.2024').name == '.Archive.2024'
    assert dovecot.folder_path('Ünïcødé & Co').name == '.&ANw-n&AO8-c&APg-d&AOk- &- Co'
    assert dovecot.folder_path('Ünïcødé & Co').is_dir()
    uid = dovecot.append('Ünïcødé & Co', b'Subject: u\r\n\r\nu\r\n')
    assert list(dovecot.messages('Ünïcødé & Co')) == [uid]
    dovecot.rename('Lists.dev', 'Lists.devel')
    dovecot.delete('Ünïcødé & Co')
    assert dovecot.list_folders(selectable_only=True) == ['Archive.2024', 'INBOX', 'Lists.devel']


@pytest.mark.dovecot(separator='/')
def test_slash_separator(dovecot):
    dovecot.create('Archive/2024')
    dovecot.append('Archive/2024', b'Subject: s\r\n\r\ns\r\n')
    assert dovecot.list_folders(selectable_only=True) == ['Archive/2024', 'INBOX']
    assert dovecot.folder_path('Archive/2024').name == '.Archive.2024'
    assert dovecot.folder_path('Archive/2024').is_dir()


def test_mutf7_round_trip():
    for name in ['INBOX', 'A & B', 'Ünïcødé', '日本語/メール', 'x&y~z', 'Ω', '😀 emoji']:
        enc = imaputil.mutf7_encode(name)
        assert re.fullmatch(rb'[\x20-\x7e]*', enc)
        assert imaputil.mutf7_decode(enc) == name
    assert imaputil.mutf7_encode('A & B') == b'A &- B'
    assert imaputil.mutf7_encode('~peter/mail/台北/日本語') == \
        b'~peter/mail/&U,BTFw-/&ZeVnLIqe-'  # RFC 3501 example


@pytest.mark.parametrize('folder', ['Work', 'INBOX'])
def test_uidvalidity_change(dovecot, folder):
    if folder != 'INBOX':
        dovecot.create(folder)
    dovecot.append(folder, b'Subject: 1\r\n\r\n1\r\n', flags=['\\Seen'])
    dovecot.append(folder, b'Subject: 2\r\n\r\n2\r\n')
    dovecot.expunge(folder, 1)
    dovecot.append(folder, b'Subject: 3\r\n\r\n3\r\n', flags=['\\Flagged'])
    before = dovecot.messages(folder)
    assert sorted(before) == [2, 3]
    old = dovecot.uidvalidity(folder)
    new = dovecot.recreate_folder_with_new_uidvalidity(folder)
    assert new != old and dovecot.uidvalidity(folder) == new
    after = dovecot.messages(folder)
    assert sorted(after) == [1, 2]  # UIDs start again
    assert [after[u] for u in (1, 2)] == [before[u] for u in (2, 3)]
    newer = dovecot.recreate_folder_with_new_uidvalidity(folder, [b'Subject: n\r\n\r\nn\r\n'])
    assert newer not in (old, new)
    assert [b for _f, b in dovecot.messages(folder).values()] == [b'Subject: n\r\n\r\nn\r\n']


def test_maildir_path_holds_the_messages(dovecot):
    dovecot.create('Sub')
    dovecot.append('Sub', b'Subject: s\r\n\r\ns\r\n', flags=['\\Seen'])
    root = dovecot.maildir_path()
    assert (root / 'cur').is_dir()
    files = list((root / '.Sub' / 'cur').iterdir())
    assert len(files) == 1 and files[0].name.endswith(':2,S')
    assert files[0].read_bytes() == b'Subject: s\n\ns\n'


# ------------------------------------------------------------------------- capabilities


def _post_login_caps(dc) -> list[str]:
    c = dc.client()
    typ, data = c.capability()
    c.logout()
    return data[0].decode().split()


def test_capability_removal_removes_only_that(dovecot_factory):
    full = _post_login_caps(dovecot_factory())
    assert 'UIDPLUS' in full and 'COMPRESS=DEFLATE' in full and 'LITERAL+' in full
    dc = dovecot_factory(capabilities_remove=['UIDPLUS', 'condstore'])
    reduced = _post_login_caps(dc)
    assert reduced == [c for c in full if c not in ('UIDPLUS', 'CONDSTORE')]
    # the harness itself still learns UIDs without UIDPLUS
    assert dc.append('INBOX', b'Subject: a\r\n\r\na\r\n') == 1
    assert dc.append('INBOX', b'Subject: b\r\n\r\nb\r\n') == 2
    # Fact for client authors: Dovecot still answers APPENDUID (and accepts UID EXPUNGE)
    # when UIDPLUS is not advertised; a client must go by the capability list.
    c = dc.client()
    c.literal = b'Subject: c\r\n\r\nc\r\n'
    typ, data = c._simple_command('APPEND', 'INBOX', None, None)
    c.logout()
    assert typ == 'OK' and b'APPENDUID' in data[0]


def test_compress_deflate_advertised_and_works(dovecot_factory):
    dc = dovecot_factory()
    assert 'COMPRESS=DEFLATE' in _post_login_caps(dc)
    s = socket.create_connection((dc.host, dc.port), timeout=10)
    try:
        f = s.makefile('rb')
        assert f.readline().startswith(b'* OK')
        s.sendall(b'a LOGIN test testpass\r\n')
        while not (line := f.readline()).startswith(b'a '):
            pass
        assert line.startswith(b'a OK')
        s.sendall(b'b COMPRESS DEFLATE\r\n')
        assert f.readline().startswith(b'b OK')
        comp, decomp = zlib.compressobj(wbits=-15), zlib.decompressobj(wbits=-15)
        s.sendall(comp.compress(b'c NOOP\r\nd LOGOUT\r\n') + comp.flush(zlib.Z_SYNC_FLUSH))
        out = b''
        while b'd OK' not in out:
            chunk = s.recv(4096)
            assert chunk, f'connection closed; got {out!r}'
            out += decomp.decompress(chunk)
        assert b'c OK' in out
    finally:
        s.close()
    assert 'COMPRESS=DEFLATE' not in _post_login_caps(dovecot_factory(compress=False))


# ------------------------------------------------------------------------- TLS


@pytest.mark.dovecot(ssl=True)
def test_tls_port_verifies_with_the_ca(dovecot):
    assert dovecot.ca_path.exists() and dovecot.ssl_port and dovecot.ssl_port != dovecot.port
    c = dovecot.client(tls=True)
    der = c.sock.getpeercert(binary_form=True)
    cert = c.sock.getpeercert()
    c.logout()
    assert dict(x[0] for x in cert['subject'])['commonName'] == '127.0.0.1'
    assert ('IP Address', '127.0.0.1') in cert['subjectAltName']
    assert ('DNS', 'localhost') in cert['subjectAltName']
    assert hashlib.sha256(der).hexdigest() == dovecot.server_fingerprint()
    assert hashlib.sha1(der).hexdigest() == dovecot.server_fingerprint('sha1')
    # the name "localhost" verifies too
    ctx = ssl.create_default_context(cafile=str(dovecot.ca_path))
    with socket.create_connection(('127.0.0.1', dovecot.ssl_port)) as raw:
        with ctx.wrap_socket(raw, server_hostname='localhost') as t:
            assert t.recv(100).startswith(b'* OK')
    # without the CA the certificate is rejected
    with socket.create_connection(('127.0.0.1', dovecot.ssl_port)) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(raw, server_hostname='127.0.0.1')
    # STARTTLS on the plain port
    c = dovecot.client(login=False)
    assert 'STARTTLS' in c.capabilities
    c.logout()
    c = dovecot.client(starttls=True)
    c.select('INBOX')
    c.logout()


def test_plain_instance_offers_no_starttls(dovecot):
    c = dovecot.client(login=False)
    assert 'STARTTLS' not in c.capabilities
    c.logout()


# ------------------------------------------------------------------------- mailgen


def test_mailgen_is_deterministic_and_wire_shaped():
    a, b = MailGen(42).mixed(60), MailGen(42).mixed(60)
    assert a == b
    assert MailGen(43).mixed(60) != a
    ids = [re.search(rb'^Message-ID: (.*)\r$', m, re.M).group(1) for m in a]
    assert len(set(ids)) == len(ids)
    dates = [email.utils.parsedate_to_datetime(
        re.search(rb'^Date: (.*)\r$', m, re.M).group(1).decode()) for m in a]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    for m in a:
        assert b'\n' not in m.replace(b'\r\n', b'')  # CRLF only
        assert to_crlf(to_lf(m)) == m
    kinds = MailGen(1).kinds()
    assert len(kinds) >= 11


def test_mailgen_kinds_have_their_features():
    g = MailGen(5)
    long = g.long_lines()
    assert max(len(ln) for ln in long.split(b'\r\n')) > 998
    assert not g.no_final_newline().endswith(b'\n')
    u8 = g.eight_bit_headers('utf-8')
    subj = re.search(rb'^Subject: (.*)\r$', u8, re.M).group(1)
    subj.decode('utf-8')
    assert any(ch > 127 for ch in subj)
    l1 = g.eight_bit_headers('latin-1')
    with pytest.raises(UnicodeDecodeError):
        re.search(rb'^Subject: (.*)\r$', l1, re.M).group(1).decode('utf-8')
    assert b'=?UTF-8?B?' in g.encoded_words() and b'?Q?' in g.encoded_words()
    nb = g.multipart_without_boundary()
    assert re.search(rb'^Content-Type: multipart/mixed\r$', nb, re.M)
    mf = g.missing_final_boundary()
    bnd = re.search(rb'boundary="([^"]+)"', mf).group(1)
    assert b'--' + bnd + b'--' not in mf and b'--' + bnd + b'\r\n' in mf
    nested = g.nested_multipart(4)
    assert nested.count(b'Content-Type: multipart/') >= 3
    assert b'message/rfc822' in nested
    assert b'text/html' in g.html()


def test_mailgen_attachment_sizes_and_streaming():
    for size in (0, 1, 57, 58, 100_000, 1_000_003):
        m = MailGen(9).attachment(size)
        msg = email.message_from_bytes(m, policy=email.policy.compat32)
        parts = [p for p in msg.walk() if p.get_filename()]
        assert len(parts) == 1
        assert len(parts[0].get_payload(decode=True)) == size
        assert all(len(ln) <= 76 for ln in m.split(b'\r\n'))
    big = 20 << 20
    chunks = MailGen(9).attachment_chunks(big)
    total = 0
    largest = 0
    for c in chunks:
        total += len(c)
        largest = max(largest, len(c))
    assert total > big * 4 // 3 and largest < 200_000


# ------------------------------------------------------------------------- maildir


def test_fmd5_values_match_offlineimap3():
    assert md.folder_md5('INBOX') == '7e33429f656f1e6e9d79b29c3f82c57e'
    assert md.folder_md5('Archive.2020').startswith('de0779cc')
    assert md.folder_md5('Archive/2020').startswith('74bc0e47')


def test_parse_offlineimap_names():
    p = md.parse_name('1795503430_2.12700.vm,U=2,FMD5=7e33429f656f1e6e9d79b29c3f82c57e:2,FS')
    assert p == {'base': '1795503430_2.12700.vm,U=2,FMD5=7e33429f656f1e6e9d79b29c3f82c57e',
                 'uid': 2, 'fmd5': '7e33429f656f1e6e9d79b29c3f82c57e', 'flags': 'FS',
                 'has_info': True}
    p = md.parse_name('1700000000.M1P1.myhost')
    assert p['uid'] is None and p['fmd5'] is None and p['flags'] == '' and not p['has_info']
    p = md.parse_name('17_0.1.h,U=9,FMD5=7e33429f656f1e6e9d79b29c3f82c57e!2,S', '!')
    assert p['uid'] == 9 and p['flags'] == 'S'


@pytest.mark.parametrize('sep', ['.', '/'])
def test_maildir_reader_and_mail_reader_actions(tmp_path, sep):
    root = tmp_path / 'Mail'
    names = ['INBOX', f'Archive{sep}2024', f'Lists{sep}dev']
    for n in names:
        md.make_folder(root, n)
    (root / 'not-a-folder').mkdir()
    assert md.list_folders(root, sep) == sorted(names)
    inbox = md.folder_dir(root, 'INBOX')
    fmd5 = md.folder_md5('INBOX')
    known = inbox / 'cur' / f'1700000000_0.1.host,U=7,FMD5={fmd5}:2,S'
    known.write_bytes(b'Subject: k\n\nk\n')
    (inbox / 'new' / '.hidden').write_bytes(b'x')
    p = md.add_message(inbox, b'Subject: new\n\nn\n')
    assert p.parent.name == 'new' and ':2,' not in p.name
    tree = md.read_tree(root, sep)
    assert sorted(tree) == sorted(names)
    msgs = {m.name: m for m in tree['INBOX']}
    assert len(msgs) == 2
    k = msgs[known.name]
    assert (k.uid, k.fmd5_matches, k.flags, k.subdir) == (7, True, 'S', 'cur')
    assert k.content == b'Subject: k\n\nk\n'
    n = msgs[p.name]
    assert (n.uid, n.fmd5, n.flags, n.has_info) == (None, None, '', False)
    p2 = md.set_flags(p, 'SR')
    assert p2.parent.name == 'cur' and p2.name == p.name + ':2,RS' and not p.exists()
    p3 = md.add_flags(p2, 'F')
    assert p3.name.endswith(':2,FRS')
    p4 = md.remove_flags(p3, 'RS')
    assert p4.name.endswith(':2,F')
    k2 = md.set_flags(known, 'ST')
    assert k2.name == f'1700000000_0.1.host,U=7,FMD5={fmd5}:2,ST'
    md.delete(k2)
    left = md.read_folder(root, 'INBOX')
    assert [m.path for m in left] == [p4]
    # moved from another folder: FMD5 no longer matches
    other = md.folder_dir(root, names[1])
    os.rename(p4, other / 'cur' / p4.name.replace(p.name, f'1_0.1.h,U=3,FMD5={fmd5}'))
    moved = md.read_folder(root, names[1])[0]
    assert moved.uid == 3 and not moved.fmd5_matches


def test_add_message_in_cur_with_flags(tmp_path):
    d = md.make_folder(tmp_path, 'INBOX')
    p = md.add_message(d, b'x', flags='SF', when=1_600_000_000)
    assert p.parent.name == 'cur' and p.name.endswith(':2,FS')
    assert int(p.stat().st_mtime) == 1_600_000_000
    assert list((d / 'tmp').iterdir()) == []


# ------------------------------------------------------------------------- runner


def test_write_config_reads_back(tmp_path):
    cfg = runner.write_config(tmp_path / 'rc', localfolders=tmp_path / 'M%il',
                              host='127.0.0.1', port=1234, user='u', password='p%ss',
                              account='Acc', remote_opts={'folderfilter': 'lambda f: True',
                                                          'maxconnections': 2},
                              local_opts={'sep': '/'}, general={'maxsyncaccounts': 1})
    cp = configparser.ConfigParser()
    cp.read(cfg)
    assert cp.get('general', 'accounts') == 'Acc'
    assert cp.get('general', 'metadata') == str(tmp_path / 'metadata')
    assert cp.get('Account Acc', 'localrepository') == 'Acc-Local'
    assert cp.get('Repository Acc-Local', 'localfolders') == str(tmp_path / 'M%il')
    assert cp.get('Repository Acc-Local', 'sep') == '/'
    rem = cp['Repository Acc-Remote']
    assert (rem['type'], rem['remotehost'], rem['remoteport']) == ('IMAP', '127.0.0.1', '1234')
    assert rem['remotepass'] == 'p%ss'
    assert rem['ssl'] == 'no' and rem['starttls'] == 'no'
    assert rem['folderfilter'] == 'lambda f: True' and rem['maxconnections'] == '2'
    cfg = runner.write_config(tmp_path / 'rc2', localfolders='/m', host='h', port=1, user='u',
                              password='p', ssl=True, sslcacertfile='/ca.pem',
                              remote_opts={'sslcacertfile': None, 'cert_fingerprint': 'ab'})
    cp = configparser.ConfigParser()
    cp.read(cfg)
    rem = cp['Repository Test-Remote']
    assert rem['ssl'] == 'yes' and 'sslcacertfile' not in rem and 'starttls' not in rem
    assert rem['cert_fingerprint'] == 'ab'


def test_run_oimap_captures_and_isolates(tmp_path):
    fake = tmp_path / 'fake'
    fake.write_text('#!/bin/sh\necho "args: $*"; echo "home: $HOME" >&2; exit 3\n')
    fake.chmod(0o755)
    cfg = tmp_path / 'cfg' / 'rc'
    cfg.parent.mkdir()
    cfg.write_text('')
    r = runner.run_oimap(fake, cfg, '-o', '-u', 'basic')
    assert r.returncode == 3
    assert r.stdout == f'args: -c {cfg} -o -u basic\n'
    assert r.stderr == f'home: {cfg.parent.resolve()}\n'
    bad = tmp_path / 'asan'
    bad.write_text('#!/bin/sh\necho "==1==ERROR: AddressSanitizer: heap-use-after-free" >&2\n')
    bad.chmod(0o755)
    with pytest.raises(AssertionError, match='AddressSanitizer'):
        runner.run_oimap(bad, cfg)
    with pytest.raises(FileNotFoundError, match='OIMAP_BINARY'):
        runner.run_oimap(tmp_path / 'missing', cfg)


def _offlineimap_name(uid: int, folder: str, flags: str = '') -> str:
    return f'1700000000_{uid}.1.host,U={uid},FMD5={md.folder_md5(folder)}:2,{flags}'


def test_snapshot_detects_every_kind_of_difference(dovecot, tmp_path):
    root = tmp_path / 'Mail'
    dovecot.create('Work.Sub')
    m1, m2 = b'Subject: 1\r\n\r\none\r\n', b'Subject: 2\r\n\r\ntwo\r\n'
    u1 = dovecot.append('INBOX', m1, flags=['\\Seen'])
    u2 = dovecot.append('INBOX', m2, flags=['\\Flagged', '$Custom'])
    inbox = md.make_folder(root, 'INBOX')
    md.make_folder(root, 'Work.Sub')
    (inbox / 'cur' / _offlineimap_name(u1, 'INBOX', 'S')).write_bytes(to_lf(m1))
    (inbox / 'new' / _offlineimap_name(u2, 'INBOX', 'F')).write_bytes(to_lf(m2))
    snap = runner.snapshot(dovecot, root)
    assert snap.diff() == []
    assert snap.counts() == {'INBOX': (2, 2), 'Work.Sub': (0, 0)}
    snap.assert_in_sync()

    (inbox / 'new' / _offlineimap_name(u2, 'INBOX', 'F')).rename(
        inbox / 'cur' / _offlineimap_name(u2, 'INBOX', 'FS'))
    (inbox / 'cur' / (_offlineimap_name(u1, 'INBOX', 'S') + 'x')).write_bytes(b'changed\n')
    md.add_message(inbox, to_lf(m1))
    (inbox / 'cur' / _offlineimap_name(9, 'INBOX')).write_bytes(b'Subject: 9\n\n9\n')
    u3 = dovecot.append('INBOX', b'Subject: 3\r\n\r\n3\r\n')
    dovecot.create('ServerOnly')
    md.make_folder(root, 'LocalOnly')
    probs = runner.snapshot(dovecot, root).diff()
    text = '\n'.join(probs)
    assert "folder 'LocalOnly' exists locally but not on the server" in text
    assert "folder 'ServerOnly' exists on the server but not locally" in text
    assert 'INBOX: local file without a valid U=/FMD5' in text
    assert f'INBOX: UID {u1} twice locally' in text
    assert f'INBOX: UID {u3} on the server only' in text
    assert 'INBOX: UID 9 locally only' in text
    assert f"INBOX: UID {u2} flags differ: server 'F', local 'FS'" in text
    assert 'the same message twice on the local side' in text
    with pytest.raises(AssertionError, match='server and Maildir differ'):
        runner.assert_in_sync(runner.snapshot(dovecot, root))


def test_snapshot_bytes_and_slash_sep(dovecot, tmp_path):
    root = tmp_path / 'Mail'
    dovecot.create('A.B')
    u = dovecot.append('A.B', b'Subject: x\r\n\r\nx\r\n')
    d = md.make_folder(root, 'A/B')
    md.make_folder(root, 'INBOX')
    (d / 'new' / _offlineimap_name(u, 'A/B')).write_bytes(b'Subject: x\n\nX\n')
    probs = runner.snapshot(dovecot, root, sep='/').diff()
    assert len(probs) == 1 and f'A.B: UID {u} bytes differ' in probs[0]
    assert runner.snapshot(dovecot, root, sep='/').diff(
        normalize=lambda b: b.lower()) == []


def test_setup_metadata_paths(dovecot, tmp_path):
    s = runner.Setup(dovecot, tmp_path / 'w', account='Acc')
    assert s.status_db('Archive.2024') == \
        tmp_path / 'w' / 'metadata' / 'Account-Acc' / 'LocalStatus-sqlite' / 'Archive.2024'
    assert runner.folder_basename('') == '.' and runner.folder_basename('.') == 'dot'
    assert runner.folder_basename('A/B') == 'A.B'
    cfg = s.write_config()
    cp = configparser.ConfigParser()
    cp.read(cfg)
    assert cp.get('Repository Acc-Remote', 'remoteport') == str(dovecot.port)
    assert cp.get('Repository Acc-Remote', 'remotepass') == 'testpass'
