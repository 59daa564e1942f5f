"""TLS done right against a real Dovecot whose certificates the test makes (its own CA):
which certificates are accepted, which are refused and with what message, pins in every
digest offlineimap accepts, STARTTLS verified like implicit TLS, and the refusal to send
a password in clear text over a network.
"""
import datetime as dt
import re

import pytest

from harness import tls
from harness.netsrv import Proxy


@pytest.fixture(scope='module')
def ca(tmp_path_factory):
    return tls.make_test_ca(tmp_path_factory.mktemp('ca'))


def _stamp(days: int) -> str:
    t = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)
    return t.strftime('%Y%m%d%H%M%SZ')


def _sync_with(dovecot_factory, oimap_for, mailgen, files, **cfg):
    dc = dovecot_factory(ssl=True, tls_files=files)
    dc.append('INBOX', mailgen.plain())
    o = oimap_for(dc)
    o.write_config(ssl=True, **cfg)
    return dc, o


@pytest.fixture
def oimap_for(tmp_path, our_binary):
    from harness import runner
    made = []

    def make(dc, name='oimap'):
        o = runner.Setup(dc, tmp_path / f'{name}{len(made)}', binary=our_binary, ssl=dc.ssl)
        made.append(o)
        return o
    return make


def _out(r):
    return r.stdout + r.stderr


def test_good_certificate_by_ip_and_by_name(dovecot_factory, oimap_for, mailgen, ca, tmp_path):
    files = tls.make_server_cert(ca, tmp_path / 'good', cn='mail.example.test',
                                 sans=('DNS:localhost', 'IP:127.0.0.1'))
    dc, o = _sync_with(dovecot_factory, oimap_for, mailgen, files,
                       sslcacertfile=files['ca'])
    o.sync()
    o.assert_in_sync()
    # By name: the DNS subjectAltName is checked (and sent as SNI).
    o.write_config(ssl=True, sslcacertfile=files['ca'], host='localhost')
    r = o.sync('-d', 'imap')
    assert 'TLS certificate of localhost:' in _out(r)
    o.assert_in_sync()


def test_common_name_only_certificate_is_accepted(dovecot_factory, oimap_for, mailgen, ca,
                                                  tmp_path):
    # No subjectAltName at all: the commonName is the name (offlineimap3 insists on it).
    files = tls.make_server_cert(ca, tmp_path / 'cn', cn='localhost')
    dc, o = _sync_with(dovecot_factory, oimap_for, mailgen, files,
                       sslcacertfile=files['ca'], host='localhost')
    o.sync()
    o.assert_in_sync()


def test_wrong_host_is_refused_naming_the_names_and_the_pin(dovecot_factory, oimap_for,
                                                            mailgen, ca, tmp_path):
    files = tls.make_server_cert(ca, tmp_path / 'other', cn='mail.example.test',
                                 sans=('DNS:mail.example.test',))
    dc, o = _sync_with(dovecot_factory, oimap_for, mailgen, files, sslcacertfile=files['ca'])
    r = o.sync(ok=False)
    assert r.returncode == 1
    out = _out(r)
    assert 'TLS certificate verification failed for 127.0.0.1:' in out, out
    assert 'host name mismatch: certificate is for mail.example.test, not 127.0.0.1' in out
    fp = tls.cert_fingerprint(files['cert'])
    assert f'cert_fingerprint = {fp}' in out
    assert not any(o.local().values())


def test_expired_certificate_is_refused(dovecot_factory, oimap_for, mailgen, ca, tmp_path):
    files = tls.make_server_cert(ca, tmp_path / 'expired', cn='127.0.0.1',
                                 sans=('IP:127.0.0.1',), not_before=_stamp(-30),
                                 not_after=_stamp(-1))
    dc, o = _sync_with(dovecot_factory, oimap_for, mailgen, files, sslcacertfile=files['ca'])
    r = o.sync(ok=False)
    out = _out(r)
    assert r.returncode == 1
    assert re.search(r'certificate has expired \(notAfter \d{4}-\d\d-\d\d', out), out
    assert tls.cert_fingerprint(files['cert']) in out


def test_not_yet_valid_certificate_is_refused(dovecot_factory, oimap_for, mailgen, ca,
                                              tmp_path):
    files = tls.make_server_cert(ca, tmp_path / 'future', cn='127.0.0.1',
                                 sans=('IP:127.0.0.1',), not_before=_stamp(2),
                                 not_after=_stamp(30))
    dc, o = _sync_with(dovecot_factory, oimap_for, mailgen, files, sslcacertfile=files['ca'])
    r = o.sync(ok=False)
    assert 'certificate is not yet valid' in _out(r), _out(r)


