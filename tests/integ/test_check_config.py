"""--check-config over a corpus of real-world configuration files (tests/configs).

Good files (Gmail with a password helper, mutt mbnames, notmuch hooks, [DEFAULT]
interpolation, OAuth2, tunnels, every Python-expression option, every option of
offlineimap.conf) must give "Configuration OK." and no warning; broken ones must give
exactly one problem per mistake, each naming the file and the line, and all at once.
The check runs no password helper and opens no connection.
"""
import os
import re
import shutil
import socket
from pathlib import Path

import pytest

from harness import runner

CONFIGS = Path(__file__).resolve().parent.parent / 'configs'
GOOD = sorted((CONFIGS / 'good').glob('*.rc'))
BAD_DIR = CONFIGS / 'bad'


@pytest.fixture
def home(tmp_path):
    """A HOME with the corpus' pythonfiles and the files good configurations point to."""
    h = tmp_path / 'home'
    h.mkdir()
    shutil.copy(CONFIGS / 'offlineimap.py', h / '.offlineimap.py')
    shutil.copy(CONFIGS / 'broken_pythonfile.py', h / 'broken_pythonfile.py')
    (h / '.certs').mkdir()
    (h / '.certs' / 'client.crt').write_text('not read by --check-config\n')
    (h / '.certs' / 'client.key').write_text('not read by --check-config\n')
    (h / '.config' / 'mail').mkdir(parents=True)
    (h / '.config' / 'mail' / 'work.pass').write_text('secret\n')
    # The programs hooks and tunnels name, found in ~/bin (first on $PATH) or by path.
    make_programs(h)
    # Maildir folders whose names the nametrans round trip is checked on.
    for root, names in (('names', ['INBOX', 'Sent', 'Archive.2020']),
                        ('gmail', ['INBOX', 'Sent Mail', 'Trash']),
                        ('lower', ['INBOX', 'Sent', 'Archive.2020']),
                        ('raise', ['INBOX', 'Archive'])):
        for name in names:
            for sub in ('cur', 'new', 'tmp'):
                (h / 'Mail' / root / name / sub).mkdir(parents=True)
    return h


def make_programs(h):
    """~/bin with the programs the corpus' hooks and tunnels run, not all installed here."""
    (h / 'bin').mkdir()
    for name in ('notmuch', 'imapfilter', 'notifysync.sh', 'ssh', 'openssl'):
        (h / 'bin' / name).write_text('#!/bin/sh\nexit 0\n')
        (h / 'bin' / name).chmod(0o755)
    (h / 'bin' / 'not-executable').write_text('#!/bin/sh\nexit 0\n')
    (h / 'Maildir' / 'bin').mkdir(parents=True)
    (h / 'Maildir' / 'bin' / 'presync.sh').write_text('#!/bin/sh\nexit 0\n')
    (h / 'Maildir' / 'bin' / 'presync.sh').chmod(0o755)


def env_for(home):
    """The environment of a check: ~/bin first on $PATH, then the system's."""
    return dict(os.environ, PATH=f'{home}/bin:/usr/local/bin:/usr/bin:/bin')


def check(home, config, *args):
    binary = runner.our_binary()
    if not binary.exists():
        pytest.skip(f'{binary} is not built')
    return runner.run_oimap(binary, config, '--check-config', *args, home=home, timeout=60,
                            env=env_for(home))


def problems(stderr):
    """The problems as printed: a problem's continuation lines (tracebacks) joined to it."""
    out = []
    for line in stderr.splitlines():
        if line.startswith((' ', 'Traceback', 'KeyError')) and out:
            out[-1] += '\n' + line
        else:
            out.append(line)
    return out


@pytest.mark.parametrize('config', GOOD, ids=[p.stem for p in GOOD])
def test_good_configuration_is_clean(home, config):
    r = check(home, config)
    assert r.returncode == 0, runner.describe(r)
    assert r.stdout == 'Configuration OK.\n'
    bad = [p for p in problems(r.stderr) if p.startswith(('ERROR', 'WARNING'))]
    assert bad == []
    # No password or token helper ran.
    assert not (home / 'password-helper-called').exists()


