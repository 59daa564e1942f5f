#!/usr/bin/python3
"""Compare our interfaces with offlineimap3's own UI classes.

One scenario (threads interleaving, every event type, errors, warnings,
debug output, a UID validity problem, the end-of-run summary) is played
twice for each interface variant: through the real offlineimap3 UI class
(ui/TTY.py, Noninteractive.py, Machine.py from /usr/share/offlineimap3, fed
fake repository and folder objects from one Python thread per offlineimap
thread name), and through our ui-replay driver.  stdout, stderr, the -l log
file (time stamps masked), the syslog datagrams (pid masked) and the exit
status must be identical.

Usage: test_ui_offlineimap3.py PATH/TO/ui-replay
Exit 77 (skipped) when offlineimap3 is not installed.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading

OI_PATH = '/usr/share/offlineimap3'

A = 'Account sync Test'
FI = 'Folder INBOX [acc: Test]'
FS = 'Folder Sub [acc: Test]'
CI = 'Copy message from Remote:INBOX'
M = 'MainThread'

R = dict(repo='Remote', repo_type='IMAP', dst_repo='Local', dst_type='Maildir')
L = dict(repo='Local', repo_type='Maildir', dst_repo='Remote', dst_type='IMAP')


def ev(thread, type_, **fields):
    return (thread, 'ev', type_, fields)


def log(thread, level, text, cat=None):
    f = dict(level=level, text=text)
    if cat is not None:
        f['cat'] = cat
    return (thread, 'ev', 'log', f)


SCENARIO = [
    (M, 'banner', 'imaplib2 v3.05, Python v3.11.2, OpenSSL 3.0', {}),
    (M, 'debugging', 'DEBUGTYPES', {}),
    ev(A, 'thread_start', account='Test'),
    ev(A, 'account_start', account='Test'),
    ev(A, 'connecting', host='127.0.0.1', port=11843, repo='Remote'),
    ev(A, 'creating_folder', repo='Local', folder='Sub'),
    ev(A, 'new_status_db', repo='Local', folder='Sub'),
    ev(A, 'sync_folders', **R),
    ev(FI, 'thread_start', account='Test'),
    ev(FS, 'thread_start', account='Test'),
    ev(FI, 'syncing_folder', folder='INBOX', dst_folder='INBOX', **R),
    ev(FS, 'syncing_folder', folder='Sub', dst_folder='Sub', **R),
    ev(FI, 'load_msglist', folder='INBOX', **L),
    log(M, 'info', 'the main thread speaks in between'),
    ev(FS, 'load_msglist', folder='Sub', **L),
    ev(FI, 'msglist_loaded', folder='INBOX', count=3, **L),
    log(FI, 'debug', 'SELECT INBOX', cat='imap'),
    log(FS, 'debug', 'listing cur/ and new/', cat='maildir'),
    log(FS, 'debug', 'a sync message', cat='sync'),
    ev(FS, 'skipping_folder', folder='Sub'),
    ev(FI, 'syncing_messages', folder='INBOX', dst_folder='INBOX', **R),
    ev(CI, 'thread_start', account='Test'),
    ev(FI, 'copying_message', uid=7, num=1, total=2, folder='INBOX', dst_folder='INBOX', **R),
    ev(FI, 'copying_message', uid=-1, num=2, total=2, folder='INBOX', dst_folder='INBOX', **L),
    ev(FI, 'ignoring_message', uid=8, folder='INBOX', dst_folder='INBOX', **R),
    # Progress of a short copy: nothing, as offlineimap (which has none) prints.
    ev(FI, 'progress', account='Test', folder='INBOX', num=1, total=2, count=2048),
    ev(FI, 'progress', account='Test', folder='INBOX', num=2, total=2, count=4096),
    log(CI, 'warn', 'UID 7 has defects: [MissingHeaderBodySeparatorDefect()]'),
    log(CI, 'warn', ' ... applying multipart boundary fix.'),
    ev(M, 'thread_exit', text=CI),
    ev(FI, 'deleting_messages', uids='3:5,9', count=4, dst_type='IMAP', dst_folder='INBOX'),
    ev(FI, 'adding_flags', flags='S', uids='3', count=1, dst_type='IMAP', dst_folder='INBOX'),
    ev(FI, 'deleting_flags', flags='FT', uids='1:2', count=2, dst_type='Maildir',
       dst_folder='INBOX'),
    log(FI, 'error', "Aborting sync, folder 'INBOX' [acc: 'Test']\n  Server said: NO"),
    ev(FS, 'validity_problem', folder='Sub', repo='Local', saved=111, got=222),
    log(FS, 'warn', 'a warning with\nsecond line & 100% "quotes" \u00e9'),
    ev(FS, 'connecting', host='tunnel', text='ssh -q host /usr/lib/dovecot/imap',
       repo='Remote'),
    ev(M, 'thread_exit', text=FS),
    ev(M, 'thread_exit', text=FI),
    ev(A, 'calling_hook', text='echo out; echo err >&2'),
    ev(A, 'hook_output', text='Hook stdout: out\n\nHook stderr:err\n\n'),
    ev(A, 'hook_output', text='Hook return code: 0'),
    ev(A, 'account_done', account='Test', num=0),
    (A, 'display', 'Upgrading LocalStatus cache from version 1 to version 2 for Local:X', {}),
    ev(A, 'sleeping', num=10, count=125),
    ev(A, 'sleeping', num=10, count=115),
    ev(A, 'sleeping', num=10, count=5),
    ev(A, 'sleeping', num=0, count=0),
    ev(M, 'thread_exit', text=A),
    log(M, 'error', "The account 'Nope' does not exist"),
    (M, 'terminate', None, dict(status=0, title='', msg='Valid accounts are: Test')),
]

# name, debug types (offlineimap's -d list plus its implied ''), dry run, logfile, -s
VARIANTS = [
    ('ttyui', [], False, False, False),
    ('ttyui', ['imap', 'maildir', 'thread', ''], False, True, False),
    ('ttyui', [], True, True, True),
    ('basic', [], False, True, False),
    ('basic', ['thread', ''], False, False, True),
    ('quiet', [], False, True, False),
    ('quiet', ['maildir', ''], False, False, False),
    ('machineui', [], False, True, False),
    ('machineui', ['imap', 'thread', ''], True, True, True),
    ('syslog', [], False, True, True),
    ('syslog', ['imap', ''], True, False, False),
]

CAT_BITS = {'imap': 1, 'maildir': 2, 'thread': 4, '': 8}


def esc(s):
    return (str(s).replace('\\', '\\\\').replace('\n', '\\n').replace('\t', '\\t')
            .replace('\f', '\\f'))


def scenario_lines(debugtypes):
    out = []
    for thread, op, arg, fields in SCENARIO:
        if op == 'debugging':
            for t in debugtypes:
                out.append('debugging\t%s\t%s' % (esc(thread), esc(t)))
        elif op == 'banner':
            out.append('banner\t%s\t%s' % (esc(thread), esc(arg)))
        elif op == 'display':
            out.append('display\t%s\t%s' % (esc(thread), esc(arg)))
        elif op == 'terminate':
            out.append('terminate\t%s\t%d\t%s\t%s' % (esc(thread), fields['status'],
                                                     esc(fields['title']), esc(fields['msg'])))
        else:
            items = ['%s=%s' % (k, esc(v)) for k, v in fields.items()]
            out.append('\t'.join(['ev', esc(thread), arg] + items))
    return '\n'.join(out) + '\n'


# ---------------------------------------------------------------- the Python side

def run_python(variant, logfile, syslog_path):
    """Play the scenario through offlineimap3's UI class (in this process)."""
    import warnings
    warnings.simplefilter('ignore')
    sys.path.insert(0, OI_PATH)
    import logging
    import logging.handlers
    import queue
    import time

    orig_init = logging.handlers.SysLogHandler.__init__

    def syslog_init(self, address='/dev/log', *a, **k):
        orig_init(self, syslog_path, *a, **k)
    logging.handlers.SysLogHandler.__init__ = syslog_init
    time.sleep = lambda s: None

    from offlineimap.ui import UI_LIST

    name, debugtypes, dry, use_log, use_syslog = variant

    class Config:
        def getdefaultboolean(self, section, option, default):
            return dry if option == 'dry-run' else default

        def has_option(self, section, option):
            return False

    def repo(name, type_):
        cls = type(type_ + 'Repository', (), {'__str__': lambda self: self.name,
                                              'getname': lambda self: self.name})
        r = cls()
        r.name = name
        return r

    def folder(name, repo_obj, type_, saved=0, got=0):
        cls = type(type_ + 'Folder', (), {
            '__str__': lambda self: self.name,
            'getname': lambda self: self.name,
            'getvisiblename': lambda self: self.name,
            'getrepository': lambda self: self.repository,
            'get_saveduidvalidity': lambda self: saved,
            'get_uidvalidity': lambda self: got,
        })
        f = cls()
        f.name = name
        f.repository = repo_obj
        return f

    class Account:
        def __init__(self, name):
            self.name = name

        def __str__(self):
            return self.name

    accounts = {}

    def account(n):
        return accounts.setdefault(n, Account(n))

    sys.argv = ['offlineimap', '-u', name]
    ui = UI_LIST[name](Config())
    if use_log:
        ui.setlogfile(logfile)
    if use_syslog:
        ui.setup_sysloghandler()

    # One real thread per offlineimap thread name, each call run to completion in turn.
    workers = {}

    failures = []

    def worker_loop(q):
        while True:
            fn, done = q.get()
            try:
                fn()
            except BaseException as e:  # reported by run_in() in the main thread
                failures.append(e)
            finally:
                done.set()

    def run_in(thread, fn):
        if thread == M:
            fn()
            return
        if thread not in workers:
            q = queue.Queue()
            t = threading.Thread(target=worker_loop, args=(q,), name=thread, daemon=True)
            t.start()
            workers[thread] = (t, q)
        done = threading.Event()
        workers[thread][1].put((fn, done))
        done.wait()
        if failures:
            raise failures.pop()

    def call(thread, type_, f):
        src = f.get('repo_type', 'IMAP')
        dst = f.get('dst_type', 'Maildir')
        srepo = repo(f.get('repo', ''), src)
        drepo = repo(f.get('dst_repo', ''), dst)
        sfolder = folder(f.get('folder', ''), srepo, src, f.get('saved', 0), f.get('got', 0))
        dfolder = folder(f.get('dst_folder', ''), drepo, dst)
        uids = []
        for part in f.get('uids', '').split(','):
            if part:
                a, _, b = part.partition(':')
                uids.extend(range(int(a), int(b or a) + 1))
        if type_ == 'log':
            level = f['level']
            if level == 'info':
                ui.info(f['text'])
            elif level == 'warn':
                ui.warn(f['text'])
            elif level == 'error':
                ui.error(f['text'])
            else:
                ui.debug('' if f['cat'] == 'sync' else f['cat'], f['text'])
        elif type_ == 'thread_start':
            ui.registerthread(account(f['account']))
        elif type_ == 'thread_exit':
            ui.threadExited(workers[f['text']][0])
        elif type_ == 'account_start':
            ui.acct(account(f['account']))
        elif type_ == 'account_done':
            ui.acctdone(account(f['account']))
        elif type_ == 'connecting':
            ui.connecting(f['repo'], f['host'], f.get('text', f.get('port')))
        elif type_ == 'creating_folder':
            ui.makefolder(srepo, f['folder'])
        elif type_ == 'new_status_db':
            ui._msg('Creating new Local Status db for %s:%s' % (srepo, sfolder))
        elif type_ == 'sync_folders':
            ui.syncfolders(srepo, drepo)
        elif type_ == 'syncing_folder':
            ui.syncingfolder(srepo, sfolder, drepo, dfolder)
        elif type_ == 'skipping_folder':
            ui.skippingfolder(sfolder)
        elif type_ == 'load_msglist':
            ui.loadmessagelist(srepo, sfolder)
        elif type_ == 'msglist_loaded':
            ui.messagelistloaded(srepo, sfolder, f['count'])
        elif type_ == 'syncing_messages':
            ui.syncingmessages(srepo, sfolder, drepo, dfolder)
        elif type_ == 'copying_message':
            ui.copyingmessage(f['uid'], f['num'], f['total'], sfolder, dfolder)
        elif type_ == 'ignoring_message':
            ui.ignorecopyingmessage(f['uid'], sfolder, dfolder)
        elif type_ == 'progress':
            pass  # offlineimap has no progress display
        elif type_ == 'deleting_messages':
            ui.deletingmessages(uids, [dfolder])
        elif type_ == 'adding_flags':
            ui.addingflags(uids, list(f['flags']), dfolder)
        elif type_ == 'deleting_flags':
            ui.deletingflags(uids, list(f['flags']), dfolder)
        elif type_ == 'validity_problem':
            ui.validityproblem(sfolder)
        elif type_ == 'calling_hook':
            ui.callhook('Calling hook: ' + f['text'])
        elif type_ == 'hook_output':
            ui.callhook(f['text'])
        elif type_ == 'sleeping':
            ui.sleeping(f['num'], f['count'])
        else:
            raise ValueError(type_)

    errors = 0
    uidval = 0
    for thread, op, arg, fields in SCENARIO:
        if op == 'banner':
            ui.init_banner()
            ui.info(arg)
        elif op == 'debugging':
            if debugtypes:
                ui.logger.setLevel(logging.DEBUG)
            for t in debugtypes:
                ui.add_debug(t)
        elif op == 'display':
            run_in(thread, lambda: ui._msg(arg))
        elif op == 'terminate':
            status = fields['status']
            if name == 'machineui':
                # Documented deviation: our machineui reports (and exits with) the
                # status UIBase.terminate() would compute; Machine.py passes 0.
                status = status or (1 if errors else 2 if uidval else 0)
            try:
                ui.terminate(status, fields['title'], fields['msg'])
            except SystemExit as e:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(e.code or 0)
        else:
            errors += arg == 'log' and fields['level'] == 'error'
            uidval += arg == 'validity_problem'
            run_in(thread, lambda: call(thread, arg, fields))
    os._exit(0)


