"""Test TLS material made with the openssl command-line tool: a CA and a server
certificate for 127.0.0.1/localhost, and certificate fingerprints."""

from __future__ import annotations

import hashlib
import os
import ssl
import subprocess
from pathlib import Path

OPENSSL = 'openssl'


class TLSError(RuntimeError):
    """openssl failed."""


def make_test_ca(directory: str | os.PathLike, *, key_type: str = 'ec',
                 cn: str = '127.0.0.1') -> dict[str, Path]:
    """Generate a test CA and a server certificate signed by it, with the openssl CLI.

    The server certificate has CN=`cn` (offlineimap3 insists on a commonName) and
    subjectAltName IP:127.0.0.1, DNS:localhost. Returns the paths: ca (certificate),
    ca_key, cert, key. key_type 'ec' (P-256, fast) or 'rsa' (2048 bits).
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    p = {'ca': d / 'ca.pem', 'ca_key': d / 'ca.key', 'cert': d / 'server.pem',
         'key': d / 'server.key'}
    if key_type == 'ec':
        newkey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']
    elif key_type == 'rsa':
        newkey = ['-newkey', 'rsa:2048']
    else:
        raise ValueError(f'unknown key_type {key_type!r}')
    ext = d / 'server-ext.cnf'
    ext.write_text('basicConstraints = CA:FALSE\n'
                   'keyUsage = critical, digitalSignature, keyEncipherment\n'
                   'extendedKeyUsage = serverAuth\n'
                   'subjectAltName = IP:127.0.0.1, DNS:localhost\n')
    csr = d / 'server.csr'
    cmds = [
        [OPENSSL, 'req', '-x509', *newkey, '-nodes', '-keyout', str(p['ca_key']),
         '-out', str(p['ca']), '-days', '3650', '-subj', '/CN=offlineimap test CA',
         '-addext', 'basicConstraints=critical,CA:TRUE',
         '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
        [OPENSSL, 'req', *newkey, '-nodes', '-keyout', str(p['key']), '-out', str(csr),
         '-subj', f'/CN={cn}'],
        [OPENSSL, 'x509', '-req', '-in', str(csr), '-CA', str(p['ca']), '-CAkey',
         str(p['ca_key']), '-set_serial', str(int.from_bytes(os.urandom(8), 'big')),
         '-days', '3650', '-extfile', str(ext), '-out', str(p['cert'])],
    ]
    for cmd in cmds:
        r = subprocess.run(cmd, capture_output=True)
        if r.returncode != 0:
            raise TLSError(f'{" ".join(cmd)} failed: {r.stderr.decode(errors="replace")}')
    csr.unlink()
    for k in ('key', 'ca_key'):
        p[k].chmod(0o600)
    return p


def cert_fingerprint(pem_path: str | os.PathLike, algo: str = 'sha256') -> str:
    """Hex fingerprint (lowercase, no colons) of a PEM certificate, as offlineimap's
    cert_fingerprint option expects."""
    der = ssl.PEM_cert_to_DER_cert(Path(pem_path).read_text())
    return hashlib.new(algo, der).hexdigest()


def make_server_cert(ca: dict[str, Path], directory: str | os.PathLike, *, cn: str,
                     sans: tuple[str, ...] = (), not_before: str | None = None,
                     not_after: str | None = None, name: str = 'server') -> dict[str, Path]:
    """Another server certificate signed by the CA of make_test_ca() (`ca` is its result).

    cn: the subject commonName; sans: subjectAltName entries like 'DNS:mail.example.org' or
    'IP:127.0.0.1' (none: no extension, so clients fall back to the commonName);
    not_before / not_after: validity as 'YYYYMMDDHHMMSSZ' (default: now for ten years), so
    that expired and not-yet-valid certificates can be made. Returns {'cert', 'key'} and
    'ca' (the issuer's certificate), ready for Dovecot(tls_files=...).
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    key, csr, cert = d / f'{name}.key', d / f'{name}.csr', d / f'{name}.pem'
    db = d / f'{name}-ca-db'
    db.mkdir(exist_ok=True)
    (db / 'index.txt').write_text('')
    (db / 'serial').write_text(os.urandom(8).hex() + '\n')
    ext = ''
    if sans:
        ext = f'subjectAltName = {", ".join(sans)}\n'
    conf = d / f'{name}-ca.cnf'
    conf.write_text(f"""[ca]
default_ca = test_ca
[test_ca]
database = {db}/index.txt
serial = {db}/serial
new_certs_dir = {db}
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
x509_extensions = server_ext
[any]
commonName = supplied
[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
{ext}""")
    cmds = [
        [OPENSSL, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
         '-keyout', str(key), '-out', str(csr), '-subj', f'/CN={cn}'],
        [OPENSSL, 'ca', '-batch', '-notext', '-config', str(conf), '-cert', str(ca['ca']),
         '-keyfile', str(ca['ca_key']), '-in', str(csr), '-out', str(cert),
         *(['-startdate', not_before] if not_before else []),
         *(['-enddate', not_after] if not_after else ['-days', '3650'])],
    ]
    for cmd in cmds:
        r = subprocess.run(cmd, capture_output=True)
        if r.returncode != 0:
            raise TLSError(f'{" ".join(cmd)} failed: {r.stderr.decode(errors="replace")}')
    csr.unlink()
    key.chmod(0o600)
    return {'ca': Path(ca['ca']), 'cert': cert, 'key': key}
