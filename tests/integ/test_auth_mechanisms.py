"""Every authentication mechanism against a Dovecot configured to offer only that one:
PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256, and XOAUTH2 and OAUTHBEARER with
Dovecot's oauth2 passdb checking tokens at an endpoint the test runs on 127.0.0.1 (which
also refreshes tokens). The order of auth_mechanisms, LOGINDISABLED, remote_identity and
the failure messages.
"""
import json
import os
import shutil
import stat
import time

import pytest

from harness import runner
from harness.dovecot import make_basedir
from harness.fakeimap import FakeIMAP, Step, ok
from harness.netsrv import OAuthServer


def _out(r):
    return r.stdout + r.stderr


@pytest.mark.parametrize('mech,sent', [
    ('PLAIN', 'AUTHENTICATE PLAIN'),
    ('LOGIN', '> A'),  # the IMAP LOGIN command
    ('CRAM-MD5', 'AUTHENTICATE CRAM-MD5'),
    ('SCRAM-SHA-1', 'AUTHENTICATE SCRAM-SHA-1'),
    ('SCRAM-SHA-256', 'AUTHENTICATE SCRAM-SHA-256'),
])
def test_each_password_mechanism(dovecot_factory, tmp_path, our_binary, mailgen, mech, sent):
    # PLAIN stays on for the harness's own LOGIN; we ask for mech only, and Dovecot's log
    # says which one logged in.
    dc = dovecot_factory(auth_mechanisms=[mech.lower(), 'plain'])
    dc.append('INBOX', mailgen.plain())
    o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
    o.write_config(remote_opts={'auth_mechanisms': mech})
    r = o.sync('-d', 'imap')
    out = _out(r)
    assert f'Attempting {mech} authentication' in out, out
    if mech == 'LOGIN':
        assert 'LOGIN <secret hidden>' in out
    else:
        assert sent in out
    o.assert_in_sync()
    method = 'PLAIN' if mech == 'LOGIN' else mech
    assert f'Login: user=<test>, method={method}' in dc.log_text()
    # A wrong password: the mechanism's failure, then offlineimap's summary.
    o.write_config(password='wrong', remote_opts={'auth_mechanisms': mech})
    r = o.sync(ok=False)
    out = _out(r)
    assert r.returncode == 1
    assert f'{mech} authentication failed: ' in out
    assert 'All authentication types failed:' in out
    assert "refused the password of user 'test' given by remotepass" in out


def test_mechanisms_in_the_configured_order_only_those_offered(dovecot_factory, tmp_path,
                                                               our_binary, mailgen):
    dc = dovecot_factory(auth_mechanisms=['plain', 'scram-sha-256'])
    o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
    # CRAM-MD5 is not offered: skipped without a try; SCRAM-SHA-256 comes before PLAIN.
    o.write_config(remote_opts={'auth_mechanisms': 'CRAM-MD5, SCRAM-SHA-256, PLAIN'})
    r = o.sync('-d', 'imap')
    out = _out(r)
    assert 'Attempting CRAM-MD5' not in out
    assert 'Attempting SCRAM-SHA-256 authentication' in out
    assert 'Attempting PLAIN' not in out
    # None of the configured ones offered: offlineimap's message.
    o.write_config(remote_opts={'auth_mechanisms': 'CRAM-MD5, GSSAPI'})
    r = o.sync(ok=False)
    out = _out(r)
    assert 'no supported authentication mechanisms found; configured CRAM-MD5, GSSAPI' in out
    assert 'advertises PLAIN, SCRAM-SHA-256' in out


def test_login_disabled_is_respected(oimap):
    # Dovecot takes 127.0.0.1 as secure and never says LOGINDISABLED there: a scripted server.
    caps = 'IMAP4rev1 LOGINDISABLED AUTH=CRAM-MD5'
    with FakeIMAP([], caps=caps) as srv:
        oimap.write_config(host=srv.host, port=srv.port, remote_opts={'auth_mechanisms': 'LOGIN'})
        r = oimap.sync(ok=False)
    out = _out(r)
    assert 'LOGIN: IMAP LOGIN is disabled by server.  Need to use SSL?' in out, out
    assert not any(c.sent_command('LOGIN .*') for c in srv.connections)


