"""The annotated sample configurations at the top of the repository.

offlineimap.conf documents every option the configuration model knows (the lists in
src/config/config_model_check.c), in the section order of offlineimap3's own sample;
offlineimap.conf.minimal is the quick start.  Both must pass --check-config as shipped,
and offlineimap.conf also with its examples uncommented: an example line is '#' directly
followed by an option name ('#maxage = 3'), its continuation lines '#' and an indent.
Where a section shows several examples of one option (alternatives), variant k takes
the k-th (or the last); options that exclude each other are taken in turns.
(The unit test config_ini_vs_python reads both files with Python's configparser too.)
"""
import configparser
import os
import re
from pathlib import Path

import pytest

from harness import runner

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / 'offlineimap.conf'
MINIMAL = ROOT / 'offlineimap.conf.minimal'
UPSTREAM = Path('/usr/share/doc/offlineimap3/examples/offlineimap.conf')

SET_LINE = re.compile(r'([a-z][a-z0-9_-]*) ?[=:]')
EXAMPLE_LINE = re.compile(r'#([a-z][a-z0-9_-]*) ?[=:]')
SECTION_LINE = re.compile(r'\[([^\]]+)\]\s*$')
CONTINUATION = re.compile(r'#\s{2,}\S')

# Options whose examples must not all be uncommented at once, taken in turns by the
# variants: status_backend is an error by design (offlineimap3 refuses it too).
LEFT_OUT = [
    {'status_backend', 'startdate', 'transporttunnel'},
    {'status_backend', 'maxage', 'preauthtunnel'},
]
VARIANTS = 4  # the most examples one option has in one section (folderfilter)

PYTHONFILE = '''\
import os


def getcredentials(filename, host, what):
    return 993 if what == 'port' else host if what == 'hostname' else 'user'


def _called(*args):
    # Password and token helpers: --check-config must never call them.
    open(os.path.expanduser('~/password-helper-called'), 'a').close()
    return 'secret'


get_password = get_client_id = get_client_secret = _called
get_access_token = get_refresh_token = _called


def get_username(host):
    return 'user'


def mbnames_folderfilter(accountname, foldername):
    return True
'''


def known_options():
    src = (ROOT / 'src/config/config_model_check.c').read_text()
    lists = re.sub(r'/\*.*?\*/', '', src.split('enum kind')[0], flags=re.S)
    return set(re.findall(r'"([a-z0-9_-]+)"', lists))


def sections(text):
    """[(section, [lines])] in file order; lines before the first section under ''."""
    out = [('', [])]
    for line in text.splitlines():
        m = SECTION_LINE.match(line)
        if m:
            out.append((m.group(1), []))
        out[-1][1].append(line)
    return out


def documented(text):
    """{section: set of option names set or shown as an example there}."""
    names = {}
    for name, lines in sections(text):
        got = names.setdefault(name, set())
        for line in lines:
            m = SET_LINE.match(line) or EXAMPLE_LINE.match(line)
            if m:
                got.add(m.group(1))
    return names


def uncommented(text, variant):
    """The sample with, in each section, one example of each option not set there."""
    left_out = LEFT_OUT[variant % len(LEFT_OUT)]
    out = []
    for _, lines in sections(text):
        is_set = {m.group(1) for m in map(SET_LINE.match, lines) if m}
        examples = {}
        for i, line in enumerate(lines):
            m = EXAMPLE_LINE.match(line)
            if m:
                examples.setdefault(m.group(1), []).append(i)
        chosen = set()
        for name, where in examples.items():
            if name not in is_set and name not in left_out:
                chosen.add(where[min(variant, len(where) - 1)])
        i = 0
        while i < len(lines):
            line = lines[i]
            if i in chosen:
                out.append(line[1:])
                while i + 1 < len(lines) and CONTINUATION.match(lines[i + 1]):
                    i += 1
                    out.append(lines[i][1:])
            else:
                out.append(line)
            i += 1
    return '\n'.join(out) + '\n'


@pytest.fixture
def home(tmp_path):
    """A HOME with the files the examples name: the pythonfile, certificates, password file."""
    h = tmp_path / 'home'
    (h / '.certs').mkdir(parents=True)
    (h / '.offlineimap.py').write_text(PYTHONFILE)
    for name in ('imap-client.crt', 'imap-client.key', 'imap-ca.pem'):
        (h / '.certs' / name).write_text('not read by --check-config\n')
    (h / 'Password.IMAP.Account1').write_text('secret\n')
    # The programs the hook and tunnel examples run, not all installed here.
    (h / 'bin').mkdir()
    for name in ('imapfilter', 'notifysync.sh', 'ssh', 'openssl'):
        (h / 'bin' / name).write_text('#!/bin/sh\nexit 0\n')
        (h / 'bin' / name).chmod(0o755)
    return h


