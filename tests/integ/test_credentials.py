"""Where the user name and password come from, in offlineimap's order: remoteusereval,
remoteuser, ~/.netrc; remotepasseval, remotepass, remotepassfile, ~/.netrc, the desktop
keyring (GNOME Keyring on a private D-Bus session bus the test starts), then a prompt
through the UI (machineui reads it from stdin). A refused password is asked for once
more, then the account stops with a clear message.
"""
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest

from harness import runner


def _out(r):
    # machineui writes its texts URL-encoded.
    return urllib.parse.unquote_plus(r.stdout + r.stderr)


def _netrc(o, text, mode=0o600):
    p = o.workdir / '.netrc'
    p.write_text(text)
    p.chmod(mode)
    return p


def test_password_file_eval_and_order(dovecot, oimap, mailgen, tmp_path):
    dovecot.append('INBOX', mailgen.plain())
    pw = dovecot.password()
    pf = tmp_path / 'pw'
    pf.write_text(f'  {pw}  \nsecond line\n')
    oimap.write_config(remote_opts={'remotepass': None, 'remotepassfile': pf})
    oimap.sync()
    oimap.assert_in_sync()
    # remotepasseval wins over remotepass and remotepassfile.
    oimap.write_config(remote_opts={'remotepass': 'wrong', 'remotepassfile': tmp_path / 'none',
                                    'remotepasseval': repr(pw)})
    oimap.sync()
    # remotepass wins over remotepassfile.
    oimap.write_config(remote_opts={'remotepassfile': tmp_path / 'none'})
    oimap.sync()


def test_netrc_gives_user_and_password(dovecot, oimap, mailgen):
    dovecot.append('INBOX', mailgen.plain())
    pw = dovecot.password()
    _netrc(oimap, f'machine other.example login x password y\n'
                  f'machine 127.0.0.1 login nobody password nope\n'
                  f'machine 127.0.0.1 login test password "{pw}"\n')
    # The user from remoteuser picks its own entry (Python's netrc could use only the last).
    oimap.write_config(remote_opts={'remotepass': None})
    oimap.sync()
    oimap.assert_in_sync()
    # Without remoteuser the user comes from netrc too (its last entry for the host).
    oimap.write_config(remote_opts={'remotepass': None, 'remoteuser': None})
    oimap.sync()


def test_netrc_open_to_others_is_not_used(dovecot, oimap):
    _netrc(oimap, f'machine 127.0.0.1 login test password {dovecot.password()}\n', mode=0o644)
    oimap.write_config(general={'ui': 'basic'}, remote_opts={'remotepass': None})
    r = oimap.sync(ok=False)
    out = _out(r)
    assert 'can be read or changed by other users (mode 644)' in out, out
    # No password anywhere else: basic cannot prompt.
    assert 'Prompting for a password is not supported in this UI backend.' in out


def test_prompt_through_machineui_asked_once_more_then_stop(dovecot, oimap, mailgen):
    dovecot.append('INBOX', mailgen.plain())
    pw = dovecot.password()
    oimap.write_config(remote_opts={'remotepass': None})
    # First answer wrong, the second right: one more ask, then it works.
    r = oimap.run('-o', '-u', 'machineui', input=f'wrong\n{pw}\n')
    assert r.returncode == 0, runner.describe(r)
    oimap.assert_in_sync()
    # Wrong twice: the account stops, saying why.
    r = oimap.run('-o', '-u', 'machineui', input='wrong\nwrong again\nnever read\n')
    assert r.returncode == 1
    out = _out(r)
    assert "refused the password of user 'test' given by the prompt" in out, out
    # A password from the configuration is not asked for again.
    oimap.write_config(password='wrong')
    t0 = time.monotonic()
    r = oimap.run('-o', '-u', 'machineui', input=f'{pw}\n')
    assert r.returncode == 1
    assert "given by remotepass" in _out(r)


def test_password_shared_by_connections(dovecot, oimap, mailgen):
    for f in ('A', 'B', 'C', 'D'):
        dovecot.create(f)
        dovecot.append(f, mailgen.plain())
    oimap.write_config(remote_opts={'remotepass': None, 'maxconnections': 3})
    # One line on stdin: every connection must use the password that worked.
    r = oimap.run('-o', '-u', 'machineui', input=f'{dovecot.password()}\n')
    assert r.returncode == 0, runner.describe(r)
    oimap.assert_in_sync()


# ---------------------------------------------------------------------------- keyring

GNOME_KEYRING = shutil.which('gnome-keyring-daemon')
DBUS_DAEMON = shutil.which('dbus-daemon')
SECRET_TOOL = shutil.which('secret-tool')


