#!/usr/bin/python3
"""The README's demo: sync a throwaway Dovecot into a local Maildir, twice.

    python3 scripts/demo.py --binary build/offlineimap [--keep]

In a temporary directory it starts a private Dovecot (tests/harness/dovecot.py) seeded
with a few dozen messages in INBOX, Sent, Archive.2024 and Lists.dev, writes an
offlineimaprc for account "Demo" (local Maildir, remote the Dovecot, no TLS), runs the
binary, shows the local Maildir, changes something on both sides, runs again and shows
that the changes crossed. Then it stops Dovecot and removes the directory (kept with
--keep). Exit status 0 when both runs succeed and both sides end up equal.

Any binary with offlineimap's command line works: --binary /usr/bin/offlineimap runs
offlineimap3 itself.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tests'))

from harness import maildir as md  # noqa: E402
from harness import runner  # noqa: E402
from harness.dovecot import Dovecot, DovecotError, make_basedir  # noqa: E402
from harness.mailgen import MailGen, to_lf  # noqa: E402

FOLDERS = {'INBOX': 14, 'Sent': 8, 'Archive.2024': 12, 'Lists.dev': 10}
FLAGS = [(), ('\\Seen',), ('\\Seen',), ('\\Seen', '\\Answered'), ('\\Flagged',),
         ('\\Seen', '\\Flagged'), ()]


def say(title: str) -> None:
    print(f'\n=== {title}', flush=True)


def show_output(r) -> None:
    text = (r.stdout + r.stderr).rstrip()
    print(textwrap.indent(text or '(no output)', '  | '))
    print(f'  exit status {r.returncode}', flush=True)


def seed(dc: Dovecot, gen: MailGen) -> int:
    n = 0
    kinds = ['plain', 'html', '8bit-utf8', 'encoded-words', 'long-lines', 'nested',
             'attachment-small']
    makers = gen.kinds()
    for folder, count in FOLDERS.items():
        if folder != 'INBOX':
            dc.create(folder, subscribe=True)
        for i in range(count):
            kind = kinds[i % len(kinds)] if folder == 'INBOX' else 'plain'
            dc.append(folder, makers[kind](), flags=FLAGS[(n + i) % len(FLAGS)],
                      date=gen.last_date)
        n += count
    return n


def summarize(root: Path) -> None:
    tree = md.read_tree(root, '.', load=False)
    if not tree:
        print('  (no folders)')
    for folder, msgs in tree.items():
        new = sum(m.subdir == 'new' for m in msgs)
        print(f'  {folder:<14} {len(msgs):3d} messages ({new} in new/, '
              f'{len(msgs) - new} in cur/)')
    for folder in ('INBOX', 'Archive.2024'):
        for m in sorted(tree.get(folder, []), key=lambda m: (m.uid or 0, m.name))[:2]:
            print(f'    {folder}/{m.subdir}/{m.name}')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--binary', default=str(REPO / 'build' / 'offlineimap'),
                    help='the program to run (default: build/offlineimap)')
    ap.add_argument('--keep', action='store_true',
                    help='keep the temporary directory (config, Maildir, metadata)')
    ap.add_argument('--ui', default='basic', help='-u value passed to the binary')
    ap.add_argument('--seed', type=int, default=2024)
    args = ap.parse_args()

    binary = Path(args.binary)
    if not binary.exists():
        print(f'demo: {binary} does not exist. Build it first (make build), or pass '
              f'--binary PATH (e.g. --binary /usr/bin/offlineimap).', file=sys.stderr)
        return 1
    if not os.access(binary, os.X_OK) or binary.is_dir():
        print(f'demo: {binary} is not an executable file.', file=sys.stderr)
        return 1
    binary = binary.absolute()

    work = make_basedir(prefix='offlineimap-demo-')
    dc = Dovecot(work / 'dovecot')
    ok = False
    try:
        say('Starting a private Dovecot')
        t0 = time.monotonic()
        dc.start()
        gen = MailGen(args.seed)
        total = seed(dc, gen)
        print(f'  listening on {dc.host}:{dc.port} (user "test"), started in '
              f'{dc.start_seconds * 1000:.0f} ms; seeded {total} messages in '
              f'{time.monotonic() - t0:.2f} s:')
        for folder in dc.list_folders(selectable_only=True):
            print(f'  {folder:<14} {dc.status(folder)["MESSAGES"]:3d} messages')

        setup = runner.Setup(dc, work, account='Demo', binary=binary)
        setup.write_config()
        say(f'Configuration ({setup.config})')
        print(textwrap.indent(setup.config.read_text().rstrip(), '  '))

        say(f'First run: {binary.name} -c {setup.config.name} -o -u {args.ui}')
        t0 = time.monotonic()
        r = setup.run('-o', '-u', args.ui)
        took = time.monotonic() - t0
        show_output(r)
        print(f'  took {took:.2f} s')
        if r.returncode != 0:
            print('demo: the first run failed.', file=sys.stderr)
            return 1

        say(f'Local Maildir ({setup.maildir})')
        summarize(setup.maildir)

        say('Changing both sides')
        new_msg = gen.plain(subject='Fresh news from the server')
        new_uid = dc.append('INBOX', new_msg)
        print(f'  server: new message UID {new_uid} in INBOX ("Fresh news from the server")')
        lists_flags = dc.flags('Lists.dev')
        unseen = min(u for u, f in lists_flags.items() if '\\Seen' not in f)
        dc.set_flags('Lists.dev', unseen, '\\Seen')
        print(f'  server: Lists.dev UID {unseen} marked \\Seen')
        arch = [m for m in md.read_folder(setup.maildir, 'Archive.2024')
                if 'F' not in m.flags and m.uid is not None]
        if not arch:
            print('demo: Archive.2024 has no local message to flag.', file=sys.stderr)
            return 1
        target = arch[0]
        newpath = md.set_flags(target.path, target.flags + 'F')
        print(f'  local:  Archive.2024 UID {target.uid} flagged, renamed like mutt:')
        print(f'          {target.subdir}/{target.name}\n       -> cur/{newpath.name}')

        say(f'Second run: {binary.name} -c {setup.config.name} -o -u {args.ui}')
        t0 = time.monotonic()
        r = setup.run('-o', '-u', args.ui)
        took = time.monotonic() - t0
        show_output(r)
        print(f'  took {took:.2f} s')
        if r.returncode != 0:
            print('demo: the second run failed.', file=sys.stderr)
            return 1

        say('Did the changes cross?')
        checks = []
        got = [m for m in md.read_folder(setup.maildir, 'INBOX') if m.uid == new_uid]
        checks.append((f'server\'s new message is in the local INBOX as UID {new_uid}',
                       len(got) == 1 and got[0].content == to_lf(new_msg)))
        got = [m for m in md.read_folder(setup.maildir, 'Lists.dev') if m.uid == unseen]
        checks.append((f'Lists.dev UID {unseen} is seen locally (S, in cur/)',
                       len(got) == 1 and 'S' in got[0].flags and got[0].subdir == 'cur'))
        checks.append((f'Archive.2024 UID {target.uid} is \\Flagged on the server',
                       '\\Flagged' in dc.flags('Archive.2024').get(target.uid, set())))
        diffs = setup.snapshot().diff()
        checks.append(('server and Maildir hold the same messages, flags and bytes',
                       not diffs))
        for what, good in checks:
            print(f'  [{"ok" if good else "FAILED"}] {what}')
        for d in diffs[:20]:
            print(f'      {d}')
        ok = all(good for _w, good in checks)
        say('Local Maildir after the second run')
        summarize(setup.maildir)
        return 0 if ok else 1
    except DovecotError as e:
        print(f'demo: could not run Dovecot: {e}', file=sys.stderr)
        return 1
    finally:
        dc.stop()
        if args.keep:
            print(f'\nKept {work} (config: {work / "offlineimaprc"}, Maildir: '
                  f'{work / "Mail"}, metadata: {work / "metadata"}). Dovecot is stopped.')
        else:
            shutil.rmtree(work, ignore_errors=True)
        if ok:
            print('\nDemo finished: both sides agree.')


if __name__ == '__main__':
    sys.exit(main())
