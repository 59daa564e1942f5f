"""Every way to reach the server: a preauth tunnel running Dovecot's imap binary
directly, a transport tunnel, SOCKS5, SOCKS4 and HTTP CONNECT proxies run by the test on
127.0.0.1 (TLS and COMPRESS over each), ipv6 = no, and socktimeout against a server that
stops answering.
"""
import sys
import time

import pytest

from harness import runner
from harness.dovecot import IMAP_BINARY
from harness.fakeimap import FakeIMAP, Hold, Step, login
from harness.netsrv import Proxy


def _out(r):
    return r.stdout + r.stderr


def test_preauth_tunnel_runs_dovecots_imap(dovecot, oimap, mailgen):
    for _ in range(3):
        dovecot.append('INBOX', mailgen.plain())
    cmd = f'{IMAP_BINARY} -c {dovecot.conf_path} -u test'
    oimap.write_config(remote_opts={'preauthtunnel': cmd, 'remotehost': None,
                                    'remotepass': None, 'usecompression': True})
    r = oimap.sync('-d', 'imap')
    out = _out(r)
    assert 'PREAUTH' in out
    assert '> A1 LOGIN' not in out and 'AUTHENTICATE' not in out
    assert 'COMPRESS DEFLATE' in out
    oimap.assert_in_sync()
    # Changes both ways over the tunnel.
    dovecot.append('INBOX', mailgen.plain())
    oimap.sync()
    oimap.assert_in_sync()


RELAY = (f'{sys.executable} -c "import socket,sys,threading;'
         's=socket.create_connection((sys.argv[1],int(sys.argv[2])));'
         'threading.Thread(target=lambda:[sys.stdout.buffer.write(d) or sys.stdout.flush() '
         'for d in iter(lambda:s.recv(65536),b\'\')],daemon=True).start();'
         '[s.sendall(d) for d in iter(lambda:sys.stdin.buffer.read1(65536),b\'\')]"')


def test_transport_tunnel_logs_in_over_it(dovecot, oimap, mailgen):
    dovecot.append('INBOX', mailgen.plain())
    oimap.write_config(remote_opts={'transporttunnel': f'{RELAY} 127.0.0.1 {dovecot.port}',
                                    'usecompression': True, 'auth_mechanisms': 'PLAIN'})
    r = oimap.sync('-d', 'imap')
    out = _out(r)
    assert 'AUTHENTICATE PLAIN' in out, out
    assert 'COMPRESS DEFLATE' in out
    oimap.assert_in_sync()


def test_both_tunnels_is_an_error(dovecot, oimap):
    oimap.write_config(remote_opts={'transporttunnel': 'true', 'preauthtunnel': 'true'})
    r = oimap.sync(ok=False)
    assert r.returncode != 0
    assert 'tunnel' in _out(r)


@pytest.mark.dovecot(ssl=True)
@pytest.mark.parametrize('kind', ['SOCKS5', 'SOCKS4', 'HTTP'])
def test_proxies_with_tls_and_compression(dovecot, oimap, mailgen, kind):
    for _ in range(5):
        dovecot.append('INBOX', mailgen.plain())
    with Proxy(kind) as px:
        oimap.write_config(ssl=True, account_opts={'proxy': px.option()},
                           remote_opts={'usecompression': True})
        r = oimap.sync('-d', 'imap')
        out = _out(r)
        assert f'via {kind} proxy 127.0.0.1:{px.port}' in out, out
        assert 'COMPRESS DEFLATE' in out
        assert px.requests == [('127.0.0.1', dovecot.ssl_port)]
    oimap.assert_in_sync()


@pytest.mark.dovecot(ssl=True)
def test_proxy_by_name_with_starttls(dovecot, oimap, mailgen):
    """The proxy resolves the name (SOCKS5 with a domain name); the certificate is checked
    against that name, and STARTTLS makes the login safe over the proxy's network."""
    dovecot.append('INBOX', mailgen.plain())
    with Proxy('SOCKS5', hosts={'localhost': '127.0.0.1'}) as px:
        oimap.write_config(ssl=False, host='localhost', account_opts={'proxy': px.option()},
                           remote_opts={'starttls': True, 'sslcacertfile': dovecot.ca_path})
        oimap.sync()
        assert px.requests == [('localhost', dovecot.port)]
    oimap.assert_in_sync()


def test_proxy_refusal_is_reported(dovecot, oimap):
    with Proxy('SOCKS5', refuse=True) as px:
        oimap.write_config(account_opts={'proxy': px.option()})
        r = oimap.sync(ok=False)
    out = _out(r)
    assert r.returncode == 1
    assert f'The SOCKS5 proxy 127.0.0.1:{px.port} refused the connection' in out, out


def test_ipv4_only(dovecot, oimap, mailgen):
    dovecot.append('INBOX', mailgen.plain())
    oimap.write_config(host='localhost', remote_opts={'ipv6': False})
    oimap.sync()
    oimap.assert_in_sync()


def test_socktimeout_against_a_silent_server(oimap):
    # The server logs us in, then never answers: socktimeout = 2 ends the wait.
    script = [*login(), Step(r'.*', Hold(None))]
    with FakeIMAP(script) as srv:
        oimap.write_config(host=srv.host, port=srv.port, general={'socktimeout': 2})
        t0 = time.monotonic()
        r = oimap.sync(ok=False, timeout=60)
        took = time.monotonic() - t0
    assert r.returncode == 1
    assert 'timed out' in _out(r) or 'did not answer' in _out(r), _out(r)
    assert took < 30 * runner.timeout_scale()