def check(home, config):
    binary = runner.our_binary()
    if not binary.exists():
        pytest.skip(f'{binary} is not built')
    env = dict(os.environ, PATH=f'{home}/bin:/usr/local/bin:/usr/bin:/bin')
    return runner.run_oimap(binary, config, '--check-config', home=home, timeout=60, env=env)


def test_every_known_option_is_documented():
    text = SAMPLE.read_text()
    names = set().union(*documented(text).values())
    known = known_options()
    assert known - names == set(), 'options the model knows but offlineimap.conf does not show'
    custom = {n for n in names if re.fullmatch(r'customflag_[a-z]', n)}
    assert custom, 'customflag_[a-z] is not shown'
    assert names - custom - known == set(), 'options in offlineimap.conf the model does not know'


def test_every_option_states_what_we_do_not_do():
    """Options the program reads but does not act on say so where they are shown."""
    text = SAMPLE.read_text()
    for name in ('synclabels', 'labelsheader', 'ignorelabels', 'decodefoldernames'):
        block = re.search(r'\n\n((?:#[^\n]*\n)*?)#%s = ' % re.escape(name), text)
        assert block, name
        assert 'NOT IMPLEMENTED' in block.group(1).split('\n\n')[-1], name


@pytest.mark.skipif(not UPSTREAM.exists(), reason='offlineimap3 is not installed')
def test_follows_offlineimap3_sample():
    """Same sections in the same order, and every option offlineimap3's sample shows."""
    ours, theirs = SAMPLE.read_text(), UPSTREAM.read_text()
    assert [s for s, _ in sections(ours)] == [s for s, _ in sections(theirs)]
    mine = documented(ours)
    for section, names in documented(theirs).items():
        assert names - mine[section] == set(), section


@pytest.mark.parametrize('sample', [SAMPLE, MINIMAL], ids=['conf', 'minimal'])
def test_sample_as_shipped_is_clean(home, sample):
    r = check(home, sample)
    assert r.returncode == 0, runner.describe(r)
    assert r.stdout == 'Configuration OK.\n'
    assert r.stderr == ''


@pytest.mark.parametrize('variant', range(VARIANTS))
def test_sample_with_examples_uncommented_is_clean(home, tmp_path, variant):
    text = uncommented(SAMPLE.read_text(), variant)
    # What offlineimap3 would read: Python's parser takes it (no duplicate options).
    parser = configparser.ConfigParser()
    parser.read_string(text)
    assert parser.get('Repository RemoteExample', 'remotepass', raw=True) == 'myp%%ssword'
    config = tmp_path / 'offlineimaprc'
    config.write_text(text)
    lines = text.splitlines()
    assert sum(1 for x in lines if EXAMPLE_LINE.match(x)) < 20  # most examples are in
    r = check(home, config)
    assert r.returncode == 0, runner.describe(r)
    assert r.stdout == 'Configuration OK.\n'
    # Only the notes on Gmail's trashfolder/spamfolder (offlineimap3 never uses them).
    notes = r.stderr.splitlines()
    assert len(notes) == 2, r.stderr
    where = {m.group(1): n for n, m in enumerate(map(SET_LINE.match, lines), 1) if m}
    for note, name in zip(notes, ('trashfolder', 'spamfolder')):
        assert note == (f'{config} line {where[name]}: [Repository '
                        f'GmailExample] {name}: has no effect; offlineimap reads it but never '
                        'uses it.')
    assert not (home / 'password-helper-called').exists()


def test_uncommenting_takes_each_alternative():
    """Across the variants every example line of offlineimap.conf is used once."""
    text = SAMPLE.read_text()
    examples = {(s, l) for s, lines in sections(text) for l in lines if EXAMPLE_LINE.match(l)}
    used = set()
    for variant in range(VARIANTS):
        for s, lines in sections(uncommented(text, variant)):
            used |= {(s, '#' + l) for l in lines if SET_LINE.match(l)}
    missing = {l for s, l in examples - used if not l.startswith('#status_backend')}
    assert missing == set()