def test_unknown_issuer_is_refused(dovecot_factory, oimap_for, mailgen, ca, tmp_path):
    files = tls.make_server_cert(ca, tmp_path / 'u', cn='127.0.0.1', sans=('IP:127.0.0.1',))
    other_ca = tls.make_test_ca(tmp_path / 'other-ca')
    dc, o = _sync_with(dovecot_factory, oimap_for, mailgen, files,
                       sslcacertfile=other_ca['ca'])
    r = o.sync(ok=False)
    out = _out(r)
    assert r.returncode == 1
    assert "unknown issuer 'CN=offlineimap test CA' (not in the CA store" in out, out
    # Without sslcacertfile the system store is used, which does not know our CA either.
    o.write_config(ssl=True, sslcacertfile=None)
    r = o.sync(ok=False)
    assert 'not in the CA store system' in _out(r), _out(r)


@pytest.mark.parametrize('algo', ['sha1', 'sha224', 'sha256', 'sha384', 'sha512'])
def test_pins_in_every_digest_with_colons_and_lists(dovecot_factory, oimap_for, mailgen, algo):
    dc = dovecot_factory(ssl=True)
    dc.append('INBOX', mailgen.plain())
    o = oimap_for(dc)
    fp = tls.cert_fingerprint(dc.cert_path, algo).upper()
    colons = ':'.join(fp[i:i + 2] for i in range(0, len(fp), 2))
    # A list with a wrong pin first; colons and capitals as offlineimap accepts them.
    o.write_config(ssl=True, sslcacertfile=None,
                   remote_opts={'cert_fingerprint': f'{"ab" * 20}, {colons}'})
    o.sync()
    o.assert_in_sync()


def test_wrong_pin_is_refused_even_with_a_valid_chain(dovecot_factory, oimap_for, mailgen):
    dc = dovecot_factory(ssl=True)
    dc.append('INBOX', mailgen.plain())
    o = oimap_for(dc)
    o.write_config(ssl=True, remote_opts={'cert_fingerprint': 'cd' * 32})
    r = o.sync(ok=False)
    assert r.returncode == 1
    out = _out(r)
    assert 'matches none of the configured fingerprints' in out
    assert dc.server_fingerprint('sha256') in out


def test_starttls_checks_the_host_too(dovecot_factory, oimap_for, mailgen, ca, tmp_path):
    files = tls.make_server_cert(ca, tmp_path / 'st', cn='mail.example.test',
                                 sans=('DNS:mail.example.test',))
    dc = dovecot_factory(ssl=True, tls_files=files)
    dc.append('INBOX', mailgen.plain())
    o = oimap_for(dc)
    o.write_config(ssl=False, remote_opts={'starttls': True, 'sslcacertfile': files['ca']})
    r = o.sync(ok=False)
    out = _out(r)
    assert 'host name mismatch' in out, out
    assert not any(o.local().values())
    # Pinned, the same certificate is fine over STARTTLS.
    o.write_config(ssl=False, remote_opts={
        'starttls': True, 'cert_fingerprint': tls.cert_fingerprint(files['cert'])})
    r = o.sync('-d', 'imap')
    assert 'STARTTLS' in _out(r)
    o.assert_in_sync()


def test_cleartext_password_is_refused_over_a_network(dovecot, oimap, mailgen):
    """The server is reached through a proxy under a name that is not this machine's, so the
    password would cross a network in clear text: refused unless allow_plaintext_auth."""
    dovecot.append('INBOX', mailgen.plain())
    with Proxy('SOCKS5', hosts={'imap.example.test': '127.0.0.1'}) as px:
        acc = {'proxy': px.option()}
        oimap.write_config(host='imap.example.test', account_opts=acc)
        r = oimap.sync(ok=False)
        out = _out(r)
        assert r.returncode == 1
        assert 'Refusing to log in to imap.example.test:' in out, out
        assert 'over an unencrypted connection' in out
        assert 'allow_plaintext_auth = yes' in out and 'ssl = yes' in out
        assert px.requests == [('imap.example.test', dovecot.port)]
        assert not any(oimap.local().values())
        # SCRAM shows no password: allowed without TLS.
        oimap.write_config(host='imap.example.test', account_opts=acc,
                           remote_opts={'auth_mechanisms': 'SCRAM-SHA-256'})
        oimap.sync()
        oimap.assert_in_sync()
        # The user says the network is trusted.
        oimap.write_config(host='imap.example.test', account_opts=acc,
                           remote_opts={'allow_plaintext_auth': True,
                                        'auth_mechanisms': 'PLAIN'})
        oimap.sync()


def test_cleartext_on_loopback_is_allowed(dovecot, oimap, mailgen):
    dovecot.append('INBOX', mailgen.plain())
    oimap.write_config(remote_opts={'auth_mechanisms': 'LOGIN'})
    oimap.sync()
    oimap.assert_in_sync()