def test_server_that_skips_the_scram_proof_is_refused(oimap):
    """A server that answers OK to SCRAM without its final message (its proof of knowing
    the password) is not trusted: it could be anyone."""
    import base64
    import re

    auth_tag = []

    def first(tag, text, conn):
        auth_tag.append(tag)
        cf = base64.b64decode(text.split()[2]).decode()
        nonce = re.search(r'r=([^,]+)', cf).group(1)
        sf = f'r={nonce}srv,s={base64.b64encode(b"salt").decode()},i=4096'
        return f'+ {base64.b64encode(sf.encode()).decode()}\r\n'.encode()

    caps = 'IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256'
    # Our client-final line comes as a "command" with no text; the tagged OK goes to the
    # AUTHENTICATE command, without the server-final message.
    script = [Step(r'AUTHENTICATE SCRAM-SHA-256 .*', first),
              Step(r'.*', lambda tag, text, conn: f'{auth_tag[0]} OK Logged in\r\n'.encode())]
    with FakeIMAP(script, caps=caps) as srv:
        oimap.write_config(host=srv.host, port=srv.port,
                           remote_opts={'auth_mechanisms': 'SCRAM-SHA-256'})
        r = oimap.sync(ok=False)
    out = _out(r)
    assert 'accepted SCRAM-SHA-256 without proving that it knows the password' in out, out


def test_plain_with_an_authorization_identity(dovecot_factory, tmp_path, our_binary, mailgen):
    dc = dovecot_factory(auth_mechanisms=['plain'])
    dc.append('INBOX', mailgen.plain())
    o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
    # authzid = authcid is always allowed; another one is refused by Dovecot.
    o.write_config(remote_opts={'auth_mechanisms': 'PLAIN', 'remote_identity': 'test'})
    o.sync()
    o.assert_in_sync()
    o.write_config(remote_opts={'auth_mechanisms': 'PLAIN', 'remote_identity': 'someone'})
    r = o.sync(ok=False)
    assert 'PLAIN authentication failed' in _out(r)


def test_scram_over_a_server_without_sasl_ir(dovecot_factory, tmp_path, our_binary, mailgen):
    dc = dovecot_factory(auth_mechanisms=['scram-sha-1', 'plain'],
                         extra_conf='imap_capability = IMAP4rev1 UIDPLUS\n'
                                    'login_greeting = ready\n')
    dc.append('INBOX', mailgen.plain())
    o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
    o.write_config(remote_opts={'auth_mechanisms': 'SCRAM-SHA-1'})
    o.sync()
    o.assert_in_sync()


# ---------------------------------------------------------------------------- OAuth2


@pytest.fixture
def oauth():
    with OAuthServer(users={'test': 'refresh-token-of-test'}) as srv:
        yield srv


@pytest.fixture
def conf_dir():
    # Dovecot's auth processes run as other users: a world-readable place.
    d = make_basedir(prefix='oimap-oauth-')
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _oauth_dovecot(dovecot_factory, oauth, conf_dir, mechs=('xoauth2', 'oauthbearer', 'plain')):
    block = oauth.dovecot_conf(conf_dir / f'oauth2-{oauth.port}.conf.ext')
    return dovecot_factory(auth_mechanisms=list(mechs), extra_conf=block)


def _oauth_opts(oauth, mech, **extra):
    opts = {'auth_mechanisms': mech, 'oauth2_client_id': OAuthServer.CLIENT_ID,
            'oauth2_client_secret': OAuthServer.CLIENT_SECRET,
            'oauth2_request_url': oauth.token_url, 'remotepass': None}
    opts.update(extra)
    return opts


@pytest.mark.parametrize('mech', ['XOAUTH2', 'OAUTHBEARER'])
def test_oauth2_refresh_then_cached(dovecot_factory, oauth, conf_dir, tmp_path, our_binary,
                                    mailgen, mech):
    dc = _oauth_dovecot(dovecot_factory, oauth, conf_dir)
    dc.append('INBOX', mailgen.plain())
    o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
    o.write_config(remote_opts=_oauth_opts(oauth, mech,
                                           oauth2_refresh_token='refresh-token-of-test'))
    r = o.sync('-d', 'imap')
    assert f'AUTHENTICATE {mech}' in _out(r), _out(r)
    o.assert_in_sync()
    assert len(oauth.token_requests) == 1
    req = oauth.token_requests[0]
    assert req['grant_type'] == 'refresh_token'
    assert req['refresh_token'] == 'refresh-token-of-test'
    # The token is cached (mode 0600) and used again by the next run without a refresh.
    cache = o.metadata / 'Repository-Test-Remote' / 'oauth2-token'
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    o.sync()
    assert len(oauth.token_requests) == 1


