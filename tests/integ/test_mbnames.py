"""[mbnames]: the mailbox list for mail readers, against Dovecot and offlineimap3.

The final file and the intermediate <metadata>/mbnames/<account>.json files are
byte for byte what offlineimap3 writes; every option (enabled, filename, header,
peritem, sep, footer, folderfilter, sort_keyfunc, incremental) has its effect;
accounts not synced in a run stay listed; --mbnames-prune; the file is replaced
atomically (a symbolic link is followed, the mode kept); a broken intermediate
file is reported and the others are still written.
"""
import json
import os
import stat

import pytest

from harness import runner

FOLDERS = ['INBOX', 'Archive', 'Archive.2020', 'Folder With Space', 'Sent']


def seed(dovecot, mailgen):
    for f in FOLDERS[1:]:
        dovecot.create(f)
    for f in FOLDERS:
        dovecot.append(f, mailgen.plain())


def mbnames_opts(path, **over):
    opts = {'enabled': 'yes', 'filename': str(path), 'header': '"mailboxes "',
            'peritem': '"+%(accountname)s/%(foldername)s"', 'sep': '" "', 'footer': '"\\n"'}
    opts.update(over)
    return opts


def second_account(setup, name='Two'):
    """Sections for a second account, on the same Dovecot user, with its own Maildir."""
    dc = setup.dovecot
    return {
        f'Account {name}': {'localrepository': f'{name}-Local',
                            'remoterepository': f'{name}-Remote'},
        f'Repository {name}-Local': {'type': 'Maildir',
                                     'localfolders': str(setup.workdir / f'Mail-{name}')},
        f'Repository {name}-Remote': {'type': 'IMAP', 'remotehost': dc.host,
                                      'remoteport': dc.port, 'remoteuser': setup.user,
                                      'remotepass': dc.password(setup.user), 'ssl': 'no',
                                      'starttls': 'no'},
    }


def test_same_files_as_offlineimap3(dovecot, oimap, oimap3, mailgen):
    seed(dovecot, mailgen)
    files = {}
    for setup in (oimap, oimap3):
        out = setup.workdir / 'mailboxes'
        setup.write_config(extra_sections={'mbnames': mbnames_opts(
            out, peritem='"+%(accountname)s/%(foldername)s" %(localfolders)s')})
        # -1: offlineimap3 records folders as their threads start; one thread, one order.
        setup.sync('-1')
        root = str(setup.maildir)
        files[setup] = (out.read_text().replace(root, 'ROOT'),
                        (setup.metadata / 'mbnames' / 'Test.json').read_text()
                        .replace(json.dumps(root)[1:-1], 'ROOT'))
    assert files[oimap] == files[oimap3]
    text = files[oimap][0]
    assert text.startswith('mailboxes "+Test/Archive" ROOT "+Test/Archive.2020" ROOT ')
    assert text.endswith('"+Test/Sent" ROOT\n')
    items = json.loads(files[oimap][1])
    assert {i['foldername'] for i in items} == set(FOLDERS)
    assert set(items[0]) == {'accountname', 'foldername', 'localfolders'}