def test_good_corpus_uses_every_option(home):
    """Each option our model knows appears in some good configuration."""
    src = (Path(__file__).resolve().parents[2] / 'src/config/config_model_check.c').read_text()
    lists = re.sub(r'/\*.*?\*/', '', src.split('enum kind')[0], flags=re.S)
    known = set(re.findall(r'"([a-z0-9_-]+)"', lists))
    used = set()
    for f in GOOD:
        for line in f.read_text().splitlines():
            m = re.match(r'([a-z0-9_-]+)\s*[=:]', line)
            if m:
                used.add(m.group(1))
    # status_backend is refused by offlineimap3 itself (bad/files-and-removed.rc).
    assert known - used - {'status_backend'} == set()
    assert any(re.match(r'customflag_[a-z]$', u) for u in used)


W = 'WARNING: '
E = 'ERROR: '
NOT_FATAL = '(no account synced by this run uses this repository, so this is not fatal).'
# For each broken file, every problem --check-config must print, in order (whole lines;
# '{f}' is the file's path as given, '{h}' the HOME).
BAD = {
    'typos.rc': [
        E + '{f} line 4: [general] maxsyncaccounts = two: not a whole number.',
        E + "{f} line 5: [general] ui: UI 'fancy' does not exist, choose one of: ttyui, "
        'basic, quiet, syslog, machineui, blinkenlights.',
        E + '{f} line 10: [Account Work] autorefresh = 5m: not a number.',
        W + '{f} line 11: [Account Work] remoteusr: unknown option, ignored (did you mean '
        'remoteuser? It belongs in a [Repository ...] section).',
        E + '{f} line 13: [Repository Local]: no localfolders; a Maildir repository needs the '
        'directory that holds its folders (localfolders = ~/Mail).',
        W + '{f} line 15: [Repository Local] localfolder: unknown option, ignored (did you '
        'mean localfolders?).',
        E + '{f} line 21: [Repository Remote] ssl = maybe: not a boolean (use yes or no).',
        E + '{f} line 22: [Repository Remote] remoteport = imaps: not a whole number.',
        E + '{f} line 23: [Repository Remote] maxconnections: 0 is too small (the least '
        'allowed is 1).',
        W + '{f} line 25: [Acount Home]: offlineimap does not use this section (did you mean '
        '[Account Home]? section names are case-sensitive).',
    ],
    'structure.rc': [
        E + "The account 'Home' does not exist ({f} line 3: there is no [Account Home] "
        'section). Valid accounts are: Work',
        E + '{f} line 5: [Account Work]: no remoterepository; name the [Repository ...] '
        'section of the IMAP server.',
        W + '{f} line 13: [Repository Remote] type: "Exchange" is not a repository type (use '
        'Maildir, GmailMaildir, IMAP or Gmail) ' + NOT_FATAL,
    ],
    'python.rc': [
        E + "{f} line 10: [mbnames] peritem: formatting the item for account 'Account', "
        "folder 'INBOX', raised ValueError: incomplete format",
        E + '{f} line 13: [mbnames] folderfilter: the function takes (folder), but '
        'offlineimap calls it with 2 arguments.',
        E + "{f} line 22: [Repository PyLocal] nametrans: the expression is not valid Python: "
        "'{{' was never closed (line 1 of the value, column 16)\n"
        "    lambda folder: {{'sent': 'Sent',\n"
        '                   ^',
        E + '{f} line 24: [Repository PyLocal] foldersort: the function takes (a, b, c), but '
        'offlineimap calls it with 1 or 2 arguments.',
        E + "{f} line 30: [Repository PyRemote] remotepasseval: it uses 'get_password', "
        'defined neither in the pythonfile nor by Python (NameError when it runs).',
        E + "{f} line 31: [Repository PyRemote] folderfilter: it uses 'FOLDERS', defined "
        'neither in the pythonfile nor by Python (NameError when it runs).',
        E + "{f} line 32: [Repository PyRemote] folderincludes: the expression gives "
        "'INBOX.Archive' (str), not a list of str.",
        E + "{f} line 33: [Repository PyRemote] remoteporteval: the expression gives "
        "'nine-nine-three' (str), not an int, a str of digits or a service name of "
        '/etc/services.',
        E + '{f} line 34: [Repository PyRemote] newmail_hook: the function takes (folder), '
        'but offlineimap calls it with 0 arguments.',
    ],
    'pythonfile-missing.rc': [
        E + '{f} line 4: [general] pythonfile: cannot read {h}/.offlineimap-missing.py: No '
        'such file or directory.',
    ],
    'pythonfile-raises.rc': [
        E + '{f} line 4: [general] pythonfile: running {h}/broken_pythonfile.py raised '
        "KeyError: 'home'\n"
        'Traceback (most recent call last):\n'
        '  File "{h}/broken_pythonfile.py", line 8, in <module>\n'
        "    DEFAULT = ACCOUNTS['home']\n"
        '              ~~~~~~~~^^^^^^^^\n'
        "KeyError: 'home'",
    ],
    'commands-and-names.rc': [
        E + "{f} line 10: [Account Hooks] presynchook: the command runs 'notmuhc', which is "
        'neither a shell builtin nor a program in $PATH; install it, or write its full path.',
        E + '{f} line 11: [Account Hooks] postsynchook: the command runs '
        '{h}/bin/missing-hook.sh, which does not exist; correct the path.',
        E + '{f} line 27: [Repository hooks-remote] preauthtunnel: the command runs '
        '{h}/bin/not-executable, which is not an executable file; make it one (chmod +x).',
        E + '{f} line 38: [Repository lower-remote] remoteporteval: 70000 is not a port number '
        '(1 to 65535).',
        E + "{f} line 39: [Repository lower-remote] nametrans: the local folder 'Archive.2020' "
        "of account Lower would be created on the server as 'Archive.2020' ([Repository "
        "lower-local] has no nametrans), and this nametrans turns that back into "
        "'archive.2020', not 'Archive.2020' (2 other local folders of the account have the "
        'same problem): offlineimap stops the account with "INFINITE FOLDER CREATION '
        'DETECTED!". Write the two nametrans so that each undoes the other, or keep the '
        'folder out with a folderfilter.',
        E + '{f} line 47: [Repository raise-remote] transporttunnel: the command runs {h}/Mail, '
        'which is a directory; name the program in it.',
        E + "{f} line 48: [Repository raise-remote] nametrans: the expression, called with "
        "'Archive', raised KeyError: 'Archive'\n"
        'Traceback (most recent call last):\n'
        '  File "{f} line 48: [Repository raise-remote] nametrans", line 1, in <lambda>\n'
        "    lambda f: {{'INBOX': 'INBOX'}}[f]\n"
        '              ~~~~~~~~~~~~~~~~~~^^^\n'
        "KeyError: 'Archive'",
    ],
    'duplicate.rc': [
        E + '{f} line 4: duplicate option "accounts" in [general] (it was already set on '
        'line 3).',
        E + '{f} line 9: duplicate section [Account A] (it was already opened on line 6).',
    ],
    'files-and-removed.rc': [
        E + "{f} line 8: [Account A] status_backend: the 'status_backend' configuration "
        'option is not supported anymore; please, remove this configuration option.',
        E + '{f} line 18: [Repository R] remotepassfile: the password file '
        '{h}/.config/mail/missing.pass cannot be read: No such file or directory.',
        E + '{f} line 19: [Repository R] sslcacertfile: the CA certificate file '
        '{h}/.certs/missing-ca.pem does not exist.',
        E + '{f} line 20: [Repository R] sslclientcert: the client certificate '
        '{h}/.certs/missing.crt cannot be read: No such file or directory.',
        E + '{f} line 21: [Repository R] sslclientkey: the client key {h}/.certs/missing.key '
        'cannot be read: No such file or directory.',
    ],
}