# ---------------------------------------------------------------- the harness

STAMP = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ', re.M)
PID = re.compile(rb'offlineimap\[\d+\]')


class Drain(threading.Thread):
    """Receive datagrams while the writer runs: a full queue would block it."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock = sock
        self.got = []
        self.stop = False

    def run(self):
        self.sock.settimeout(0.05)
        while True:
            try:
                self.got.append(PID.sub(b'offlineimap[PID]', self.sock.recv(65536)))
            except socket.timeout:
                if self.stop:
                    return

    def finish(self):
        self.stop = True
        self.join()
        return self.got


def run_variant(replay, variant, tmp, index):
    name, debugtypes, dry, use_log, use_syslog = variant
    sys.path.insert(0, OI_PATH)
    import platform
    import offlineimap
    results = []
    for side in ('python', 'c'):
        logfile = os.path.join(tmp, '%d-%s.log' % (index, side))
        sockpath = os.path.join(tmp, '%d-%s.sock' % (index, side))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sockpath)
        drain = Drain(sock)
        drain.start()
        if side == 'python':
            cmd = [sys.executable, os.path.abspath(__file__), '--child', str(index), logfile,
                   sockpath]
            stdin = ''
        else:
            mask = sum(CAT_BITS[t] for t in debugtypes)
            cmd = [replay, name, '--debug', str(mask), '--syslog-path', sockpath,
                   '--version', offlineimap.__version__,
                   '--python-version', platform.python_version(),
                   '--args', 'offlineimap -u ' + name]
            cmd += ['--dry-run'] if dry else []
            cmd += ['--logfile', logfile] if use_log else []
            cmd += ['--syslog'] if use_syslog else []
            stdin = scenario_lines(debugtypes)
        p = subprocess.run(cmd, input=stdin.encode(), capture_output=True, timeout=60)
        log = ''
        if os.path.exists(logfile):
            with open(logfile, encoding='utf-8') as f:
                log = STAMP.sub('TS ', f.read())
        results.append(dict(stdout=p.stdout.decode(), stderr=p.stderr.decode(), log=log,
                            syslog=drain.finish(), status=p.returncode))
        sock.close()
    return results


def main():
    if len(sys.argv) == 5 and sys.argv[1] == '--child':
        run_python(VARIANTS[int(sys.argv[2])], sys.argv[3], sys.argv[4])
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    if not os.path.isdir(os.path.join(OI_PATH, 'offlineimap', 'ui')):
        print('offlineimap3 is not installed in %s: skipped' % OI_PATH)
        return 77
    replay = os.path.abspath(sys.argv[1])
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, variant in enumerate(VARIANTS):
            py, c = run_variant(replay, variant, tmp, i)
            label = '%s debug=%s dry=%s log=%s -s=%s' % variant
            bad = [k for k in py if py[k] != c[k]]
            if py['stdout'] == '' and py['stderr'] == '' and not py['syslog']:
                bad.append('(offlineimap3 printed nothing)')
            print('%-70s %s' % (label, 'FAIL ' + ','.join(bad) if bad else 'ok'))
            for k in bad:
                if k in py:
                    print('--- offlineimap3 %s:\n%r\n--- ours:\n%r' % (k, py[k], c[k]))
            failed += bool(bad)
    print('%d variants, %d failed' % (len(VARIANTS), failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
