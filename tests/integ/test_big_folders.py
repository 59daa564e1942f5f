"""Folders bigger than a commit batch (1024 messages): the status is committed in
the middle of the copy, while a download's UID FETCH is still being read.  That
commit must flush only the store written to: waiting on the server's connection from
inside its own reader hung the run or desynchronised the parser (seen by the
benchmark on folders of 1027-1113 messages)."""
from harness import maildir as md

N = 1100


def test_download_of_a_big_folder(dovecot, oimap, mailgen):
    dovecot.create('Big')
    dovecot.append_many('Big', [mailgen.plain() for _ in range(N)])
    r = oimap.sync(timeout=90)
    assert 'ERROR' not in r.stdout + r.stderr
    oimap.assert_in_sync()
    assert len(oimap.local()['Big']) == N
    # Every message recorded: the next run has nothing to do.
    r = oimap.sync('-d', 'imap')
    assert 'BODY.PEEK[]' not in r.stdout + r.stderr
    assert len(oimap.status_rows('Big')) == N


def test_upload_of_a_big_folder(dovecot, oimap, mailgen):
    dovecot.create('Big')
    oimap.sync()
    folder = oimap.local_folder('Big')
    for _ in range(N):
        md.add_message(folder, mailgen.plain())
    r = oimap.sync(timeout=90)
    assert 'ERROR' not in r.stdout + r.stderr
    oimap.assert_in_sync()
    assert len(dovecot.flags('Big')) == N
    assert len(oimap.status_rows('Big')) == N
