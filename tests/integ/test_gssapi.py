"""GSSAPI (Kerberos) against a real Dovecot and a KDC the test starts (Debian krb5-kdc):
a ticket logs in as remoteuser with no password; without a ticket GSSAPI is skipped with
Kerberos's reason and the next mechanism is tried; a ticket of a principal that may not
be remoteuser is refused by the server."""
import pytest

from harness import kdc as kdcmod
from harness import runner
from harness.dovecot import make_basedir

pytestmark = pytest.mark.skipif(not kdcmod.available(), reason='krb5-kdc is not installed')


def _out(r):
    return r.stdout + r.stderr


@pytest.fixture
def kdc():
    k = kdcmod.KDC(make_basedir(prefix='oimap-kdc-'))
    k.start()
    yield k
    k.cleanup()


def _gssapi_dovecot(dovecot_factory, kdc, mechs=('gssapi', 'plain')):
    # The user names are Dovecot's as they are (no auth_username_format): the principal
    # test@OIMAP.TEST becomes the user test only because we ask for it, as offlineimap
    # does, and Kerberos's krb5_kuserok lets that principal be that user.
    keytab = kdc.add_service('imap/localhost')
    conf = (f'import_environment = $import_environment KRB5_CONFIG={kdc.krb5_conf}\n'
            f'auth_krb5_keytab = {keytab}\n'
            'auth_gssapi_hostname = localhost\n')
    return dovecot_factory(auth_mechanisms=list(mechs), extra_conf=conf)


def _setup(dc, tmp_path, our_binary, mechs, **kw):
    o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
    o.write_config(host='localhost', remote_opts={'auth_mechanisms': mechs}, **kw)
    return o


def test_gssapi_with_a_ticket_needs_no_password(dovecot_factory, kdc, tmp_path, our_binary,
                                                mailgen):
    kdc.add_user('test', 'kerberos-pass')
    dc = _gssapi_dovecot(dovecot_factory, kdc)
    dc.append('INBOX', mailgen.plain())
    kdc.kinit('test', 'kerberos-pass')
    # No password anywhere (none configured, stdin closed): the ticket is all there is.
    o = _setup(dc, tmp_path, our_binary, 'GSSAPI', password=None)
    r = o.sync('-d', 'imap', env=kdc.client_env())
    out = _out(r)
    assert 'Attempting GSSAPI authentication' in out, out
    assert 'AUTHENTICATE GSSAPI' in out
    assert 'Login: user=<test>, method=GSSAPI' in dc.log_text()
    o.assert_in_sync()
    # The second run logs in the same way (the ticket is reused from the cache).
    dc.append('INBOX', mailgen.plain())
    o.sync(env=kdc.client_env())
    o.assert_in_sync()
    assert dc.log_text().count('method=GSSAPI') == 2


def test_no_ticket_falls_back_to_the_next_mechanism(dovecot_factory, kdc, tmp_path,
                                                    our_binary, mailgen):
    dc = _gssapi_dovecot(dovecot_factory, kdc)
    dc.append('INBOX', mailgen.plain())
    o = _setup(dc, tmp_path, our_binary, 'GSSAPI, PLAIN')
    r = o.sync('-d', 'imap', env=kdc.client_env())
    out = _out(r)
    # Kerberos's own reason (no credentials cache) is logged, then PLAIN is used.
    assert 'No Kerberos credentials available' in out, out
    assert 'Attempting PLAIN authentication' in out
    assert 'method=GSSAPI' not in dc.log_text()
    assert 'Login: user=<test>, method=PLAIN' in dc.log_text()
    o.assert_in_sync()
    # GSSAPI alone: the account stops with a message naming the mechanism and the reason.
    o.write_config(host='localhost', password=None, remote_opts={'auth_mechanisms': 'GSSAPI'})
    r = o.sync(ok=False, env=kdc.client_env())
    out = _out(r)
    assert r.returncode == 1
    assert 'GSSAPI: not possible: ' in out, out
    assert 'No Kerberos credentials available' in out


def test_a_principal_that_may_not_be_remoteuser_is_refused(dovecot_factory, kdc, tmp_path,
                                                           our_binary):
    kdc.add_user('mallory', 'mallory-pass')
    dc = _gssapi_dovecot(dovecot_factory, kdc)
    kdc.kinit('mallory', 'mallory-pass')
    o = _setup(dc, tmp_path, our_binary, 'GSSAPI', password=None)
    r = o.sync(ok=False, env=kdc.client_env())
    out = _out(r)
    assert r.returncode == 1
    assert 'GSSAPI authentication failed' in out, out
    assert 'Login: user=<test>, method=GSSAPI' not in dc.log_text()
    assert 'User not authorized to log in as test' in dc.log_text()
    assert not any(o.local().values())