def test_bad_corpus_is_all_listed():
    assert sorted(BAD) == sorted(p.name for p in BAD_DIR.glob('*.rc'))


@pytest.mark.parametrize('name', sorted(BAD))
def test_bad_configuration_problems(home, name):
    config = BAD_DIR / name
    r = check(home, config)
    expected = [x.format(f=config, h=home) for x in BAD[name]]
    got = problems(r.stderr)
    assert got == expected
    errors = sum(1 for x in expected if x.startswith(E))
    assert r.returncode == 1
    assert r.stdout == f'{errors} error{"" if errors == 1 else "s"} in the configuration.\n'
    assert not (home / 'password-helper-called').exists()


def test_no_connection_and_no_helper(home, tmp_path):
    """--check-config connects to nothing, even with every expression evaluated."""
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(5)
    srv.settimeout(0)
    port = srv.getsockname()[1]
    config = tmp_path / 'rc'
    config.write_text((CONFIGS / 'good' / 'python-everything.rc').read_text().replace(
        'remotehosteval = "imap." + "example.com"', 'remotehosteval = "127.0.0.1"').replace(
        'remoteporteval = 900 + 93', f'remoteporteval = {port}'))
    r = check(home, config)
    assert r.returncode == 0, runner.describe(r)
    with pytest.raises(BlockingIOError):
        srv.accept()
    srv.close()
    assert not (home / 'password-helper-called').exists()


