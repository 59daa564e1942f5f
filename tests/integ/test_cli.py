"""The command line, as offlineimap3's optparse-based one behaves (REFERENCE section 1):
help and version output, optparse's errors and exit status 2, the config file search
($XDG_CONFIG_HOME/offlineimap/config, else ~/.config/offlineimap/config, else
~/.offlineimaprc; ~ expansion in -c), -k overrides, the four console interfaces, -a, -l
and -d imap (which must never show the password).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import subprocess
from pathlib import Path

import pytest

from harness import maildir as md
from harness import runner

USAGE = 'Usage: offlineimap [options]\n'
HELP_OPTIONS = ['--version', '-h, --help', '-V', '--dry-run', '--info', '-1', '-P DIR',
                '-a account1[,account2[,...]]', '-c FILE', '-d type1[,type2[,...]]',
                '-l FILE', '-s', '-f folder1[,folder2[,...]]', '-k [section:]option=value',
                '-o', '-q', '-u', '--delete-folder=FOLDERNAME',
                '--migrate-fmd5-using-nametrans', '--mbnames-prune']
MACHINE_LINE = re.compile(r'^(msg|warn|error|debug|critical):([A-Za-z_]*):([^:\s]*):(\S*)$')


def run_raw(binary: Path, *args: str, home: Path, env: dict | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the binary with exactly these arguments (runner.run_oimap always adds -c).
    HOME is `home`; XDG_CONFIG_HOME is unset unless `env` sets it."""
    e = dict(os.environ)
    e.pop('XDG_CONFIG_HOME', None)
    e['HOME'] = str(home)
    e.setdefault('LC_ALL', 'C.UTF-8')
    e.update(env or {})
    r = subprocess.run([str(binary), *args], capture_output=True, text=True, errors='replace',
                       timeout=timeout * runner.timeout_scale(), env=e,
                       stdin=subprocess.DEVNULL)
    runner.check_sanitizers(r)
    return r


def output(r) -> str:
    return r.stdout + r.stderr


def version(binary: Path, home: Path) -> str:
    return run_raw(binary, '--version', home=home).stdout.strip()


def downloaded(s: runner.Setup, folder: str = 'INBOX') -> list[int]:
    return sorted(m.uid for m in md.read_folder(s.maildir, folder))


# ----------------------------------------------------------------------------- help, version


@pytest.mark.parametrize('flag', ['-h', '--help'])
def test_help(our_binary, tmp_path, flag):
    r = run_raw(our_binary, flag, home=tmp_path)
    assert r.returncode == 0, runner.describe(r)
    assert r.stdout.startswith(USAGE), r.stdout[:200]
    assert r.stderr == ''
    for opt in HELP_OPTIONS:
        assert re.search(rf'^\s+{re.escape(opt)}(\s|$)', r.stdout, re.M), \
            f'{opt!r} is not listed in the help:\n{r.stdout}'


def test_version(our_binary, tmp_path):
    r = run_raw(our_binary, '--version', home=tmp_path)
    assert r.returncode == 0 and r.stderr == '', runner.describe(r)
    assert re.fullmatch(r'\d+\.\d+\.\d+\n', r.stdout), \
        f'--version prints the bare version number (optparse): {r.stdout!r}'


def test_full_version(our_binary, tmp_path):
    r = run_raw(our_binary, '-V', home=tmp_path)
    assert r.returncode == 0 and r.stderr == '', runner.describe(r)
    v = version(our_binary, tmp_path)
    assert re.match(rf'offlineimap v{re.escape(v)}[ ,]', r.stdout), \
        f'-V starts with "offlineimap v<version>": {r.stdout!r}'
    assert r.stdout.count('\n') == 1 and 'OpenSSL' in r.stdout, r.stdout


@pytest.mark.parametrize('args, what', [
    (['--vers'], 'version'),
    (['--he'], 'help'),
])
def test_long_option_prefixes(our_binary, tmp_path, args, what):
    """optparse accepts any unambiguous prefix of a long option."""
    r = run_raw(our_binary, *args, home=tmp_path)
    assert r.returncode == 0, runner.describe(r)
    if what == 'version':
        assert r.stdout == version(our_binary, tmp_path) + '\n'
    else:
        assert r.stdout.startswith(USAGE)


@pytest.mark.parametrize('args, message', [
    (['--bogus'], 'no such option: --bogus'),
    (['-Z'], 'no such option: -Z'),
    (['-c'], '-c option requires 1 argument'),
    (['-o', '-u'], '-u option requires 1 argument'),
    (['--delete-folder'], '--delete-folder option requires 1 argument'),
    (['--dry-run=x'], '--dry-run option does not take a value'),
    (['--m'], 'ambiguous option: --m (--mbnames-prune, --migrate-fmd5-using-nametrans?)'),
])
def test_bad_option(our_binary, tmp_path, args, message):
    r = run_raw(our_binary, *args, home=tmp_path)
    assert r.returncode == 2, runner.describe(r)
    assert r.stdout == ''
    assert r.stderr == f'{USAGE}\nofflineimap: error: {message}\n', \
        f'optparse says exactly:\n{USAGE}\nofflineimap: error: {message}\n' \
        f'got:\n{r.stderr}'


