"""Secure connections of the core: implicit TLS, STARTTLS, pinning, COMPRESS.

The certificate is checked by default (system store, or sslcacertfile); a
refusal says what failed and prints the fingerprint to pin.
"""
import pytest

pytestmark = pytest.mark.dovecot(ssl=True)


def seed(dovecot, mailgen, n=3):
    for _ in range(n):
        dovecot.append('INBOX', mailgen.plain())


def test_implicit_tls_with_ca_file(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    oimap.write_config(ssl=True)
    r = oimap.sync()
    assert 'Copy message UID 3' in r.stdout
    oimap.assert_in_sync()


def test_implicit_tls_unknown_issuer_is_refused_with_fingerprint(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    # No sslcacertfile: the system store does not know the test CA.
    oimap.write_config(ssl=True, sslcacertfile=None)
    r = oimap.sync(ok=False)
    assert r.returncode == 1
    out = r.stdout + r.stderr
    assert 'cert_fingerprint' in out, out
    fp = dovecot.server_fingerprint('sha256').lower().replace(':', '')
    assert fp in out.lower().replace(':', ''), out
    assert not any(oimap.local().values()), 'nothing may be downloaded over an untrusted link'


def test_pinned_fingerprint_is_accepted_and_a_wrong_one_refused(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    fp = dovecot.server_fingerprint('sha256')
    oimap.write_config(ssl=True, sslcacertfile=None, remote_opts={'cert_fingerprint': fp})
    oimap.sync()
    oimap.assert_in_sync()
    wrong = 'ab' * 32
    oimap.write_config(ssl=True, sslcacertfile=None, remote_opts={'cert_fingerprint': wrong})
    r = oimap.sync(ok=False)
    assert r.returncode == 1
    assert 'fingerprint' in (r.stdout + r.stderr)


def test_starttls_is_verified(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    # The plain port, STARTTLS offered: it must be used and verified.
    oimap.write_config(ssl=False, remote_opts={'starttls': True,
                                               'sslcacertfile': str(dovecot.ca_path)})
    r = oimap.sync('-d', 'imap')
    out = r.stdout + r.stderr
    assert 'STARTTLS' in out
    oimap.assert_in_sync()
    # Without the CA the STARTTLS handshake is refused, unlike offlineimap3.
    oimap.write_config(ssl=False, remote_opts={'starttls': True})
    r = oimap.sync(ok=False)
    assert r.returncode == 1
    assert 'cert_fingerprint' in (r.stdout + r.stderr)


def test_compression_over_tls(dovecot, oimap, mailgen):
    seed(dovecot, mailgen, 20)
    oimap.write_config(ssl=True, remote_opts={'usecompression': True})
    r = oimap.sync('-d', 'imap')
    assert 'COMPRESS DEFLATE' in r.stdout + r.stderr
    oimap.assert_in_sync()


def test_debug_output_hides_the_password(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    oimap.write_config(ssl=True, general={'ui': 'basic'})
    log = oimap.workdir / 'debug.log'
    r = oimap.sync('-d', 'imap', '-l', str(log))
    secret = dovecot.password()
    assert secret not in r.stdout + r.stderr
    assert secret not in log.read_text()
    assert 'LOGIN' in r.stdout + r.stderr