@pytest.fixture
def session_bus(tmp_path):
    """A private D-Bus session bus with an unlocked GNOME Keyring; yields its environment."""
    if not (GNOME_KEYRING and DBUS_DAEMON and SECRET_TOOL):
        pytest.skip('gnome-keyring, dbus-daemon or secret-tool is not installed')
    home = tmp_path / 'kr-home'
    (home / '.local/share/keyrings').mkdir(parents=True)
    rt = tmp_path / 'kr-run'
    rt.mkdir(mode=0o700)
    env = dict(os.environ, HOME=str(home), XDG_RUNTIME_DIR=str(rt),
               XDG_DATA_HOME=str(home / '.local/share'))
    env.pop('DISPLAY', None)
    bus = subprocess.Popen([DBUS_DAEMON, '--session', '--nofork', '--print-address'],
                           stdout=subprocess.PIPE, env=env, text=True)
    addr = bus.stdout.readline().strip()
    env['DBUS_SESSION_BUS_ADDRESS'] = addr
    kr = subprocess.run([GNOME_KEYRING, '--unlock', '--components=secrets', '--daemonize'],
                        input='keyring-test-password', capture_output=True, text=True,
                        env=env, timeout=30)
    pids = [int(line.split('=', 1)[1]) for line in kr.stdout.splitlines()
            if line.startswith('GNOME_KEYRING_PID=')]
    try:
        yield env
    finally:
        for pid in pids:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        bus.terminate()
        bus.wait(timeout=10)


def _store(env, service, user, password, attrs=()):
    subprocess.run([SECRET_TOOL, 'store', '--label=test', 'service', service, 'username',
                    user, *attrs], input=password, text=True, env=env, check=True,
                   timeout=30)


def _lookup(env, service, user):
    r = subprocess.run([SECRET_TOOL, 'lookup', 'service', service, 'username', user],
                       capture_output=True, text=True, env=env, timeout=30)
    return r.stdout if r.returncode == 0 else None


def test_keyring_password_as_python_keyring_stores_it(dovecot, oimap, mailgen, session_bus):
    dovecot.append('INBOX', mailgen.plain())
    # Python keyring's items carry an application attribute besides service and username.
    _store(session_bus, '127.0.0.1', 'test', dovecot.password(),
           attrs=('application', 'Python keyring library'))
    oimap.write_config(general={'ui': 'basic'}, remote_opts={'remotepass': None})
    r = oimap.run('-o', '-u', 'basic', '-d', 'imap', env=session_bus)
    assert r.returncode == 0, runner.describe(r)
    assert 'comes from the keyring' in _out(r)
    oimap.assert_in_sync()
    # --ignore-keyring: not looked at, so the basic UI has no password at all.
    r = oimap.run('-o', '-u', 'basic', '--ignore-keyring', env=session_bus)
    assert r.returncode == 1
    assert 'Prompting for a password is not supported' in _out(r)


def test_update_keyring_stores_a_password_that_worked(dovecot, oimap, session_bus):
    oimap.write_config(remote_opts={'remotepass': None})
    r = oimap.run('-o', '-u', 'machineui', '--update-keyring', env=session_bus,
                  input=f'{dovecot.password()}\n')
    assert r.returncode == 0, runner.describe(r)
    assert _lookup(session_bus, '127.0.0.1', 'test') == dovecot.password()
    # The next run finds it there, without a prompt.
    r = oimap.run('-o', '-u', 'basic', env=session_bus)
    assert r.returncode == 0, runner.describe(r)


def test_wrong_keyring_password_is_asked_for_again(dovecot, oimap, session_bus):
    _store(session_bus, '127.0.0.1', 'test', 'an old password')
    oimap.write_config(remote_opts={'remotepass': None})
    r = oimap.run('-o', '-u', 'machineui', env=session_bus, input=f'{dovecot.password()}\n')
    assert r.returncode == 0, runner.describe(r)


def test_a_keyring_that_never_answers_does_not_hang(dovecot, oimap, tmp_path):
    """A session bus that accepts connections and then says nothing: the keyring is given
    up after its timeout and the sync goes on to the prompt."""
    path = tmp_path / 'silent-bus'
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
                held.append(c)
            except OSError:
                pass
    th = threading.Thread(target=accept, daemon=True)
    th.start()
    try:
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=f'unix:path={path}')
        oimap.write_config(remote_opts={'remotepass': None})
        t0 = time.monotonic()
        r = oimap.run('-o', '-u', 'machineui', env=env, input=f'{dovecot.password()}\n',
                      timeout=60)
        took = time.monotonic() - t0
        assert r.returncode == 0, runner.describe(r)
        assert 'did not answer within' in _out(r)
        assert took < 40 * runner.timeout_scale()
    finally:
        stop.set()
        th.join()
        for c in held:
            c.close()
        srv.close()


def test_no_session_bus_no_keyring_no_delay(dovecot, oimap):
    env = {k: v for k, v in os.environ.items()
           if k not in ('DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR')}
    oimap.write_config(remote_opts={'remotepass': None})
    r = oimap.run('-o', '-u', 'machineui', '-d', 'imap', env=env,
                  input=f'{dovecot.password()}\n')
    assert r.returncode == 0, runner.describe(r)
    assert 'Keyring not used: no D-Bus session bus' in _out(r)