# ----------------------------------------------------------------------------- config file


def test_missing_config_file(our_binary, tmp_path):
    path = tmp_path / 'no' / 'such.rc'
    r = run_raw(our_binary, '-c', str(path), '-o', home=tmp_path)
    assert r.returncode == 1, runner.describe(r)
    assert f"Config file '{path}' does not exist; aborting!" in r.stderr, runner.describe(r)
    assert r.stdout == ''


def test_missing_default_config_file(our_binary, tmp_path):
    r = run_raw(our_binary, '-o', home=tmp_path)
    assert r.returncode == 1, runner.describe(r)
    assert f"Config file '{tmp_path}/.offlineimaprc' does not exist; aborting!" in r.stderr, \
        runner.describe(r)


def test_config_path_with_tilde(oimap, dovecot, mailgen, our_binary):
    uid = dovecot.append('INBOX', mailgen.plain())
    oimap.write_config()
    home = oimap.workdir
    r = run_raw(our_binary, '-c', '~/offlineimaprc', '-o', '-u', 'basic', home=home)
    assert r.returncode == 0, runner.describe(r)
    assert downloaded(oimap) == [uid]
    r = run_raw(our_binary, '-c', '~/other.rc', '-o', home=home)
    assert r.returncode == 1
    assert f"Config file '{home}/other.rc' does not exist; aborting!" in r.stderr, \
        runner.describe(r)


def test_default_config_search(dovecot, mailgen, tmp_path, our_binary):
    dovecot.append('INBOX', mailgen.plain())
    home, xdg = tmp_path / 'home', tmp_path / 'xdg'
    places = {'Xdg': xdg / 'offlineimap' / 'config',
              'Dot': home / '.config' / 'offlineimap' / 'config',
              'Rc': home / '.offlineimaprc'}
    for acct, path in places.items():
        runner.write_config(path, localfolders=home / f'Mail-{acct}',
                            metadata=home / f'meta-{acct}', account=acct, host=dovecot.host,
                            port=dovecot.port, user='test', password=dovecot.password())

    def which(env) -> str:
        r = run_raw(our_binary, '-o', '-u', 'basic', home=home, env=env)
        assert r.returncode == 0, runner.describe(r)
        got = re.findall(r'\*\*\* Processing account (\w+)', r.stdout)
        assert len(got) == 1, runner.describe(r)
        return got[0]

    assert which({'XDG_CONFIG_HOME': str(xdg)}) == 'Xdg', \
        '$XDG_CONFIG_HOME/offlineimap/config comes first'
    assert which({}) == 'Dot', 'without $XDG_CONFIG_HOME: ~/.config/offlineimap/config'
    assert which({'XDG_CONFIG_HOME': ''}) == 'Dot', 'an empty $XDG_CONFIG_HOME counts as unset'
    places['Xdg'].unlink()
    assert which({'XDG_CONFIG_HOME': str(xdg)}) == 'Rc', \
        'with $XDG_CONFIG_HOME set but no config there, offlineimap falls back to ' \
        '~/.offlineimaprc (not to ~/.config)'
    places['Dot'].unlink()
    assert which({}) == 'Rc'
    assert md.list_folders(home / 'Mail-Xdg') == ['INBOX']


@pytest.mark.dovecot(users={'test': 'pa=ss word'})
def test_k_overrides(oimap, dovecot, mailgen):
    uid = dovecot.append('INBOX', mailgen.plain())
    oimap.write_config(general={'accounts': 'Missing'},
                       remote_opts={'remotepass': 'wrong'})
    r = oimap.sync(ok=False)
    assert r.returncode == 1, runner.describe(r)
    assert not oimap.maildir.exists() or downloaded(oimap) == []
    # section with '_' for ' '; no section means [general]; the value may contain '='
    r = oimap.sync('-k', 'Repository_Test-Remote:remotepass=pa=ss word', '-k', 'accounts=Test',
                   ok=False)
    assert r.returncode == 0, runner.describe(r)
    assert downloaded(oimap) == [uid]
    assert 'pa=ss word' not in output(r)


# ----------------------------------------------------------------------------- interfaces


