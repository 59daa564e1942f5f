"""The three tools with equivalent settings, and a measured run of any command.

    tool = make_tool('mbsync', params)
    argv, env = tool.prepare(workdir, endpoint)   # writes its config, returns the command
    res = measure(argv, env, workdir / 'out', timeout=600)
    res.wall, res.cpu, res.maxrss_kb, res.ok

Every tool syncs all folders both ways into its own local Maildir with the same layout
(one directory per folder, flattened names such as Archive.2024, INBOX in INBOX/).

- ours and offlineimap3: an offlineimaprc (Maildir local, IMAP remote; ssl with
  sslcacertfile for TLS, starttls off otherwise); ours with maxconnections (default 4),
  offlineimap3 with its defaults (maxconnections 1) unless told otherwise; both with
  auth_mechanisms = PLAIN (one round trip, like mbsync's AuthMechs LOGIN). Both run as
  `offlineimap -c rc -o -u quiet`.
- mbsync: an mbsyncrc with IMAPAccount/IMAPStore/MaildirStore/Channel, Patterns *,
  Create Both, Expunge Both, SyncState *, Sync All, Flatten . (same layout), and
  SSLType IMAPS with CertificateFile for TLS (isync 1.4 names). Run as
  `mbsync -c rc -a -q`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tests'))

from harness.runner import write_config  # noqa: E402

OFFLINEIMAP3 = '/usr/bin/offlineimap'
MBSYNC = '/usr/bin/mbsync'


@dataclass
class Endpoint:
    host: str
    port: int
    tls: bool
    ca: str | None
    user: str
    password: str


@dataclass
class Result:
    wall: float
    user: float
    sys: float
    maxrss_kb: int
    returncode: int
    timed_out: bool
    stdout: str
    stderr: str

    @property
    def cpu(self) -> float:
        return self.user + self.sys

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


MEASURE_EXE: str | None = None   # set by build_helpers()


def build_helpers(outdir: Path) -> dict[str, Path]:
    """Compile measure.c and floor.c (cc -O2) into outdir; sets MEASURE_EXE."""
    global MEASURE_EXE
    here = Path(__file__).resolve().parent
    out = {}
    for name in ('measure', 'floor'):
        exe = outdir / name
        r = subprocess.run(['cc', '-O2', '-Wall', '-o', str(exe), str(here / f'{name}.c')],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f'cannot build bench/{name}.c: {r.stderr.strip()[:500]}')
        out[name] = exe
    MEASURE_EXE = str(out['measure'])
    return out


def measure(argv: list[str], env: dict[str, str], out_prefix: Path, timeout: float,
            cwd: str | None = None) -> Result:
    """Run argv under bench/measure.c with stdout/stderr to files: wall time, and CPU
    time and peak RSS of the command (and the descendants it waited for) from wait4's
    rusage. On timeout the whole process group is killed."""
    if MEASURE_EXE is None:
        raise RuntimeError('build_helpers() first')
    out_path = Path(f'{out_prefix}.stdout')
    err_path = Path(f'{out_prefix}.stderr')
    res_path = Path(f'{out_prefix}.rusage')
    res_path.unlink(missing_ok=True)
    with open(out_path, 'wb') as out, open(err_path, 'wb') as err:
        t0 = time.monotonic()
        p = subprocess.Popen([MEASURE_EXE, str(res_path), *argv], stdin=subprocess.DEVNULL,
                             stdout=out, stderr=err, env=env, cwd=cwd,
                             start_new_session=True, close_fds=True)
        timed_out = False
        try:
            p.wait(timeout=timeout)
        except BaseException as ex:  # the timeout, or the benchmark being interrupted
            if not isinstance(ex, subprocess.TimeoutExpired):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
                raise
            timed_out = True
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        outer_wall = time.monotonic() - t0
    try:
        os.killpg(p.pid, signal.SIGKILL)  # leftovers of the group (daemonized children)
    except (ProcessLookupError, PermissionError):
        pass
    fields = res_path.read_text().split() if res_path.exists() else []
    if len(fields) == 5 and not timed_out:
        code, wall, user, sys_, rss = (int(fields[0]), float(fields[1]), float(fields[2]),
                                       float(fields[3]), int(fields[4]))
    else:
        code, wall, user, sys_, rss = (p.returncode if not timed_out else -9, outer_wall,
                                       0.0, 0.0, 0)
    return Result(wall, user, sys_, rss, code, timed_out,
                  out_path.read_text(errors='replace'), err_path.read_text(errors='replace'))


def base_env(home: Path) -> dict[str, str]:
    env = {'HOME': str(home), 'PATH': '/usr/local/bin:/usr/bin:/bin', 'LC_ALL': 'C.UTF-8',
           'PYTHONDONTWRITEBYTECODE': '1'}
    if 'TZ' in os.environ:
        env['TZ'] = os.environ['TZ']
    return env


class Tool:
    name = ''
    label = ''

    def __init__(self, params: dict):
        self.params = params

    def local_root(self, workdir: Path) -> Path:
        return workdir / 'Mail'

    def prepare(self, workdir: Path, ep: Endpoint) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError


class OfflineimapLike(Tool):
    """ours or offlineimap3: the same offlineimaprc and command line."""

    def __init__(self, params: dict, binary: str, maxconnections: int | None, name: str,
                 label: str):
        super().__init__(params)
        self.binary = binary
        self.maxconnections = maxconnections
        self.name = name
        self.label = label

    def prepare(self, workdir: Path, ep: Endpoint) -> tuple[list[str], dict[str, str]]:
        rc = workdir / 'offlineimaprc'
        # One round trip with the password, as mbsync's AuthMechs LOGIN: offlineimap's
        # default order would pick CRAM-MD5 (two round trips) on this Dovecot.
        remote = {'auth_mechanisms': 'PLAIN'}
        if self.maxconnections:
            remote['maxconnections'] = self.maxconnections
        if self.params.get('compress'):
            remote['usecompression'] = True
        self.local_root(workdir).mkdir(parents=True, exist_ok=True)
        write_config(rc, localfolders=self.local_root(workdir), metadata=workdir / 'metadata',
                     account='Bench', host=ep.host, port=ep.port, user=ep.user,
                     password=ep.password, ssl=ep.tls, sslcacertfile=ep.ca if ep.tls else None,
                     remote_opts=remote)
        return [self.binary, '-c', str(rc), '-o', '-u', 'quiet'], base_env(workdir)

    def version(self) -> str:
        r = subprocess.run([self.binary, '--version'], capture_output=True, text=True,
                           timeout=60)
        return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr) else '?'


class Mbsync(Tool):
    name = 'mbsync'
    label = 'mbsync'

    def prepare(self, workdir: Path, ep: Endpoint) -> tuple[list[str], dict[str, str]]:
        root = self.local_root(workdir)
        root.mkdir(parents=True, exist_ok=True)
        lines = [
            'IMAPAccount bench',
            f'Host {ep.host}',
            f'Port {ep.port}',
            f'User {ep.user}',
            f'Pass {ep.password}',
            f'SSLType {"IMAPS" if ep.tls else "None"}',
        ]
        if ep.tls:
            lines.append(f'CertificateFile {ep.ca}')
        lines += [
            'AuthMechs LOGIN',
            'Timeout 600',
            '',
            'IMAPStore remote',
            'Account bench',
            '',
            'MaildirStore local',
            f'Path {root}/',
            f'Inbox {root}/INBOX',
            'Flatten .',
            '',
            'Channel bench',
            'Far :remote:',
            'Near :local:',
            'Patterns *',
            'Create Both',
            'Expunge Both',
            'SyncState *',
            'Sync All',
            '',
        ]
        rc = workdir / 'mbsyncrc'
        rc.write_text('\n'.join(lines))
        return [MBSYNC, '-c', str(rc), '-a', '-q'], base_env(workdir)

    def version(self) -> str:
        r = subprocess.run([MBSYNC, '--version'], capture_output=True, text=True, timeout=60)
        return r.stdout.strip()


def make_tools(names: list[str], binary: str, params: dict) -> list[Tool]:
    out: list[Tool] = []
    for n in names:
        if n == 'ours':
            out.append(OfflineimapLike(params, str(Path(binary).resolve()),
                                       params.get('maxconnections', 4), 'ours', 'ours'))
        elif n == 'mbsync':
            out.append(Mbsync(params))
        elif n in ('offlineimap3', 'oimap3'):
            out.append(OfflineimapLike(params, OFFLINEIMAP3,
                                       params.get('oimap3_maxconnections'), 'offlineimap3',
                                       'offlineimap3'))
        else:
            raise SystemExit(f'unknown tool {n!r} (ours, mbsync, offlineimap3)')
    return out


# mbsync warns on every plain-text login; not a problem for the benchmark.
BENIGN_STDERR = ('*** IMAP Warning *** Password is being sent in the clear',)


def stderr_notes(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip() and
            not any(b in ln for b in BENIGN_STDERR)]