def test_accounts_option_narrows_the_check(home):
    """-a: only the named accounts are errors; the others' problems become warnings."""
    config = BAD_DIR / 'structure.rc'
    r = check(home, config, '-a', 'Work')
    got = problems(r.stderr)
    assert not any("'Home' does not exist" in p for p in got)
    assert any('[Account Work]: no remoterepository' in p for p in got)


def test_commands_of_accounts_not_synced_are_warnings(home):
    """-a: hooks of the accounts left out, and their folders' names, only warn."""
    config = BAD_DIR / 'commands-and-names.rc'
    r = check(home, config, '-a', 'Raise')
    got = problems(r.stderr)
    note = '(this run does not sync this account, so this is not fatal).'
    warnings = {p.split(' line ')[1].split(':')[0]: p for p in got if p.startswith(W)}
    assert sorted(warnings) == ['10', '11', '27', '38', '39']
    for line in ('10', '11', '39'):  # [Account Hooks], [Account Lower]'s folders
        assert warnings[line].endswith(note)
    for line in ('27', '38'):  # repositories only those accounts use
        assert warnings[line].endswith(NOT_FATAL)
    assert sum(1 for p in got if p.startswith(E)) == 2  # Raise's tunnel and nametrans
    assert r.returncode == 1


def test_override_is_checked(home):
    """-k values are checked like the file's, and may repair it."""
    config = CONFIGS / 'good' / 'notmuch-hooks.rc'
    r = check(home, config, '-k', 'Repository remote:folderfilter=lambda: True')
    assert r.returncode == 1
    assert ('[Repository remote] folderfilter: the function takes no arguments, but '
            'offlineimap calls it with 1 argument.') in r.stderr
    r = check(home, BAD_DIR / 'typos.rc', '-k', 'general:maxsyncaccounts=2')
    assert 'maxsyncaccounts' not in r.stderr


def test_sync_reports_the_same_config_errors(home):
    """Without --check-config the same file errors stop the run before any connection."""
    config = BAD_DIR / 'typos.rc'
    binary = runner.our_binary()
    r = runner.run_oimap(binary, config, '-o', home=home, timeout=60)
    assert r.returncode == 1
    assert 'ssl = maybe: not a boolean' in r.stderr
