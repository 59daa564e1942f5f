"""The 1% changes applied between runs, the same for every tool.

    plan = plan_changes(model, share=0.01, seed=7, tag='srv')
    apply_server(dc, user, plan, server_scan)      # new messages, flag changes, expunges
    apply_local(root, plan, local_scan)            # new files, flag renames, deletions
    plan.update(model)

Which messages change depends only on the expected state (sorted Message-IDs) and the
seed, so every tool sees the same changes. A third of the picks become flag changes, a
third deletions, and for each of the remaining third a new message arrives in the same
folder (on the server: delivered into new/; locally: written into new/).
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from corpus import LETTER_TO_FLAG, MessageFactory, Model, crlf_size, digest
from verify import check, client, select


@dataclass
class NewMsg:
    folder: str
    msgid: str
    data: bytes   # LF line endings
    when: float


@dataclass
class Plan:
    flag_changes: list[tuple[str, str, str, str]] = field(default_factory=list)
    # (folder, msgid, old letters, new letters)
    deletions: list[tuple[str, str]] = field(default_factory=list)
    new: list[NewMsg] = field(default_factory=list)

    def update(self, model: Model) -> None:
        """Apply the plan to the expected state."""
        for f, msgid, _old, new in self.flag_changes:
            model.folders[f][msgid] = new
        for f, msgid in self.deletions:
            del model.folders[f][msgid]
        for n in self.new:
            model.folders[n.folder][n.msgid] = ''
            model.info[n.msgid] = (digest(n.data), crlf_size(n.data))

    def describe(self) -> str:
        return (f'{len(self.new)} new, {len(self.flag_changes)} flag changes, '
                f'{len(self.deletions)} deletions')


def plan_changes(model: Model, *, share: float, seed: int, tag: str,
                 text_kb: tuple[int, int] = (2, 20)) -> Plan:
    rng = random.Random(f'{seed}:{tag}')
    everything = [(f, m) for f in sorted(model.folders) for m in sorted(model.folders[f])
                  if m != model.huge_msgid]
    n = max(3, round(share * len(everything)))
    picks = rng.sample(everything, min(n, len(everything)))
    fac = MessageFactory(seed, tag)
    plan = Plan()
    for i, (f, msgid) in enumerate(picks):
        kind = i % 3
        if kind == 0:
            old = model.folders[f][msgid]
            new = set(old)
            new ^= {'S'}
            if i % 2:
                new ^= {'F'}
            plan.flag_changes.append((f, msgid, old, ''.join(sorted(new))))
        elif kind == 1:
            plan.deletions.append((f, msgid))
        else:
            data, mid, when = fac.regular(text_kb, 0.0)
            plan.new.append(NewMsg(f, mid, data, when))
    return plan


def _uidset(uids: list[int]) -> str:
    return ','.join(str(u) for u in sorted(uids))


def apply_server(dc, user: str, plan: Plan, server: dict, uid: int = -1,
                 gid: int = -1) -> None:
    """Make the plan's changes on the server: flag changes and expunges over IMAP
    (grouped per folder and flag); new messages delivered into the folder's new/ like a
    local delivery agent (tmp/, then a rename), owned by uid:gid. Dovecot gives them UIDs
    when a client next looks at the folder. (APPEND would do as well, but in a folder of a
    million messages Dovecot spends a large fraction of a second per APPEND.)"""
    folders = sorted({f for f, *_ in plan.flag_changes} | {f for f, _ in plan.deletions})
    conn = client(dc, user)
    try:
        for folder in folders:
            select(conn, folder, readonly=False)
            stores: dict[tuple[str, str], list[int]] = {}
            for f, msgid, old, new in plan.flag_changes:
                if f != folder:
                    continue
                muid = server[f][msgid][0].uid
                for ltr in set(old) - set(new):
                    stores.setdefault(('-FLAGS.SILENT', LETTER_TO_FLAG[ltr]), []).append(muid)
                for ltr in set(new) - set(old):
                    stores.setdefault(('+FLAGS.SILENT', LETTER_TO_FLAG[ltr]), []).append(muid)
            for (op, flag), uids in sorted(stores.items()):
                check(*conn._simple_command('UID', 'STORE', _uidset(uids), op, f'({flag})'),
                      'UID STORE')
            gone = [server[f][m][0].uid for f, m in plan.deletions if f == folder]
            if gone:
                check(*conn._simple_command('UID', 'STORE', _uidset(gone), '+FLAGS.SILENT',
                                            '(\\Deleted)'), 'UID STORE \\Deleted')
                check(*conn._simple_command('UID', 'EXPUNGE', _uidset(gone)), 'UID EXPUNGE')
            conn.untagged_responses.clear()
    finally:
        try:
            conn.logout()
        except Exception:
            pass
    deliver(dc, user, plan.new, uid, gid)


_lda_seq = [0]


def deliver(dc, user: str, new: list[NewMsg], uid: int, gid: int) -> None:
    """Write new messages into the server folders' new/ directories."""
    now = int(time.time())
    for n in new:
        _lda_seq[0] += 1
        seq = _lda_seq[0]
        d = dc.folder_path(n.folder, user)
        name = f'{now}.M{seq}P{os.getpid()}Q{seq}.benchlda,S={len(n.data)},W={crlf_size(n.data)}'
        tmp = d / 'tmp' / name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(n.data)
            while view:
                view = view[os.write(fd, view):]
            os.fchown(fd, uid, gid)
        finally:
            os.close(fd)
        os.rename(tmp, d / 'new' / name)


_local_seq = [0]


def apply_local(root: str | os.PathLike, plan: Plan, local: dict) -> None:
    """Make the plan's changes in a local Maildir like a mail reader: rename for flags
    (into cur/), unlink for deletions, tmp/ then new/ for new messages."""
    root = Path(root)
    for f, msgid, _old, new in plan.flag_changes:
        lm = local[f][msgid][0]
        p = Path(lm.path)
        name = p.name
        i = name.rfind(':2,')
        base = name if i < 0 else name[:i]
        extra = '' if i < 0 else ''.join(c for c in name[i + 3:] if not c.isupper())
        target = p.parent.parent / 'cur' / f'{base}:2,{"".join(sorted(new + extra))}'
        os.rename(p, target)
    for f, msgid in plan.deletions:
        os.unlink(local[f][msgid][0].path)
    for n in plan.new:
        _local_seq[0] += 1
        seq = _local_seq[0]
        name = f'{int(n.when)}.M{seq}P{os.getpid()}Q{seq}.benchreader'
        d = root / n.folder
        tmp = d / 'tmp' / name
        with open(tmp, 'xb') as fh:
            fh.write(n.data)
        os.utime(tmp, (n.when, n.when))
        os.rename(tmp, d / 'new' / name)