@pytest.mark.parametrize('ui', ['ttyui', 'basic', 'quiet', 'machineui'])
def test_user_interfaces(oimap, dovecot, mailgen, ui):
    uid = dovecot.append('INBOX', mailgen.plain())
    r = oimap.run('-o', '-u', ui)
    assert r.returncode == 0, runner.describe(r)
    assert downloaded(oimap) == [uid], 'the run must have synced'
    copy = 'Copy message UID 1 (1/1) Test-Remote:INBOX -> Test-Local:INBOX'
    if ui == 'ttyui':
        assert r.stdout == '', f'ttyui writes to stderr only:\n{runner.describe(r)}'
        assert f' {copy}\n' in r.stderr, runner.describe(r)
        assert 'Account sync Test:\n *** Processing account Test\n' in r.stderr, \
            f'ttyui prefixes lines with a space and names the thread:\n{r.stderr}'
    elif ui == 'basic':
        assert r.stderr == '', f'basic writes to stdout only:\n{runner.describe(r)}'
        assert f'\n{copy}\n' in r.stdout and '\n*** Processing account Test\n' in r.stdout, \
            runner.describe(r)
    elif ui == 'quiet':
        assert r.stdout == '' and r.stderr == '', \
            f'quiet prints nothing on a clean run:\n{runner.describe(r)}'
    else:
        assert r.stderr == '', runner.describe(r)
        lines = r.stdout.splitlines()
        assert lines[0].startswith('OfflineIMAP ') and lines[1].startswith('  Licensed'), \
            'the banner comes first, not encoded'
        cmds = []
        for ln in lines[2:]:
            m = MACHINE_LINE.match(ln)
            assert m, f'not a machineui line: {ln!r}\n{r.stdout}'
            cmds.append((m.group(2), m.group(3), m.group(4)))
        names = [c for c, _t, _p in cmds]
        assert cmds[0] == ('protocol', 'MainThread', '7.2.0'), cmds[0]
        for need in ('initbanner', 'acct', 'connecting', 'syncfolders', 'syncingfolder',
                     'copyingmessage', 'acctdone'):
            assert need in names, f'no {need!r} line:\n{r.stdout}'
        assert ('copyingmessage', 'Folder+INBOX+%5Bacc%3A+Test%5D',
                '1%0AIMAP%0AINBOX%0AMaildir%5BINBOX%5D') in cmds, r.stdout
        assert cmds[-1] == ('terminate', 'MainThread', '0%0A%0A'), cmds[-1]


def test_unknown_account(oimap, dovecot, mailgen):
    dovecot.append('INBOX', mailgen.plain())
    for accts in ('Nope', 'Test,Nope'):
        r = oimap.sync('-a', accts, ok=False)
        assert r.returncode == 1, runner.describe(r)
        assert "The account 'Nope' does not exist" in output(r), runner.describe(r)
        assert not oimap.maildir.exists() or downloaded(oimap) == [], \
            'nothing is synced when an account given with -a does not exist'


def test_logfile(oimap, dovecot, mailgen):
    dovecot.append('INBOX', mailgen.plain())
    log = oimap.workdir / 'sub' / 'run.log'
    log.parent.mkdir()
    stamp = r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d'
    r = oimap.sync('-l', str(log))
    text = log.read_text()
    v = version(oimap.binary, oimap.workdir)
    assert re.match(rf'{stamp} INFO: OfflineImap {re.escape(v)} starting\.\.\.\n', text), text
    assert re.search(rf'^{stamp} INFO: Copy message UID 1 \(1/1\) '
                     rf'Test-Remote:INBOX -> Test-Local:INBOX$', text, re.M), text
    assert re.search(rf"^{stamp} INFO: \*\*\* Finished account 'Test' in \d+:\d\d$", text, re.M)
    dovecot.append('INBOX', mailgen.plain())
    r = oimap.run('-o', '-u', 'ttyui', '-l', str(log))
    text = log.read_text()
    assert len(re.findall(rf'^{stamp} INFO: OfflineImap .* starting\.\.\.$', text, re.M)) == 2, \
        f'-l appends; every run starts with its banner:\n{text}'
    assert re.search(rf'^{stamp} INFO: Copy message UID 2 ', text, re.M), \
        f'the ttyui run is logged to the file too:\n{text}'
    assert not re.search(r'^ ', text.split('starting...')[-1].split('\n', 3)[-1], re.M), \
        'the log file has no ttyui formatting (leading space, thread lines)'


# ----------------------------------------------------------------------------- -d imap


def _b64_tokens(text: str):
    for tok in re.findall(r'[A-Za-z0-9+/]{8,}={0,2}', text):
        try:
            yield base64.b64decode(tok + '=' * (-len(tok) % 4))
        except (binascii.Error, ValueError):
            continue


@pytest.mark.dovecot(users={'test': 'Sekr1t "pw" \\x'})
@pytest.mark.parametrize('mech', ['LOGIN', 'PLAIN', 'CRAM-MD5'])
def test_debug_imap_never_shows_the_password(oimap, dovecot, mailgen, mech):
    dovecot.append('INBOX', mailgen.plain())
    pw = dovecot.password()
    log = oimap.workdir / 'debug.log'
    oimap.write_config(remote_opts={'auth_mechanisms': mech})
    r = oimap.run('-o', '-u', 'basic', '-d', 'imap', '-l', str(log))
    assert r.returncode == 0, runner.describe(r)
    text = output(r) + log.read_text()
    assert '[imap]' in text and re.search(r'\bSELECT\b', text) and 'FETCH' in text, \
        f'-d imap must show the IMAP conversation:\n{runner.describe(r)}'
    for form in (pw, pw.replace('\\', '\\\\').replace('"', '\\"'), 'Sekr1t'):
        assert form not in text, f'the password ({form!r}) appears in the -d imap output'
    for dec in _b64_tokens(text):
        assert b'Sekr1t' not in dec, 'the password appears base64-encoded in the output'
