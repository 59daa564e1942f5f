"""The Python-expression options, evaluated by the embedded CPython, against Dovecot.

nametrans both ways (with the loop check), folderfilter (in [...], not, re.search),
folderincludes, foldersort from a pythonfile (cmp and key style), the *eval
credentials with a get_password() from a pythonfile, copy_ignore_eval and
newmail_hook; errors name the option and the config line and carry the traceback.
"""
import re
import textwrap

from harness import maildir as md

FOLDERS = ['INBOX', 'Work', 'Work.Projects', 'Lists.dev', 'Trash']


def seed(dovecot, mailgen):
    for f in FOLDERS[1:]:
        dovecot.create(f)
    for f in FOLDERS:
        dovecot.append(f, mailgen.plain())


def synced(r):
    return re.findall(r'^Syncing (.*): IMAP -> Maildir$', r.stdout, re.M)


def pythonfile(oimap, text):
    p = oimap.workdir / 'helpers.py'
    p.write_text(textwrap.dedent(text))
    return str(p)


def test_folderfilter_forms(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    oimap.write_config(remote_opts={
        'folderfilter': "lambda f: f in ['INBOX', 'Work', 'Lists.dev'] and not "
                        "re.search('^Lists', f)"})
    r = oimap.sync()
    assert sorted(synced(r)) == ['INBOX', 'Work']
    assert sorted(oimap.local()) == ['INBOX', 'Work']


def test_nametrans_both_ways_and_new_folders(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    oimap.write_config(
        remote_opts={'nametrans': "lambda f: {'INBOX': 'inbox'}.get(f, 'srv-' + f)"},
        local_opts={'nametrans': "lambda f: 'INBOX' if f == 'inbox' else re.sub('^srv-', '', f)"})
    oimap.sync()
    local = oimap.local()
    assert sorted(local) == ['inbox', 'srv-Lists.dev', 'srv-Trash', 'srv-Work',
                             'srv-Work.Projects']
    # FMD5 is the md5 of the local folder's translated name, as offlineimap computes it.
    assert all(m.fmd5 == md.folder_md5('INBOX') for m in local['inbox'])
    # A local folder is created on the server under its translated name.
    md.make_folder(oimap.maildir, 'srv-Archive')
    md.add_message(oimap.maildir / 'srv-Archive', mailgen.plain())
    oimap.sync()
    assert 'Archive' in dovecot.list_folders()
    assert len(dovecot.messages('Archive')) == 1
    r = oimap.sync()
    assert 'Creating folder' not in r.stdout and 'Copy message' not in r.stdout


def test_nametrans_loop_is_detected(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    oimap.write_config(remote_opts={'nametrans': "lambda f: 'x-' + f"})
    oimap.sync()
    md.make_folder(oimap.maildir, 'Fresh')
    r = oimap.sync(ok=False)
    assert r.returncode == 1
    assert 'INFINITE FOLDER CREATION DETECTED!' in r.stdout + r.stderr
    assert 'Fresh' not in dovecot.list_folders()


def test_pythonfile_credentials_and_sort(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    pf = pythonfile(oimap, f'''
        import subprocess
        def get_password(account):
            out = subprocess.check_output(['printf', '%s', {dovecot.password()!r}])
            return out            # bytes, as from a password manager
        def get_user():
            return {dovecot.default_user!r}
        prioritized = ['Trash', 'Work']
        def cmp(x, y):
            return (x > y) - (x < y)
        def mycmp(x, y):
            for prefix in prioritized:
                if x.startswith(prefix):
                    return -1
                elif y.startswith(prefix):
                    return +1
            return cmp(x, y)
    ''')
    oimap.write_config(general={'pythonfile': pf},
                       remote_opts={'remotepass': None, 'remoteuser': None,
                                    'remotepasseval': 'get_password("Test")',
                                    'remoteusereval': 'get_user()',
                                    'remotehosteval': repr(dovecot.host),
                                    'remoteporteval': str(dovecot.port),
                                    'foldersort': 'mycmp'})
    r = oimap.sync()
    order = synced(r)
    # The manual's mycmp puts prioritized prefixes first (it cannot order two names
    # with the same prefix consistently, so only the groups are checked).
    assert order[0] == 'Trash' and set(order[1:3]) == {'Work', 'Work.Projects'}
    assert order[3:] == ['INBOX', 'Lists.dev']
    oimap.assert_in_sync()
    # A key-style foldersort works too.
    oimap.write_config(general={'pythonfile': pf},
                       remote_opts={'foldersort': 'lambda name: name[::-1]'})
    r = oimap.sync()
    assert synced(r) == sorted(FOLDERS, key=lambda n: n[::-1])


def test_copy_ignore_and_newmail_hook(dovecot, oimap, mailgen):
    for _ in range(3):
        dovecot.append('INBOX', mailgen.plain())
    marker = oimap.workdir / 'newmail'
    pf = pythonfile(oimap, f'''
        import os
        def notify():
            with open({str(marker)!r}, 'a') as f:
                f.write('new mail\\n')
    ''')
    oimap.write_config(general={'pythonfile': pf},
                       remote_opts={'copy_ignore_eval': "lambda f: [2] if f == 'INBOX' else None",
                                    'newmail_hook': 'lambda: notify()'})
    oimap.sync()
    assert sorted(m.uid for m in oimap.local()['INBOX']) == [1, 3]
    assert marker.read_text() == 'new mail\n'
    r = oimap.sync()
    assert 'Copy message' not in r.stdout, 'an ignored UID stays ignored'
    assert marker.read_text() == 'new mail\n', 'no new mail, no hook'
    dovecot.append('INBOX', mailgen.plain(), flags=('\\Seen',))
    oimap.sync()
    assert marker.read_text() == 'new mail\n', 'only unseen mail calls the hook'


def test_folderincludes(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    oimap.write_config(remote_opts={'folderfilter': "lambda f: f == 'INBOX'",
                                    'folderincludes': "['Trash']"})
    r = oimap.sync()
    assert sorted(synced(r)) == ['INBOX', 'Trash']


def test_python_error_names_option_line_and_traceback(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    oimap.write_config(remote_opts={'nametrans': 'lambda f: undefined_name + f'})
    r = oimap.sync(ok=False)
    out = r.stdout + r.stderr
    assert r.returncode == 1
    assert 'nametrans' in out and 'NameError' in out and 'Traceback' in out
    assert re.search(r'line \d+', out), out
