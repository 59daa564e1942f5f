#!/usr/bin/python3
"""Benchmark: our offlineimap against mbsync (isync) and offlineimap3, side by side on
the same corpus and the same private Dovecot. See bench/README.md.

    /usr/bin/python3 bench/bench.py --binary build/offlineimap [--size small]
        [--tools ours,mbsync,offlineimap3] [--scenarios first,nochange,server,local]
        [--transports plain,tls,rtt] [--tls | --no-tls] [--rtt-ms 20] [--repeat N]
        [--maxconnections 4] [--timeout S] [--keep] [--results bench/RESULTS.md]

Writes bench/RESULTS.md (this size's section; other sizes' sections are kept) and
prints the same tables. Exit status 0 when every run of our binary succeeded with a
correct result, 1 otherwise, 2 on a setup error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pwd
import re
import grp
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO / 'tests'))

from harness.dovecot import Dovecot, _children, make_basedir  # noqa: E402

import changes  # noqa: E402
import report  # noqa: E402
from corpus import SIZES, Corpus, Model  # noqa: E402
from report import Record  # noqa: E402
from tools import Endpoint, build_helpers, make_tools, measure, stderr_notes  # noqa: E402
from verify import compare, scan_local, scan_server, server_body_digests  # noqa: E402

SCENARIOS = ['first', 'nochange', 'server', 'local']
TRANSPORTS = ['plain', 'tls', 'rtt', 'tls-rtt']
PASSWORD = 'benchpass'
DEFAULT_TIMEOUT = {'tiny': 120, 'small': 900, 'medium': 3600, 'large': 14400}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--binary', default=str(REPO / 'build' / 'offlineimap'),
                    help='our offlineimap binary (default build/offlineimap)')
    ap.add_argument('--size', choices=list(SIZES), default='small')
    ap.add_argument('--seed', type=int, default=1, help='corpus seed (default 1)')
    ap.add_argument('--messages', type=int, default=None,
                    help="override the size's message count (for trying a size quickly)")
    ap.add_argument('--label', default=None,
                    help='a word naming this run in RESULTS.md: its section is kept apart from '
                         "the size's plain section (e.g. a run without offlineimap3)")
    ap.add_argument('--tools', default='ours,mbsync,offlineimap3')
    ap.add_argument('--scenarios', default=','.join(SCENARIOS),
                    help='which to report, among first,nochange,server,local (the ones '
                         'before the last chosen still run, to set up the state)')
    ap.add_argument('--transports', default=None,
                    help='plain,tls,rtt,tls-rtt (default plain,tls,rtt; see --tls)')
    ap.add_argument('--tls', action=argparse.BooleanOptionalAction, default=None,
                    help='--tls: also TLS behind the delaying proxy (tls-rtt); '
                         '--no-tls: no TLS runs at all')
    ap.add_argument('--rtt-ms', type=float, default=20.0,
                    help='round-trip time the delaying proxy adds (0: no proxy runs)')
    ap.add_argument('--repeat', type=int, default=1, help='runs per measurement (median)')
    ap.add_argument('--repeat-offlineimap3', type=int, default=None,
                    help='runs for offlineimap3 (default: --repeat); it is slow')
    ap.add_argument('--maxconnections', type=int, default=4, help='for our binary')
    ap.add_argument('--oimap3-maxconnections', type=int, default=None,
                    help="for offlineimap3 (default: its own default, 1)")
    ap.add_argument('--compress', action='store_true',
                    help='Dovecot offers COMPRESS=DEFLATE and the offlineimaprcs set '
                         'usecompression (mbsync uses it whenever offered); default off')
    ap.add_argument('--login-processes', type=int, default=os.cpu_count() or 1,
                    help="Dovecot's imap-login processes started ahead (process_min_avail, "
                         "with service_count = 0: Dovecot's high-performance mode, one per "
                         "core); they hold the TLS sessions, so one process would handle "
                         "every TLS connection in turn (default: the number of cores)")
    ap.add_argument('--share', type=float, default=0.01, help='share of messages changed')
    ap.add_argument('--timeout', type=float, default=None,
                    help='per run, seconds; a run that takes longer is killed and '
                         'reported as a timeout (default by size: ' +
                         ', '.join(f'{k} {v}' for k, v in DEFAULT_TIMEOUT.items()) + ')')
    ap.add_argument('--verify-cache', action=argparse.BooleanOptionalAction, default=None,
                    help='re-read only new local files when checking (default: on for '
                         'large only)')
    ap.add_argument('--no-floor', action='store_true', help='skip the bare-fetch floor')
    ap.add_argument('--no-rss50', action='store_true',
                    help='skip the peak-RSS run without the 50 MB message')
    ap.add_argument('--workdir', default=None, help='parent directory for the work tree '
                    '(default: the system temp dir; must be traversable by Dovecot)')
    ap.add_argument('--keep', action='store_true', help='keep the work tree')
    ap.add_argument('--results', default=str(BENCH / 'RESULTS.md'))
    ap.add_argument('--json', default=None, help='also write every run as JSON here')
    a = ap.parse_args(argv)
    a.tools = [t.strip() for t in a.tools.split(',') if t.strip()]
    a.tools = ['offlineimap3' if t == 'oimap3' else t for t in a.tools]
    a.scenarios = [s.strip() for s in a.scenarios.split(',') if s.strip()]
    for s in a.scenarios:
        if s not in SCENARIOS:
            ap.error(f'unknown scenario {s!r} ({", ".join(SCENARIOS)})')
    if a.transports:
        a.transports = [t.strip() for t in a.transports.split(',') if t.strip()]
    else:
        a.transports = ['plain', 'tls', 'rtt']
        if a.tls:
            a.transports.append('tls-rtt')
    if a.tls is False:
        a.transports = [t for t in a.transports if 'tls' not in t]
    if a.rtt_ms <= 0:
        a.transports = [t for t in a.transports if 'rtt' not in t]
    for t in a.transports:
        if t not in TRANSPORTS:
            ap.error(f'unknown transport {t!r} ({", ".join(TRANSPORTS)})')
    if not a.transports:
        ap.error('no transport left to run')
    if a.timeout is None:
        a.timeout = DEFAULT_TIMEOUT[a.size]
    if a.verify_cache is None:
        a.verify_cache = a.size == 'large'
    if a.repeat < 1:
        ap.error('--repeat must be at least 1')
    if a.repeat_offlineimap3 is None:
        a.repeat_offlineimap3 = a.repeat
    return a


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.a = args
        self.records: list[Record] = []
        self.extra: list[Record] = []   # floor and no-50-MB runs
        self.proxies: dict[str, tuple[subprocess.Popen, int]] = {}
        self.dc: Dovecot | None = None
        self.work: Path | None = None
        self.notes: list[str] = []
        self.timings: dict[str, float] = {}
        self.last_mod = time.time()

    # ------------------------------------------------------------------ setup

    def setup(self) -> None:
        a = self.a
        self.work = make_basedir(prefix='oimap-bench-', parent=a.workdir)
        log(f'work tree: {self.work}')
        self.helpers = build_helpers(self.work)
        users = {u: PASSWORD for u in ['template', 'floor'] + a.tools +
                 [f'{t}-no50' for t in a.tools]}
        # Dovecot's default 256 MB per process is too little for a folder of a million
        # messages (the imap process dies in the middle of a FETCH).
        self.dc = Dovecot(self.work / 'dovecot', users=users, ssl=True, compress=a.compress,
                          extra_conf='default_vsz_limit = 4G\n'
                                     'service imap-login {\n'
                                     f'  process_min_avail = {max(1, a.login_processes)}\n'
                                     '}\n')
        self.dc.start()
        self.uid = pwd.getpwnam(self.dc.mail_user).pw_uid
        self.gid = grp.getgrnam(self.dc.mail_group).gr_gid
        spec = SIZES[a.size]
        if a.messages:
            spec = dataclasses.replace(spec, messages=a.messages)
        self.corpus = Corpus(spec, a.seed)
        t0 = time.monotonic()
        log(f'writing the {a.size} corpus into the Maildir ...')
        self.model: Model = self.corpus.write(
            self.dc.maildir_path('template'), self.uid, self.gid,
            progress=lambda n, tot: log(f'  {n}/{tot} messages'))
        t1 = time.monotonic()
        log(f'  {self.corpus.describe(self.model)} in {t1 - t0:.1f} s; indexing ...')
        server = scan_server(self.dc, 'template')
        probs = compare(self.model, server, None, server_body_digests(self.dc, 'template'))
        t2 = time.monotonic()
        if probs:
            raise SystemExit('the corpus on the server is not the expected one:\n  '
                             + '\n  '.join(probs))
        self.timings = {'write': t1 - t0, 'index': t2 - t1}
        log(f'  Dovecot indexed and checked it in {t2 - t1:.1f} s')
        for tr in a.transports:
            if 'rtt' in tr:
                self.start_proxy(tr)

    def start_proxy(self, transport: str) -> None:
        target = self.dc.ssl_port if transport == 'tls-rtt' else self.dc.port
        p = subprocess.Popen([sys.executable, str(BENCH / 'proxy.py'),
                              '--target', f'{self.dc.host}:{target}',
                              '--delay-ms', str(self.a.rtt_ms / 2)],
                             stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        line = p.stdout.readline().split()
        if len(line) != 2 or line[0] != 'READY':
            raise SystemExit(f'the delaying proxy did not start: {line}')
        self.proxies[transport] = (p, int(line[1]))

    def endpoint(self, transport: str, user: str) -> Endpoint:
        dc = self.dc
        tls = transport.startswith('tls')
        if 'rtt' in transport:
            port = self.proxies[transport][1]
        else:
            port = dc.ssl_port if tls else dc.port
        return Endpoint(dc.host, port, tls, str(dc.ca_path) if tls else None, user, PASSWORD)

    def clone_user(self, dst: str, exclude: set[str] = frozenset()) -> None:
        """A copy of the template user's mail: message files hard-linked (Dovecot never
        rewrites them; flag changes rename, expunges unlink), index files copied.
        `exclude`: message files (relative to the user's home) left out."""
        src = self.dc.mail_root / 'template'
        out = self.dc.mail_root / dst
        # a folder that loses a file is indexed again from scratch by Dovecot
        reindex = {os.path.dirname(os.path.dirname(x)) for x in exclude}
        if out.exists():
            shutil.rmtree(out)
        for dirpath, _dirs, files in os.walk(src):
            rel = os.path.relpath(dirpath, src)
            d = out / rel if rel != '.' else out
            d.mkdir(mode=0o700)
            os.chown(d, self.uid, self.gid)
            leaf = os.path.basename(dirpath)
            if leaf == 'tmp':
                continue
            for fn in files:
                relf = os.path.normpath(os.path.join(rel, fn))
                if relf in exclude or (rel in reindex and fn.startswith('dovecot')):
                    continue
                s = os.path.join(dirpath, fn)
                if leaf in ('cur', 'new'):
                    os.link(s, d / fn)
                else:
                    shutil.copyfile(s, d / fn)
                    os.chown(d / fn, self.uid, self.gid)
                    os.chmod(d / fn, 0o600)
        self.last_mod = time.time()

    # ------------------------------------------------------------------ runs

    def settle(self) -> None:
        """Flush dirty pages, and start in a later wall-clock second than the last change
        to any Maildir: mbsync (and Dovecot) treat a directory modified in the current
        second as possibly incomplete and wait or rescan; a user's sync rarely follows a
        change within the same second."""
        os.sync()
        target = int(self.last_mod) + 1.02
        wait = target - time.time()
        if wait > 0:
            time.sleep(wait)

    def run_tool(self, tool, workdir: Path, argv, env, rec: Record, model: Model,
                 user: str, cache: dict | None):
        """One measured run, then the check. Fills rec; returns (server, local) scans."""
        self.settle()
        srv0 = self.server_cpu()
        res = measure(argv, env, workdir / f'run-{rec.scenario}', self.a.timeout)
        self.last_mod = time.time()
        rec.wall, rec.user, rec.sys, rec.rss_kb = res.wall, res.user, res.sys, res.maxrss_kb
        srv1 = self.server_cpu(wait=True)
        if srv0 is not None and srv1 is not None:
            rec.server_cpu = srv1 - srv0
        notes = stderr_notes(res.stderr) + stderr_notes(res.stdout)
        if res.timed_out:
            rec.status = 'timeout'
            rec.detail = [f'killed after {self.a.timeout:.0f} s'] + notes[-5:]
            return None
        if res.returncode != 0:
            rec.status = 'failed'
            rec.detail = [f'exit status {res.returncode}'] + notes[-20:]
            return None
        server = scan_server(self.dc, user)
        local = scan_local(tool.local_root(workdir), cache)
        probs = compare(model, server, local, server_body_digests(self.dc, user))
        if probs:
            rec.status = 'wrong'
            rec.detail = probs + notes[-5:]
            return None
        rec.status = 'ok'
        rec.detail = notes[-10:]
        return server, local

    def server_cpu(self, wait: bool = False) -> float | None:
        """CPU seconds of the Dovecot processes the master has reaped: the imap
        processes of finished sessions (a tool's connections). wait: first let the
        run's imap processes exit (a client may leave before the LOGOUT answer).
        The long-lived login and auth processes are not in it (TLS handshakes are)."""
        master = self.dc.master_pid() if self.dc else None
        if not master:
            return None
        if wait:
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline and any(
                    comm == 'imap' for _pid, _st, comm in _children(master)):
                time.sleep(0.02)
        try:
            f = Path(f'/proc/{master}/stat').read_text().rsplit(')', 1)[1].split()
        except OSError:
            return None
        # cutime and cstime: fields 16 and 17 of stat, 14 and 15 after the comm
        return (int(f[13]) + int(f[14])) / os.sysconf('SC_CLK_TCK')

    def chain(self, tool, transport: str, rep: int) -> None:
        """first sync, no change, 1% server changes, 1% local changes, on a fresh copy of
        the server and an empty local Maildir."""
        a = self.a
        user = tool.name
        self.clone_user(user)
        # A directory per repeat, all removed with the work tree at the end: removing the
        # last repeat's local copy (a million files at the large size) just before a first
        # sync slowed that sync's file creation (on ext4 without a journal, new inodes
        # pass over those freed in the last minutes) and cost minutes of disk time.
        workdir = self.work / 'runs' / f'{tool.name}-{transport}-{rep + 1}'
        if workdir.exists():
            shutil.rmtree(workdir)
        workdir.mkdir(parents=True)
        argv, env = tool.prepare(workdir, self.endpoint(transport, user))
        self.last_mod = time.time()
        model = self.model.copy()
        cache = {} if a.verify_cache else None
        last = max(SCENARIOS.index(s) for s in a.scenarios)
        state = None
        failed = False
        for sc in SCENARIOS[:last + 1]:
            rec = Record(rep, transport, tool.name, sc, 'skipped')
            self.records.append(rec)
            if failed:
                rec.detail = ['not run: an earlier run of this chain failed']
                continue
            if sc == 'server':
                plan = changes.plan_changes(model, share=a.share, seed=a.seed, tag='srv')
                changes.apply_server(self.dc, user, plan, state[0], self.uid, self.gid)
                plan.update(model)
                self.last_mod = time.time()
            elif sc == 'local':
                plan = changes.plan_changes(model, share=a.share, seed=a.seed, tag='loc')
                changes.apply_local(tool.local_root(workdir), plan, state[1])
                plan.update(model)
                self.last_mod = time.time()
            state = self.run_tool(tool, workdir, argv, env, rec, model, user, cache)
            log(f'  run {rep + 1} {transport:8} {tool.name:13} {sc:9} '
                f'{rec.wall:8.3f} s  cpu {rec.cpu:8.3f} s  rss {rec.rss_kb / 1024:7.1f} MiB'
                f'  {rec.status}' + (f': {rec.detail[0]}' if rec.status != 'ok' and rec.detail
                                     else ''))
            if state is None:
                failed = True

    def floor(self) -> None:
        exe = self.helpers['floor']
        self.clone_user('floor')
        folders = sorted(self.model.folders)
        runs = [(t, False) for t in self.a.transports if t in ('plain', 'rtt')]
        if 'plain' in self.a.transports:
            runs.append(('plain', True))   # the same, writing a Maildir
        for tr, md in runs:
            ep = self.endpoint(tr, 'floor')
            for rep in range(self.a.repeat):
                self.settle()
                # Each run writes a Maildir of its own, removed with the work tree at the
                # end (see the chains' Maildirs: a removal just before slows creation).
                (self.work / 'runs').mkdir(exist_ok=True)
                opt = ['-m', str(self.work / 'runs' / f'floor-maildir-{rep + 1}')] if md else []
                res = measure([str(exe), *opt, ep.host, str(ep.port), 'floor', PASSWORD,
                               *folders],
                              {'PATH': '/usr/bin:/bin'},
                              self.work / f'floor-{tr}{"-maildir" if md else ""}',
                              self.a.timeout)
                rec = Record(rep, tr, 'floor-maildir' if md else 'floor', 'first',
                             'ok' if res.ok else 'failed',
                             res.wall, res.user, res.sys, res.maxrss_kb)
                got = res.stdout.split()
                want = self.model.total()
                if res.ok and (len(got) != 2 or int(got[0]) != want):
                    rec.status = 'wrong'
                    rec.detail = [f'fetched {got} messages, expected {want}']
                if not res.ok:
                    rec.detail = [res.stderr.strip()[:300]]
                self.extra.append(rec)
                log(f'  run {rep + 1} {tr:8} floor         '
                    f'{"fetch+Maildir" if md else "bare fetch"} '
                    f'{res.wall:8.3f} s  cpu {rec.cpu:8.3f} s  rss {rec.rss_kb / 1024:7.1f} MiB'
                    f'  {rec.status} ({" ".join(got)})')

    def rss50(self) -> None:
        """First sync over plain TCP without the 50 MB message, for the peak-RSS delta."""
        if not self.model.huge_file:
            return
        tr = 'plain' if 'plain' in self.a.transports else self.a.transports[0]
        model = self.model.copy()
        for f in model.folders.values():
            f.pop(self.model.huge_msgid, None)
        exclude = {os.path.normpath(os.path.join('Maildir', self.model.huge_file))}
        for tool in self.tools:
            if tool.name not in ('ours', 'mbsync'):
                continue
            for rep in range(self.a.repeat):
                user = f'{tool.name}-no50'
                self.clone_user(user, exclude)
                probs = compare(model, scan_server(self.dc, user), None)
                if probs:
                    raise SystemExit(f'the copy without the 50 MB message is wrong: {probs}')
                workdir = self.work / 'runs' / f'{tool.name}-no50'
                if workdir.exists():
                    shutil.rmtree(workdir)
                workdir.mkdir(parents=True)
                argv, env = tool.prepare(workdir, self.endpoint(tr, user))
                self.last_mod = time.time()
                rec = Record(rep, tr, tool.name, 'first-no50', 'skipped')
                self.run_tool(tool, workdir, argv, env, rec, model, user, None)
                self.extra.append(rec)
                log(f'  run {rep + 1} {tr:8} {tool.name:13} first sync without the 50 MB '
                    f'message {rec.wall:8.3f} s  rss {rec.rss_kb / 1024:7.1f} MiB  {rec.status}')

    def run(self) -> int:
        a = self.a
        self.tools = make_tools(a.tools, a.binary, {
            'maxconnections': a.maxconnections,
            'oimap3_maxconnections': a.oimap3_maxconnections, 'compress': a.compress})
        if 'ours' in a.tools and not Path(a.binary).exists():
            log(f'{a.binary} does not exist: build it first')
            return 2
        if 'ours' in a.tools:
            opts = report.build_options(Path(a.binary).resolve().parent)
            log(f'our binary: {a.binary} ({opts})')
            if 'release' not in opts and '-O3' not in opts and '-O2' not in opts:
                log('warning: our binary is not an optimized build; for numbers worth '
                    'quoting build with --buildtype=release')
        started = report.now()
        t0 = time.monotonic()
        self.load = report.LoadSampler()
        self.load.start()
        try:
            self.setup()
            if not a.no_floor:
                self.floor()
            for rep in range(a.repeat):
                for tr in a.transports:
                    for tool in self.tools:
                        if tool.name == 'offlineimap3' and rep >= a.repeat_offlineimap3:
                            continue
                        self.chain(tool, tr, rep)
            if not a.no_rss50:
                self.rss50()
            self.write_report(started, time.monotonic() - t0)
        except Exception:
            if self.dc is not None:
                log('--- the end of the Dovecot log:\n' + self.dc.log_text()[-3000:])
            raise
        finally:
            self.cleanup()
        ours_bad = [r for r in self.records + self.extra
                    if r.tool == 'ours' and r.status not in ('ok', 'skipped')]
        return 1 if ours_bad else 0

    def cleanup(self) -> None:
        for p, _port in self.proxies.values():
            p.kill()
            p.wait()
        if self.dc is not None:
            self.dc.stop()
        if self.work is not None:
            if self.a.keep:
                log(f'kept the work tree {self.work}')
            else:
                shutil.rmtree(self.work, ignore_errors=True)

    # ------------------------------------------------------------------ report

    def write_report(self, started: str, elapsed: float) -> None:
        a = self.a
        rtt = f'{a.rtt_ms:g}'
        tools = [t.name for t in self.tools]
        scen = [s for s in SCENARIOS if s in a.scenarios]
        L: list[str] = []
        L.append(f'## Size {a.size}{f" ({a.messages} messages)" if a.messages else ""}'
                 f'{f" [{a.label}]" if a.label else ""}: '
                 f'{started}\n')
        L.append(f'Corpus (seed {a.seed}): {self.corpus.describe(self.model)}. Folders: '
                 + ', '.join(f'{f} ({len(v)})' for f, v in sorted(self.model.folders.items()))
                 + '.\n')
        L.append(f'Loaded by writing the Maildir directly in {self.timings["write"]:.1f} s; '
                 f'Dovecot indexed it and the counts were checked over IMAP in '
                 f'{self.timings["index"]:.1f} s. Each 1% change touches '
                 f'{max(3, round(a.share * self.model.total()))} messages (a third new: on the '
                 f'server delivered into new/, locally written into new/; a third flag '
                 f'changes; a third deletions). Median of {a.repeat} run(s)'
                 + (f' ({a.repeat_offlineimap3} for offlineimap3)'
                    if a.repeat_offlineimap3 != a.repeat and 'offlineimap3' in tools else '')
                 + '; '
                 f'run timeout {a.timeout:.0f} s; whole benchmark {elapsed / 60:.1f} min.\n')
        L.append(f'Machine load while it ran (1-minute load average, sampled every '
                 f'{self.load.every:g} s): {self.load.describe()}. Other processes on the '
                 f'machine add noise; the range of wall times is in each Status cell.\n')
        L.append(f'Settings: ours maxconnections={a.maxconnections}; offlineimap3 '
                 f'maxconnections={a.oimap3_maxconnections or "default (1)"}; mbsync '
                 f'defaults (pipelining unlimited); Dovecot: {max(1, a.login_processes)} '
                 f'imap-login process(es) (process_min_avail, service_count = 0); COMPRESS '
                 f'{"offered and used" if a.compress else "not offered"}. Each tool syncs '
                 f'its own copy of the server mailbox into its own empty Maildir; '
                 f'ratios are ours/tool (below 1: ours is faster or smaller).\n')
        summ = report.summary_table(self.records, a.transports, scen, tools, a.rtt_ms)
        if summ:
            L.append('### Wall-time ratios (ours / peer)\n')
            L += summ
            L.append('')
        for tr in a.transports:
            L.append(f'### {report.TRANSPORT_LABELS[tr].format(rtt=rtt)}\n')
            for sc in scen:
                L.append(f'**{report.SCENARIO_LABELS[sc]}**\n')
                L += report.scenario_table(self.records, tr, sc, tools)
                L.append('')
        floor = [r for r in self.extra if r.tool in ('floor', 'floor-maildir')]
        if floor:
            L.append('### Floor: bare fetch of every body over one connection\n')
            L.append('`bench/floor.c`: LOGIN, then per folder EXAMINE and '
                     '`UID FETCH 1:* BODY.PEEK[]`, bodies discarded; in the "writing a '
                     'Maildir" row each body is written as it comes into the folder\'s '
                     'tmp/, with per batch of 8192 files (and per folder) one syncfs(), '
                     'the renames into cur/ and an fsync of cur/ and tmp/: what the disk '
                     'and the kernel cost a safe first sync on one connection.\n')
            L.append('| Transport | Wall s | CPU s | Peak RSS MiB | ours first sync / floor | '
                     'Status |')
            L.append('|---|---:|---:|---:|---:|---|')
            for tool in ('floor', 'floor-maildir'):
                for tr in sorted({r.transport for r in floor if r.tool == tool},
                                 key=TRANSPORTS.index):
                    s = report.summarize(floor, tr, 'first', tool)
                    o = report.summarize(self.records, tr, 'first', 'ours')
                    rss = s.get('rss')
                    label = report.TRANSPORT_LABELS[tr].format(rtt=rtt)
                    if tool == 'floor-maildir':
                        label += ', writing a Maildir'
                    L.append(f'| {label} | '
                             f'{report.fmt_s(s.get("wall"))} | {report.fmt_s(s.get("cpu"))} | '
                             f'{"—" if rss is None else f"{rss:.1f}"} | '
                             f'{report.fmt_ratio(o.get("wall"), s.get("wall"))} | '
                             f'{report.status_text(s)} |')
            L.append('')
        no50 = [r for r in self.extra if r.scenario == 'first-no50']
        if no50:
            tr = no50[0].transport
            L.append(f'### Peak RSS and the {SIZES[a.size].huge_mb} MB message '
                     f'(first sync, {report.TRANSPORT_LABELS[tr].format(rtt=rtt)})\n')
            L.append('| Tool | RSS with it MiB | RSS without it MiB | Difference MiB | Status |')
            L.append('|---|---:|---:|---:|---|')
            for t in tools:
                w = report.summarize(self.records, tr, 'first', t)
                wo = report.summarize(no50, tr, 'first-no50', t)
                if not wo.get('n'):
                    continue
                a_, b_ = w.get('rss'), wo.get('rss')
                diff = f'{a_ - b_:+.1f}' if a_ is not None and b_ is not None else '—'
                L.append(f'| {t} | {"—" if a_ is None else f"{a_:.1f}"} | '
                         f'{"—" if b_ is None else f"{b_:.1f}"} | {diff} | '
                         f'{report.status_text(wo)} |')
            L.append('')
        probs = report.problems_section(self.records + self.extra)
        if probs or self.notes:
            L.append('### Failures, wrong results and messages from the tools\n')
            L += probs + [f'- {n}' for n in self.notes]
            L.append('')
        section = '\n'.join(L) + '\n'
        m = report.machine(self.work)
        v = report.versions(self.tools, self.dc_version(), REPO)
        header = ['# Benchmark results', '',
                  'Written by `bench/bench.py` (`make bench`); each size has its own '
                  'section, replaced when that size is run again. See bench/README.md for '
                  'what is measured and how.', '',
                  f'Last written {report.now()}.', '', '## Machine and versions', '',
                  '| | |', '|---|---|']
        header += [f'| {k} | {val} |' for k, val in m.items()]
        header += [f'| {k} | {val} |' for k, val in v.items()]
        header.append('')
        out = Path(a.results)
        key = f'{a.size}_{a.messages}' if a.messages else a.size
        if a.label:
            key += '_' + re.sub(r'\W', '', a.label)
        report.merge_results_file(out, key, section, '\n'.join(header) + '\n')
        print('\n'.join(header) + '\n' + section)
        log(f'wrote {out}')
        if a.json:
            Path(a.json).write_text(json.dumps(
                {'size': a.size, 'args': {k: v for k, v in vars(a).items()},
                 'machine': m, 'versions': v,
                 'records': [asdict(r) for r in self.records + self.extra]}, indent=1))

    def dc_version(self) -> str:
        r = subprocess.run(['/usr/sbin/dovecot', '--version'], capture_output=True, text=True)
        return r.stdout.strip()


def _interrupt(_sig, _frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # SIGTERM, and SIGINT even when started in the background (where it is ignored),
    # stop the benchmark with its cleanup: proxies, Dovecot and the work tree.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        return Bench(args).run()
    except KeyboardInterrupt:
        log('interrupted')
        return 2
    except SystemExit as e:
        if isinstance(e.code, str):
            log(f'setup error: {e.code}')
            return 2
        raise


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