def test_oauth2_expired_access_token_is_refreshed(dovecot_factory, oauth, conf_dir, tmp_path,
                                                  our_binary, mailgen):
    dc = _oauth_dovecot(dovecot_factory, oauth, conf_dir)
    dc.append('INBOX', mailgen.plain())
    o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
    expired = oauth.issue('test', lifetime=-10)
    o.write_config(remote_opts=_oauth_opts(oauth, 'XOAUTH2', oauth2_access_token=expired,
                                           oauth2_refresh_token='refresh-token-of-test'))
    r = o.sync('-d', 'imap')
    out = _out(r)
    assert 'the access token was refused' in out and 'refreshing it' in out, out
    assert expired in oauth.introspections
    assert len(oauth.token_requests) == 1
    o.assert_in_sync()
    # An expired cached token: refreshed before it is even tried.
    cache = o.metadata / 'Repository-Test-Remote' / 'oauth2-token'
    assert cache.exists()
    before = len(oauth.introspections)
    o.write_config(remote_opts=_oauth_opts(oauth, 'XOAUTH2',
                                           oauth2_refresh_token='refresh-token-of-test'))
    data = json.loads(cache.read_text())
    data['expires_at'] = 1
    cache.write_text(json.dumps(data))
    cache.chmod(0o600)
    o.sync()
    assert len(oauth.token_requests) == 2
    assert len(oauth.introspections) == before + 1


def test_oauth2_static_token_without_refresh(dovecot_factory, oauth, conf_dir, tmp_path,
                                             our_binary):
    dc = _oauth_dovecot(dovecot_factory, oauth, conf_dir)
    o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
    good = oauth.issue('test')
    o.write_config(remote_opts=_oauth_opts(oauth, 'OAUTHBEARER',
                                           oauth2_access_token_eval=f'"{good}"'))
    o.sync()
    assert oauth.token_requests == []
    # Refused, and nothing to refresh it with: a clear message.
    o.write_config(remote_opts=_oauth_opts(oauth, 'OAUTHBEARER',
                                           oauth2_access_token='at-not-valid'))
    r = o.sync(ok=False)
    out = _out(r)
    assert 'no oauth2_refresh_token is set' in out, out


def test_oauth2_revoked_refresh_token(dovecot_factory, oauth, conf_dir, tmp_path, our_binary):
    dc = _oauth_dovecot(dovecot_factory, oauth, conf_dir)
    o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
    o.write_config(remote_opts=_oauth_opts(oauth, 'XOAUTH2',
                                           oauth2_refresh_token='revoked-token'))
    r = o.sync(ok=False)
    out = _out(r)
    assert 'invalid_grant (Token has been expired or revoked.)' in out, out
    assert 'get a new one and set oauth2_refresh_token' in out
    assert 'revoked-token' not in out
    assert OAuthServer.CLIENT_SECRET not in out


def test_oauth2_rotated_refresh_token_is_kept(dovecot_factory, conf_dir, tmp_path, our_binary):
    with OAuthServer(users={'test': 'rt-first'}, rotate=True, lifetime=1) as oauth:
        dc = _oauth_dovecot(dovecot_factory, oauth, conf_dir)
        o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
        o.write_config(remote_opts=_oauth_opts(oauth, 'XOAUTH2', oauth2_refresh_token='rt-first'))
        o.sync()
        # The server rotated the refresh token; the first one no longer works. The
        # access token lives 1 s (cached for half of it), so the next run refreshes with
        # the rotated one from the cache.
        time.sleep(1.2)
        o.sync()
        assert len(oauth.token_requests) == 2
        assert oauth.token_requests[1]['refresh_token'] != 'rt-first'


def test_oauth2_token_endpoint_must_be_https(dovecot_factory, oauth, conf_dir, tmp_path,
                                             our_binary):
    dc = _oauth_dovecot(dovecot_factory, oauth, conf_dir)
    o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
    o.write_config(remote_opts=_oauth_opts(
        oauth, 'XOAUTH2', oauth2_refresh_token='refresh-token-of-test',
        oauth2_request_url='http://oauth2.example.test/token'))
    r = o.sync(ok=False)
    assert 'must start with https://' in _out(r), _out(r)


def test_oauth2_without_libcurl_says_what_to_install(dovecot_factory, oauth, conf_dir, tmp_path,
                                                     our_binary):
    """libcurl is loaded at the first refresh; a broken one fails the account, clearly."""
    dc = _oauth_dovecot(dovecot_factory, oauth, conf_dir)
    o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
    o.write_config(remote_opts=_oauth_opts(oauth, 'XOAUTH2',
                                           oauth2_refresh_token='refresh-token-of-test'))
    bad = tmp_path / 'badlib'
    bad.mkdir()
    (bad / 'libcurl.so.4').write_bytes(b'Not a shared object, but long enough for the dynamic '
                                       b'loader to read a whole ELF header and refuse it.\n')
    r = o.sync(ok=False, env=dict(os.environ, LD_LIBRARY_PATH=str(bad)))
    out = _out(r)
    assert r.returncode != 0
    assert (f'libcurl (libcurl.so.4), which OAuth2 needs, cannot be loaded: '
            f'{bad}/libcurl.so.4: invalid ELF header') in out, out
    assert 'Install it (Debian: the libcurl4 package) and run again.' in out
    assert oauth.token_requests == []
    # With the real library the same account syncs.
    o.sync()
    assert len(oauth.token_requests) == 1