def test_filter_sort_and_pythonfile(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    out = oimap.workdir / 'mailboxes'
    pf = oimap.workdir / 'helpers.py'
    pf.write_text('ORDER = {"INBOX": 0, "Sent": 1}\n'
                  'def mbkey(d):\n'
                  '    return (ORDER.get(d["foldername"], 9), d["foldername"].lower())\n'
                  'def header():\n'
                  '    return "# generated\\nmailboxes "\n')
    oimap.write_config(general={'pythonfile': str(pf)}, extra_sections={'mbnames': mbnames_opts(
        out, header='header()', sep='" \\\\\\n  "', footer='"\\n# end\\n"',
        peritem='=%(foldername)s',
        folderfilter="lambda acct, f: acct == 'Test' and not re.search('^Archive', f)",
        sort_keyfunc='mbkey')})
    oimap.sync()
    assert out.read_text() == ('# generated\nmailboxes =INBOX \\\n  =Sent \\\n'
                               '  =Folder With Space\n# end\n')
    # The intermediate file holds only what the filter kept.
    items = json.loads((oimap.metadata / 'mbnames' / 'Test.json').read_text())
    assert [i['foldername'] for i in items if i['foldername'].startswith('Archive')] == []


def test_disabled_writes_nothing(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    out = oimap.workdir / 'mailboxes'
    oimap.write_config(extra_sections={'mbnames': mbnames_opts(out, enabled='no')})
    oimap.sync()
    assert not out.exists()
    assert not (oimap.metadata / 'mbnames').exists()


def test_incremental_writes_after_each_account(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    out = oimap.workdir / 'mailboxes'
    seen = oimap.workdir / 'seen'
    extra = second_account(oimap)
    extra['Account Two']['presynchook'] = f'cp {out} {seen} || true'

    def run(incremental):
        for p in (out, seen):
            if p.exists():
                p.unlink()
        for j in (oimap.metadata / 'mbnames').glob('*.json'):
            j.unlink()
        oimap.write_config(general={'accounts': 'Test, Two'}, extra_sections={
            **extra, 'mbnames': mbnames_opts(out, incremental=incremental)})
        oimap.sync()

    # incremental = yes: the list is there, with account Test, before Two starts.
    run('yes')
    assert seen.read_text().startswith('mailboxes "+Test/Archive" ')
    assert '+Two/' not in seen.read_text()
    assert '"+Two/INBOX"' in out.read_text()
    # incremental = no: written once, at the end of the run.
    run('no')
    assert not seen.exists()
    assert '"+Test/INBOX"' in out.read_text() and '"+Two/INBOX"' in out.read_text()


def test_other_accounts_stay_until_pruned(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    out = oimap.workdir / 'mailboxes'
    extra = second_account(oimap)
    oimap.write_config(general={'accounts': 'Test, Two'},
                       extra_sections={**extra, 'mbnames': mbnames_opts(out)})
    oimap.sync()
    # A run of one account keeps the other one's folders (from its intermediate file).
    oimap.sync('-a', 'Test')
    assert '"+Two/Sent"' in out.read_text() and '"+Test/Sent"' in out.read_text()
    # Account Two leaves the configuration: listed until --mbnames-prune.
    oimap.write_config(general={'accounts': 'Test'},
                       extra_sections={**extra, 'mbnames': mbnames_opts(out)})
    oimap.sync()
    assert '"+Two/Sent"' in out.read_text()
    r = oimap.run('--mbnames-prune', '--dry-run')
    assert r.returncode == 0, runner.describe(r)
    assert 'mbnames would remove' in r.stdout + r.stderr
    assert (oimap.metadata / 'mbnames' / 'Two.json').exists()
    r = oimap.run('--mbnames-prune')
    assert r.returncode == 0, runner.describe(r)
    assert 'removed ' in r.stdout + r.stderr
    assert not (oimap.metadata / 'mbnames' / 'Two.json').exists()
    assert '+Two/' not in out.read_text() and '"+Test/Sent"' in out.read_text()
    r = oimap.run('--mbnames-prune')
    assert 'no cache file to remove' in r.stdout + r.stderr
    # With mbnames disabled, prune removes every intermediate file.
    oimap.write_config(extra_sections={'mbnames': mbnames_opts(out, enabled='no')})
    r = oimap.run('--mbnames-prune')
    assert r.returncode == 0, runner.describe(r)
    assert list((oimap.metadata / 'mbnames').glob('*.json')) == []


def test_replaced_atomically_through_a_symlink(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    real = oimap.workdir / 'dotfiles' / 'mailboxes'
    real.parent.mkdir()
    real.write_text('old\n')
    os.chmod(real, 0o640)
    link = oimap.workdir / 'mailboxes'
    link.symlink_to(real)
    oimap.write_config(extra_sections={'mbnames': mbnames_opts(link)})
    oimap.sync()
    assert link.is_symlink()
    assert real.read_text().startswith('mailboxes "+Test/Archive"')
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ['mailboxes'], 'no temporary left'


def test_broken_intermediate_file_is_reported(dovecot, oimap, mailgen):
    seed(dovecot, mailgen)
    out = oimap.workdir / 'mailboxes'
    (oimap.metadata / 'mbnames').mkdir(parents=True)
    (oimap.metadata / 'mbnames' / 'Old.json').write_text('[{"accountname": "Old", ')
    (oimap.metadata / 'mbnames' / 'Kept.json').write_text(
        '[{"foldername": "Caf\\u00e9", "accountname": "Kept", "localfolders": null, "x": [1]}]')
    oimap.write_config(extra_sections={'mbnames': mbnames_opts(
        out, peritem='%(accountname)s/%(foldername)s/%(localfolders)s')})
    r = oimap.sync(ok=False)
    assert r.returncode == 1
    assert 'Old.json not properly read' in r.stdout + r.stderr
    text = out.read_text()
    assert 'Kept/Café/None' in text and 'Test/INBOX/' in text


@pytest.mark.parametrize('bad, message', [
    ({'header': 'undefined_name'}, "NameError: name 'undefined_name' is not defined"),
    ({'peritem': '%(nokey)s'}, "KeyError: 'nokey'"),
    ({'sort_keyfunc': 'lambda: 1'}, 'TypeError'),
])
def test_python_errors_name_the_option(dovecot, oimap, mailgen, bad, message):
    seed(dovecot, mailgen)
    out = oimap.workdir / 'mailboxes'
    oimap.write_config(extra_sections={'mbnames': mbnames_opts(out, **bad)})
    r = oimap.sync(ok=False)
    assert r.returncode == 1, runner.describe(r)
    text = r.stdout + r.stderr
    assert message in text
    assert f'[mbnames] {next(iter(bad))}' in text
    # The mail itself was synced: only the mailbox list failed.
    oimap.assert_in_sync()
    assert not out.exists()
