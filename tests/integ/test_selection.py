"""Message selection: maxsize, maxage, quick (-q), as offlineimap defines them."""
import datetime as dt

from harness import maildir as md


def days_ago(n):
    return dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=n)


def test_maxsize_ignores_big_messages_on_both_sides(dovecot, oimap, mailgen):
    small = [dovecot.append('INBOX', mailgen.plain()) for _ in range(3)]
    big = dovecot.append('INBOX', mailgen.attachment(120_000))
    oimap.write_config(account_opts={'maxsize': 50000})
    r = oimap.sync()
    local = oimap.local()['INBOX']
    assert sorted(m.uid for m in local) == small, 'the big message is not downloaded'
    assert f'UID {big}' not in r.stdout
    # A big local message is not uploaded either; a small one is.
    md.add_message(oimap.local_folder('INBOX'), mailgen.attachment(120_000))
    md.add_message(oimap.local_folder('INBOX'), mailgen.plain())
    oimap.sync()
    assert len(dovecot.messages('INBOX')) == 5
    r = oimap.sync()
    assert 'Copy message' not in r.stdout
    # Without maxsize everything syncs.
    oimap.write_config()
    oimap.sync()
    oimap.assert_in_sync()


def test_maxage_sees_only_recent_messages(dovecot, oimap, mailgen):
    old = [dovecot.append('INBOX', mailgen.plain(), date=days_ago(100)) for _ in range(3)]
    new = [dovecot.append('INBOX', mailgen.plain(), date=days_ago(2)) for _ in range(2)]
    oimap.write_config(account_opts={'maxage': 30})
    oimap.sync()
    local = oimap.local()['INBOX']
    assert sorted(m.uid for m in local) == new, 'only messages of the last 30 days'
    # Old messages are invisible: a second run neither downloads nor deletes them.
    r = oimap.sync()
    assert 'Copy message' not in r.stdout and 'Deleting' not in r.stdout
    assert sorted(dovecot.messages('INBOX')) == old + new
    # A change inside the window still syncs both ways.
    dovecot.set_flags('INBOX', new[0], '\\Flagged')
    md.delete(next(m.path for m in oimap.local()['INBOX'] if m.uid == new[1]))
    oimap.sync()
    assert sorted(dovecot.messages('INBOX')) == old + [new[0]]
    assert 'F' in next(m.flags for m in oimap.local()['INBOX'] if m.uid == new[0])


def test_maxage_as_a_date(dovecot, oimap, mailgen):
    dovecot.append('INBOX', mailgen.plain(), date=days_ago(400))
    recent = dovecot.append('INBOX', mailgen.plain(), date=days_ago(1))
    since = days_ago(10).strftime('%Y-%m-%d')
    oimap.write_config(account_opts={'maxage': since})
    oimap.sync()
    assert [m.uid for m in oimap.local()['INBOX']] == [recent]


def test_quick_sync_skips_unchanged_folders_and_misses_server_flags(dovecot, oimap, mailgen):
    for _ in range(4):
        dovecot.append('INBOX', mailgen.plain())
    oimap.sync()
    dovecot.set_flags('INBOX', 1, '\\Seen')
    r = oimap.sync('-q')
    assert 'Skipping INBOX (not changed)' in r.stdout
    assert 'S' not in next(m.flags for m in oimap.local()['INBOX'] if m.uid == 1), \
        'a quick sync does not look at server flags (offlineimap\'s definition)'
    # A new message changes the count: the folder is synced in full.
    dovecot.append('INBOX', mailgen.plain())
    r = oimap.sync('-q')
    assert 'Copy message UID 5' in r.stdout
    assert 'S' in next(m.flags for m in oimap.local()['INBOX'] if m.uid == 1)
    # quick = -1 in the account does the same as -q.
    md.add_flags(next(m.path for m in oimap.local()['INBOX'] if m.uid == 2), 'F')
    oimap.write_config(account_opts={'quick': -1})
    oimap.sync()
    assert '\\Flagged' in dovecot.flags('INBOX')[2], 'local changes are seen by a quick sync'


def test_filterheaders_removes_fields_from_uploads_only(dovecot, oimap, mailgen):
    oimap.write_config(account_opts={'filterheaders': 'X-Secret, X-Spam-Score'})
    oimap.sync()
    msg = (b'From: a@example.org\nX-Secret: hidden\n  continued\nSubject: s\n'
           b'X-Spam-Score: 3\nMessage-ID: <f1@example.org>\n\nbody\n')
    path = md.add_message(oimap.local_folder('INBOX'), msg)
    oimap.sync()
    (uid, (flags, body)), = dovecot.messages('INBOX').items()
    assert body == (b'From: a@example.org\r\nSubject: s\r\nMessage-ID: <f1@example.org>\r\n'
                    b'\r\nbody\r\n')
    local = oimap.local()['INBOX']
    assert len(local) == 1 and local[0].uid == uid
    assert local[0].content == msg, 'the local file keeps its fields'
    r = oimap.sync()
    assert 'Copy message' not in r.stdout


def test_mail_timestamp_names_and_times(dovecot, oimap, mailgen):
    msg = (b'From: a@example.org\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\n'
           b'Message-ID: <d1@example.org>\r\nSubject: old\r\n\r\nbody\r\n')
    dovecot.append('INBOX', msg)
    oimap.write_config(local_opts={'filename_use_mail_timestamp': 'yes',
                                   'utime_from_header': 'yes'})
    oimap.sync()
    (m,) = oimap.local()['INBOX']
    assert m.path.name.startswith('1057049557_'), m.path.name
    assert int(m.path.stat().st_mtime) == 1057049557


def test_restoreatime_keeps_folder_access_times(dovecot, oimap, mailgen):
    import os
    dovecot.append('INBOX', mailgen.plain())
    oimap.write_config(local_opts={'restoreatime': 'yes'})
    oimap.sync()
    dirs = [oimap.local_folder('INBOX') / d for d in ('new', 'cur')]
    for d in dirs:
        os.utime(d, (1000000000, d.stat().st_mtime))
    dovecot.append('INBOX', mailgen.plain())
    oimap.sync()
    for d in dirs:
        assert int(d.stat().st_atime) == 1000000000, d
