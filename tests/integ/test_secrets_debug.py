"""No secret is ever printed: with -d imap the protocol is shown, but LOGIN and
AUTHENTICATE payloads, passwords and OAuth2 tokens (and their base64 forms) appear in
neither stdout, stderr nor the -l log file, in every interface.
"""
import base64

import pytest

from harness import runner
from harness.dovecot import make_basedir
from harness.netsrv import OAuthServer

PASSWORD = 'S3cret-Pass+word/%x'


def _forms(*secrets):
    """The secrets, and every base64 form an exchange could carry them in."""
    out = set()
    for s in secrets:
        out.add(s)
        for msg in (f'\0test\0{s}', f'test\0{s}', f'user=test\1auth=Bearer {s}\1\1'):
            b = base64.b64encode(msg.encode()).decode()
            out.add(b)
            out.add(b.rstrip('='))
    return out


def _check(r, log, secrets):
    text = r.stdout + r.stderr + log.read_text()
    for s in _forms(*secrets):
        assert s not in text, f'{s!r} appears in the output or the log'
    return text


@pytest.mark.parametrize('ui', ['basic', 'ttyui', 'quiet', 'machineui'])
@pytest.mark.parametrize('mech', ['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-256'])
def test_password_never_shown(dovecot_factory, tmp_path, our_binary, mailgen, ui, mech):
    dc = dovecot_factory(users={'test': PASSWORD},
                         auth_mechanisms=['plain', 'cram-md5', 'scram-sha-256'])
    dc.append('INBOX', mailgen.plain())
    o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
    o.write_config(remote_opts={'auth_mechanisms': mech})
    log = tmp_path / 'debug.log'
    r = o.run('-o', '-u', ui, '-d', 'imap', '-l', str(log))
    assert r.returncode == 0, runner.describe(r)
    text = _check(r, log, [PASSWORD])
    if ui != 'quiet':
        assert '<secret hidden>' in text or '<continuation answer hidden>' in text


def test_password_from_prompt_and_failures_never_shown(dovecot_factory, tmp_path, our_binary):
    dc = dovecot_factory(users={'test': PASSWORD})
    o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
    o.write_config(remote_opts={'remotepass': None})
    log = tmp_path / 'debug.log'
    wrong = 'Wr0ng-Secret-1'
    r = o.run('-o', '-u', 'machineui', '-d', 'imap', '-l', str(log),
              input=f'{wrong}\n{PASSWORD}\n')
    assert r.returncode == 0, runner.describe(r)
    _check(r, log, [PASSWORD, wrong])


def test_oauth2_tokens_never_shown(dovecot_factory, tmp_path, our_binary, mailgen):
    conf = make_basedir(prefix='oimap-oauth-')
    with OAuthServer(users={'test': 'rt-Refresh-Secret-7'}) as oauth:
        dc = dovecot_factory(auth_mechanisms=['xoauth2', 'oauthbearer', 'plain'],
                             extra_conf=oauth.dovecot_conf(conf / 'oauth2.conf.ext'))
        dc.append('INBOX', mailgen.plain())
        o = runner.Setup(dc, tmp_path / 'o', binary=our_binary)
        stale = oauth.issue('test', lifetime=-5)
        for mech in ('XOAUTH2', 'OAUTHBEARER'):
            o.write_config(remote_opts={
                'auth_mechanisms': mech, 'remotepass': None,
                'oauth2_client_id': OAuthServer.CLIENT_ID,
                'oauth2_client_secret': OAuthServer.CLIENT_SECRET,
                'oauth2_access_token': stale,
                'oauth2_refresh_token': 'rt-Refresh-Secret-7',
                'oauth2_request_url': oauth.token_url})
            log = tmp_path / f'debug-{mech}.log'
            r = o.run('-o', '-u', 'basic', '-d', 'imap', '-l', str(log))
            assert r.returncode == 0, runner.describe(r)
            issued = list(oauth.tokens)
            _check(r, log, [stale, 'rt-Refresh-Secret-7', OAuthServer.CLIENT_SECRET, *issued])
    import shutil
    shutil.rmtree(conf, ignore_errors=True)
