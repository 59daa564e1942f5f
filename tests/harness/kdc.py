"""A private, throwaway MIT Kerberos KDC for GSSAPI tests (Debian's krb5-kdc).

    with KDC(basedir) as kdc:
        kdc.add_user('test', 'testpass')
        keytab = kdc.add_service('imap/localhost')
        kdc.kinit('test', 'testpass')     # fills kdc.ccache
        env = kdc.client_env()             # KRB5_CONFIG, KRB5CCNAME for a client

Everything lives under `basedir`: krb5.conf, kdc.conf, the database, the keytabs, the
credential cache and the KDC's log. The KDC runs in the foreground (`krb5kdc -n`) as a
child of the test process on a free port of 127.0.0.1 (TCP and UDP), with no DNS lookups
and no reverse resolution, so the service name is exactly what the client asks for.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from .dovecot import free_port

KRB5KDC = '/usr/sbin/krb5kdc'
KDB5_UTIL = '/usr/sbin/kdb5_util'
KADMIN_LOCAL = '/usr/sbin/kadmin.local'
KINIT = '/usr/bin/kinit'
REALM = 'OIMAP.TEST'


class KDCError(RuntimeError):
    """The KDC could not be set up or started."""


def available() -> bool:
    return all(os.access(p, os.X_OK) for p in (KRB5KDC, KDB5_UTIL, KADMIN_LOCAL, KINIT))


class KDC:
    def __init__(self, basedir: str | os.PathLike, realm: str = REALM):
        self.dir = Path(basedir).resolve()
        self.realm = realm
        self.port = free_port()
        self.krb5_conf = self.dir / 'krb5.conf'
        self.kdc_conf = self.dir / 'kdc.conf'
        self.ccache = self.dir / 'ccache'
        self.log_path = self.dir / 'kdc.log'
        self.proc: subprocess.Popen | None = None

    def _env(self) -> dict[str, str]:
        e = dict(os.environ)
        e.update(KRB5_CONFIG=str(self.krb5_conf), KRB5_KDC_PROFILE=str(self.kdc_conf),
                 KRB5CCNAME=f'FILE:{self.ccache}')
        return e

    def client_env(self) -> dict[str, str]:
        """Environment for a client using the ticket kinit() got."""
        e = dict(os.environ)
        e.update(KRB5_CONFIG=str(self.krb5_conf), KRB5CCNAME=f'FILE:{self.ccache}')
        return e

    def _run(self, *cmd: str, input: str | None = None) -> str:
        r = subprocess.run(cmd, capture_output=True, text=True, input=input, env=self._env(),
                           timeout=60)
        if r.returncode != 0:
            raise KDCError(f'{" ".join(cmd)} failed ({r.returncode}): {r.stderr.strip()}')
        return r.stdout

    def start(self) -> 'KDC':
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)
        self.krb5_conf.write_text(f"""[libdefaults]
  default_realm = {self.realm}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  dns_canonicalize_hostname = false
  udp_preference_limit = 1
  ignore_acceptor_hostname = false
[realms]
  {self.realm} = {{
    kdc = 127.0.0.1:{self.port}
  }}
[domain_realm]
  localhost = {self.realm}
  127.0.0.1 = {self.realm}
""")
        self.krb5_conf.chmod(0o644)
        self.kdc_conf.write_text(f"""[kdcdefaults]
  kdc_listen = 127.0.0.1:{self.port}
  kdc_tcp_listen = 127.0.0.1:{self.port}
[realms]
  {self.realm} = {{
    database_name = {self.dir}/principal
    key_stash_file = {self.dir}/stash
    acl_file = {self.dir}/kadm5.acl
    max_life = 1h
  }}
[logging]
  kdc = FILE:{self.log_path}
""")
        (self.dir / 'kadm5.acl').write_text('')
        self._run(KDB5_UTIL, 'create', '-s', '-r', self.realm, '-P', 'master-of-the-test')
        self.proc = subprocess.Popen([KRB5KDC, '-n', '-r', self.realm], env=self._env(),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors='replace') if self.proc.stderr else ''
                raise KDCError(f'krb5kdc exited ({self.proc.returncode}): {err}')
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise KDCError(f'krb5kdc did not listen on 127.0.0.1:{self.port} within 20 s')

    def add_user(self, name: str, password: str) -> None:
        self._run(KADMIN_LOCAL, '-r', self.realm, '-q', f'addprinc -pw {password} {name}')

    def add_service(self, principal: str, keytab: str | os.PathLike | None = None) -> Path:
        """A service principal with a random key, exported to a keytab (mode 0644: the
        server's processes run as other users; test material only)."""
        kt = Path(keytab) if keytab else self.dir / (principal.replace('/', '_') + '.keytab')
        self._run(KADMIN_LOCAL, '-r', self.realm, '-q', f'addprinc -randkey {principal}')
        self._run(KADMIN_LOCAL, '-r', self.realm, '-q', f'ktadd -k {kt} {principal}')
        kt.chmod(0o644)
        return kt

    def kinit(self, name: str, password: str) -> None:
        self._run(KINIT, name, input=password + '\n')

    def kdestroy(self) -> None:
        self.ccache.unlink(missing_ok=True)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def __enter__(self) -> 'KDC':
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
