"""Machine facts, tool versions, and the result tables (Markdown for RESULTS.md, the same
text on stdout)."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SCENARIO_LABELS = {'first': 'first sync', 'nochange': 'no change',
                   'server': '1% server changes', 'local': '1% local changes'}
TRANSPORT_LABELS = {'plain': 'plain TCP, loopback',
                    'tls': 'TLS (IMAPS), loopback',
                    'rtt': 'plain TCP, +{rtt} ms RTT (delaying proxy)',
                    'tls-rtt': 'TLS (IMAPS), +{rtt} ms RTT (delaying proxy)'}


@dataclass
class Record:
    rep: int
    transport: str
    tool: str
    scenario: str
    status: str                  # ok, failed, wrong, timeout, skipped
    wall: float = 0.0
    user: float = 0.0
    sys: float = 0.0
    rss_kb: int = 0
    server_cpu: float | None = None  # Dovecot's imap processes of the run, seconds
    detail: list[str] = field(default_factory=list)

    @property
    def cpu(self) -> float:
        return self.user + self.sys


def _run(cmd: list[str]) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (r.stdout or r.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ''


def machine(workdir: Path) -> dict[str, str]:
    info: dict[str, str] = {}
    cpu = ''
    try:
        for ln in Path('/proc/cpuinfo').read_text().splitlines():
            if ln.startswith('model name'):
                cpu = ln.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    info['CPU'] = cpu or platform.processor() or '?'
    info['Cores'] = f'{len(os.sched_getaffinity(0))} usable ({os.cpu_count()} online)'
    try:
        kb = int(re.search(r'MemTotal:\s+(\d+)', Path('/proc/meminfo').read_text()).group(1))
        info['RAM'] = f'{kb / (1 << 20):.1f} GiB'
    except (OSError, AttributeError):
        info['RAM'] = '?'
    info['Kernel'] = f'{platform.system()} {platform.release()}'
    info['Disk'] = disk_of(workdir)
    os_release = ''
    try:
        m = re.search(r'PRETTY_NAME="([^"]*)"', Path('/etc/os-release').read_text())
        os_release = m.group(1) if m else ''
    except OSError:
        pass
    info['OS'] = os_release or '?'
    info['Python (harness, proxy)'] = platform.python_version()
    return info


def disk_of(path: Path) -> str:
    """Device, rotational or not, and file system of the directory holding `path`."""
    try:
        st = os.stat(path)
        major, minor = os.major(st.st_dev), os.minor(st.st_dev)
        sysdir = Path(f'/sys/dev/block/{major}:{minor}').resolve()
        dev = sysdir.name
        q = sysdir / 'queue'
        if not q.exists():
            q = sysdir.parent / 'queue'   # a partition: the disk's queue
        rot = (q / 'rotational').read_text().strip() if (q / 'rotational').exists() else '?'
        model = ''
        for cand in (sysdir / 'device' / 'model', sysdir.parent / 'device' / 'model'):
            if cand.exists():
                model = cand.read_text().strip()
                break
        kind = {'0': 'non-rotational (SSD/NVMe)', '1': 'rotational (HDD)'}.get(rot, '?')
        if dev.startswith('vd') or dev.startswith('xvd'):
            kind = (f'virtual disk (virtio), reports rotational={rot}; the host medium is '
                    f'not visible')
        fs = '?'
        best = ''
        for ln in Path('/proc/mounts').read_text().splitlines():
            parts = ln.split()
            mnt = parts[1]
            if str(path).startswith(mnt.rstrip('/') + '/') or str(path) == mnt or mnt == '/':
                if len(mnt) >= len(best):
                    best, fs = mnt, parts[2]
        return f'/dev/{dev} {model} ({kind}); file system {fs} at {best}'.replace('  ', ' ')
    except (OSError, ValueError):
        return '?'


def versions(tools, dovecot_version: str, repo: Path) -> dict[str, str]:
    out = {}
    for t in tools:
        v = t.version()
        if t.name == 'ours':
            rev = _run(['git', '-C', str(repo), 'rev-parse', '--short', 'HEAD'])
            dirty = _run(['git', '-C', str(repo), 'status', '--porcelain', '--untracked-files=no'])
            built = _dt.datetime.fromtimestamp(os.stat(t.binary).st_mtime, _dt.timezone.utc)
            v = (f'{v} ({t.binary}, built {built:%Y-%m-%d %H:%M} UTC, '
                 f'{build_options(Path(t.binary).parent)}; the source tree was at git {rev}'
                 f'{" with uncommitted changes" if dirty else ""} when the report was written)')
        elif t.name == 'offlineimap3':
            pkg = _run(['dpkg-query', '-W', '-f', '${Version}', 'offlineimap3'])
            v = f'{v} (Debian offlineimap3 {pkg})'
        elif t.name == 'mbsync':
            pkg = _run(['dpkg-query', '-W', '-f', '${Version}', 'isync'])
            v = f'{v} (Debian isync {pkg})'
        out[t.name] = v
    out['Dovecot'] = dovecot_version
    return out


def build_options(builddir: Path) -> str:
    """Meson build type, optimization and sanitizers of a build directory."""
    try:
        opts = {o['name']: o['value'] for o in json.loads(
            (builddir / 'meson-info' / 'intro-buildoptions.json').read_text())}
    except (OSError, ValueError, KeyError):
        return 'build options unknown'
    san = opts.get('b_sanitize', 'none')
    return (f'meson buildtype {opts.get("buildtype")}, -O{opts.get("optimization")}'
            + (f', sanitize={san}' if san not in ('none', None) else ''))


class LoadSampler:
    """Samples the 1-minute load average in a daemon thread."""

    def __init__(self, every: float = 5.0):
        import threading
        self.every = every
        self.samples: list[float] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        import time
        while True:
            try:
                self.samples.append(float(Path('/proc/loadavg').read_text().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(self.every)

    def describe(self) -> str:
        s = sorted(self.samples)
        if not s:
            return 'unknown'
        return f'min {s[0]:.2f}, median {s[len(s) // 2]:.2f}, max {s[-1]:.2f}'


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float('nan')


def summarize(records: list[Record], transport: str, scenario: str, tool: str) -> dict:
    rs = [r for r in records if (r.transport, r.scenario, r.tool) == (transport, scenario, tool)]
    ok = [r for r in rs if r.status == 'ok']
    bad = [r for r in rs if r.status != 'ok']
    if not rs:
        return {'n': 0}
    d = {'n': len(rs), 'ok': len(ok), 'bad': bad}
    if ok:
        d.update(wall=median([r.wall for r in ok]), cpu=median([r.cpu for r in ok]),
                 rss=median([r.rss_kb for r in ok]) / 1024.0,
                 wmin=min(r.wall for r in ok), wmax=max(r.wall for r in ok))
        srv = [r.server_cpu for r in ok if r.server_cpu is not None]
        if srv:
            d['srv'] = median(srv)
    return d


def status_text(s: dict) -> str:
    if s['n'] == 0:
        return ''
    if s['ok'] == s['n']:
        if s['n'] == 1:
            return 'ok (1 run)'
        return f'ok ({s["n"]} runs, wall {fmt_s(s["wmin"])}–{fmt_s(s["wmax"])})'
    kinds = sorted({r.status for r in s['bad']})
    text = '/'.join(k.upper() for k in kinds)
    return f'{text} ({s["n"] - s["ok"]} of {s["n"]})'


def fmt_s(x: float | None) -> str:
    if x is None or x != x:
        return '—'
    return f'{x:.3f}' if x < 10 else f'{x:.1f}'


def fmt_ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or a != a or b != b or b == 0:
        return '—'
    return f'{a / b:.2f}'


def scenario_table(records: list[Record], transport: str, scenario: str,
                   tools: list[str]) -> list[str]:
    ours = summarize(records, transport, scenario, 'ours') if 'ours' in tools else {'n': 0}
    lines = ['| Tool | Wall s | CPU s | Server CPU s | Peak RSS MiB | ours/tool wall | '
             'ours/tool CPU | ours/tool RSS | Status |',
             '|---|---:|---:|---:|---:|---:|---:|---:|---|']
    for t in tools:
        s = summarize(records, transport, scenario, t)
        if s['n'] == 0:
            continue
        w, c, m = s.get('wall'), s.get('cpu'), s.get('rss')
        if t == 'ours' or ours.get('wall') is None:
            rw = rc = rm = '—'
        else:
            rw = fmt_ratio(ours.get('wall'), w)
            rc = fmt_ratio(ours.get('cpu'), c)
            rm = fmt_ratio(ours.get('rss'), m)
        lines.append(f'| {t} | {fmt_s(w)} | {fmt_s(c)} | {fmt_s(s.get("srv"))} | '
                     f'{"—" if m is None else f"{m:.1f}"} | {rw} | {rc} | {rm} | '
                     f'{status_text(s)} |')
    return lines


def summary_table(records: list[Record], transports: list[str], scenarios: list[str],
                  tools: list[str], rtt: float) -> list[str]:
    """Wall-time ratios ours/peer per scenario and transport."""
    peers = [t for t in tools if t != 'ours']
    if 'ours' not in tools or not peers:
        return []
    head = '| Scenario | ' + ' | '.join(
        f'{TRANSPORT_LABELS[tr].format(rtt=rtt).split(",")[0]}'
        f'{" +RTT" if "rtt" in tr else ""}: ours/{p}' for tr in transports for p in peers) + ' |'
    lines = [head, '|---|' + '---:|' * (len(transports) * len(peers))]
    for sc in scenarios:
        cells = []
        for tr in transports:
            o = summarize(records, tr, sc, 'ours')
            for p in peers:
                s = summarize(records, tr, sc, p)
                cells.append(fmt_ratio(o.get('wall'), s.get('wall')) if s.get('n') else '')
        lines.append(f'| {SCENARIO_LABELS[sc]} | ' + ' | '.join(cells) + ' |')
    return lines


def _dedupe(lines: list[str]) -> list[str]:
    seen, out = set(), []
    for ln in lines:
        key = re.sub(r'127\.0\.0\.1:\d+', '127.0.0.1:PORT', ln)
        if key not in seen:
            seen.add(key)
            out.append(ln)
    return out


def problems_section(records: list[Record]) -> list[str]:
    """Failed, wrong and timed-out runs (identical ones across repeats merged), tool
    messages of successful runs, and a count of the runs skipped after a failure."""
    out = []
    groups: dict[tuple, list[Record]] = {}
    skipped = 0
    for r in records:
        if r.status == 'skipped':
            skipped += 1
            continue
        if r.status == 'ok' and not r.detail:
            continue
        gist = re.sub(r'127\.0\.0\.1:\d+', '', ' | '.join(_dedupe(r.detail)[:3]))
        key = (r.tool, r.transport, r.scenario, r.status, gist)
        groups.setdefault(key, []).append(r)
    for (tool, tr, sc, status, _k), rs in groups.items():
        runs = ', '.join(str(r.rep + 1) for r in rs)
        what = 'messages from a successful run' if status == 'ok' else status
        out.append(f'- {tool}, {tr}, {SCENARIO_LABELS.get(sc, sc)}, run{"s" if len(rs) > 1 else ""}'
                   f' {runs}: {what}')
        detail = _dedupe(rs[0].detail)
        for d in detail[:12]:
            out.append(f'    - `{d[:300]}`')
        if len(detail) > 12:
            out.append(f'    - ... {len(detail) - 12} more lines')
    if skipped:
        out.append(f'- {skipped} later run(s) not made: the chain they belong to had failed '
                   f'(its state was no longer the expected one).')
    return out


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')


def merge_results_file(path: Path, size: str, section: str, header: str) -> None:
    """Replace this size's section in RESULTS.md (keeping the other sizes' sections)."""
    begin, end = f'<!-- size:{size} -->', f'<!-- /size:{size} -->'
    sections: dict[str, str] = {}
    if path.exists():
        text = path.read_text()
        for m in re.finditer(r'<!-- size:(\w+) -->\n(.*?)<!-- /size:\1 -->', text, re.S):
            sections[m.group(1)] = m.group(2)
    sections[size] = section
    order = ['tiny', 'small', 'medium', 'large']
    parts = [header]
    for s in sorted(sections, key=lambda k: (order.index(k.split('_')[0])
                                             if k.split('_')[0] in order else 99, k)):
        parts.append(f'<!-- size:{s} -->\n{sections[s]}<!-- /size:{s} -->\n')
    path.write_text('\n'.join(parts))
