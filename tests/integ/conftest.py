"""Fixtures for the integration tests.

    dovecot          a fresh private Dovecot for this test, started; options with
                     @pytest.mark.dovecot(ssl=True, capabilities_remove=['UIDPLUS'], ...)
    dovecot_factory  make(**options) -> another started Dovecot (stopped at teardown)
    oimap            harness.runner.Setup for our binary against `dovecot`, in tmp_path
                     (skipped when the binary is not built and OIMAP_BINARY is unset)
    oimap3           the same for offlineimap3 (/usr/bin/offlineimap)
    mailgen          harness.mailgen.MailGen seeded from the test's name
    snapshot         harness.runner.snapshot(dovecot, local_root, ...)

Environment: OIMAP_BINARY (our binary), OIMAP_SANITIZER (asan/tsan: longer timeouts;
sanitizer reports fail the run anyway), OIMAP_KEEP_TMP=1 keeps every Dovecot basedir.
On failure the Dovecot log tail is printed with the test's report.
"""

from __future__ import annotations

import os
import shutil
import zlib

import pytest

from harness import runner
from harness.dovecot import Dovecot, make_basedir
from harness.mailgen import MailGen


def pytest_collection_modifyitems(config, items):
    """Under Valgrind (OIMAP_SANITIZER=valgrind, OIMAP_BINARY a wrapper script), skip
    the tests marked novalgrind."""
    if os.environ.get('OIMAP_SANITIZER') != 'valgrind':
        return
    skip = pytest.mark.skip(reason='novalgrind: not meaningful with the program under Valgrind')
    for item in items:
        if 'novalgrind' in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f'rep_{rep.when}', rep)


def _failed(request) -> bool:
    node = request.node
    return any(getattr(getattr(node, f'rep_{w}', None), 'failed', False)
               for w in ('setup', 'call'))


@pytest.fixture
def dovecot_factory(request):
    made: list[tuple[Dovecot, object]] = []

    def make(**options) -> Dovecot:
        base = make_basedir()
        dc = Dovecot(base, **options)
        made.append((dc, base))
        dc.start()
        return dc

    yield make
    keep = os.environ.get('OIMAP_KEEP_TMP') == '1'
    for dc, base in made:
        try:
            dc.stop()
        finally:
            if _failed(request):
                print(f'--- Dovecot log ({dc.log_path}):\n{dc.log_text()[-6000:]}')
            if keep:
                print(f'kept Dovecot basedir {base}')
            else:
                shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def dovecot(request, dovecot_factory) -> Dovecot:
    marker = request.node.get_closest_marker('dovecot')
    return dovecot_factory(**(marker.kwargs if marker else {}))


@pytest.fixture
def our_binary():
    path = runner.our_binary()
    if not path.exists():
        if os.environ.get('OIMAP_BINARY'):
            pytest.fail(f'OIMAP_BINARY={path} does not exist')
        pytest.skip(f'{path} is not built (set OIMAP_BINARY or build first)')
    return path


@pytest.fixture
def oimap(dovecot, tmp_path, our_binary) -> runner.Setup:
    return runner.Setup(dovecot, tmp_path / 'oimap', binary=our_binary, ssl=dovecot.ssl)


@pytest.fixture
def oimap3(dovecot, tmp_path) -> runner.Setup:
    if not runner.OFFLINEIMAP3.exists():
        pytest.skip(f'{runner.OFFLINEIMAP3} is not installed')
    return runner.Setup(dovecot, tmp_path / 'oimap3', binary=runner.OFFLINEIMAP3,
                        ssl=dovecot.ssl)


@pytest.fixture
def mailgen(request) -> MailGen:
    return MailGen(seed=zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def snapshot():
    return runner.snapshot
