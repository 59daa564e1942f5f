# The pythonfile of the corpus: what people keep in ~/.offlineimap.py.
import os
import re
import subprocess

MAPPING = {
    'INBOX': 'INBOX',
    '[Gmail]/Sent Mail': 'sent',
    '[Gmail]/Drafts': 'drafts',
    '[Gmail]/Starred': 'flagged',
    '[Gmail]/All Mail': 'archive',
}
REVERSE = {v: k for k, v in MAPPING.items()}


def get_pass(account):
    # Real ones run pass, gpg or a keyring; checking a configuration must not call this.
    open(os.path.expanduser('~/password-helper-called'), 'a').close()
    return subprocess.check_output(['pass', 'show', 'mail/' + account]).strip().decode()


def get_user(account):
    return {'work': 'alice@example.com', 'home': 'alice@example.org'}.get(account, account)


def get_token(kind):
    open(os.path.expanduser('~/password-helper-called'), 'a').close()
    return os.environ.get('OFFLINEIMAP_TEST_TOKEN_' + kind.upper(), 'token')


def local_nametrans(folder):
    return REVERSE.get(folder, folder)


def remote_nametrans(folder):
    return MAPPING.get(folder, re.sub(r'^INBOX\.', '', folder))


def mycmp(x, y):
    for prefix in ('INBOX', 'Sent', 'Drafts'):
        if x.startswith(prefix) != y.startswith(prefix):
            return -1 if x.startswith(prefix) else 1
    return (x > y) - (x < y)


def is_wanted(folder):
    return not folder.startswith('Junk')


def new_mail():
    subprocess.call(['true'])


def ignored_uids(folder):
    return [1, 2] if folder == 'INBOX' else None
