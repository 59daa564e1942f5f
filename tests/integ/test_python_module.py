"""The embedded Python as a module loaded on demand (src/config/config_py_plugin.h).

The program does not link libpython; it loads offlineimap-python.so the first time a
configuration needs Python: from $OFFLINEIMAP_PYTHON_MODULE, else from the program's
own directory, else from <libdir>/offlineimap. Checked here: what the program and the
module link; that a configuration without Python options never maps the module nor
libpython (read from /proc/<pid>/maps by a presynchook while the program runs, and
no load line with -d); the error when the module is missing, which fails only the
account that needs Python; the override; a copied program that finds its module beside
it; Python extension modules (lib-dynload) importable from a pythonfile.
"""
import importlib.util
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from harness import maildir as md
from harness import runner

MODULE = 'offlineimap-python.so'
ENV = 'OFFLINEIMAP_PYTHON_MODULE'
LOADED = re.compile(r'Loaded the embedded Python 3\.\d+\S* \(libpython3\.\d+\) from (\S+)')


def needed(path: Path) -> list[str]:
    out = subprocess.run(['readelf', '-d', str(path)], capture_output=True, text=True,
                         check=True).stdout
    return re.findall(r'\(NEEDED\)\s+Shared library: \[([^\]]+)\]', out)


def env_with(**kw) -> dict:
    """os.environ without our variable, plus kw."""
    e = {k: v for k, v in os.environ.items() if k != ENV}
    e.update(kw)
    return e


def module_of(binary: Path) -> Path:
    """The module beside the program: in a build directory, it must be there."""
    path = binary.parent / MODULE
    if not path.exists():
        if (binary.parent / 'build.ninja').exists():
            raise AssertionError(f'{path} is not built next to the program')
        pytest.skip(f'{path} does not exist (an installed program finds it in its libdir)')
    return path


def maps_hook(oimap) -> tuple[dict, Path]:
    """A presynchook that copies the program's memory map (its parent is the program)."""
    maps = oimap.workdir / 'maps.txt'
    return {'presynchook': f'cat /proc/$PPID/maps > {maps}'}, maps


def out(r) -> str:
    return r.stdout + r.stderr


@pytest.mark.novalgrind  # reads the program file
def test_program_does_not_link_libpython(our_binary):
    assert not [n for n in needed(our_binary) if 'python' in n], needed(our_binary)
    module = module_of(our_binary)
    assert [n for n in needed(module) if n.startswith('libpython3')], needed(module)


def test_python_free_config_never_loads_the_module(dovecot, oimap, mailgen):
    dovecot.append('INBOX', mailgen.plain())
    hook, maps = maps_hook(oimap)
    oimap.write_config(account_opts=hook)
    # A module path that does not exist costs nothing when nothing needs Python.
    missing = oimap.workdir / 'no-such-module.so'
    r = oimap.sync('-d', 'maildir', env=env_with(**{ENV: str(missing)}))
    assert 'Python' not in out(r), out(r)
    assert len(oimap.local()['INBOX']) == 1
    text = maps.read_text()
    assert 'libssl' in text, 'the hook saw the program'
    assert 'python' not in text, text
    # With the module at hand, still not loaded.
    maps.unlink()
    r = oimap.sync('-d', 'maildir', env=env_with())
    assert not LOADED.search(out(r)), out(r)
    assert 'python' not in maps.read_text()

    # The same configuration with one Python option loads it (the checks above can fail).
    maps.unlink()
    oimap.write_config(account_opts=hook, remote_opts={'nametrans': 'lambda f: f'})
    r = oimap.sync('-d', 'maildir', env=env_with())
    m = LOADED.search(out(r))
    assert m and Path(m.group(1)) == module_of(oimap.binary), out(r)
    text = maps.read_text()
    assert MODULE in text and 'libpython3' in text


def write_two_accounts(oimap, dovecot, python_opts: dict, general: dict | None = None):
    """Account Test (no Python) and account Py (python_opts on its remote)."""
    gen = {'accounts': 'Test,Py'}
    gen.update(general or {})
    user = dovecot.default_user
    oimap.write_config(general=gen, extra_sections={
        'Account Py': {'localrepository': 'Py-Local', 'remoterepository': 'Py-Remote'},
        'Repository Py-Local': {'type': 'Maildir', 'localfolders': oimap.workdir / 'PyMail'},
        'Repository Py-Remote': {'type': 'IMAP', 'remotehost': dovecot.host,
                                 'remoteport': dovecot.port, 'remoteuser': user,
                                 'remotepass': dovecot.password(user), 'ssl': 'no',
                                 'starttls': 'no', **python_opts},
    })


def config_line(oimap, prefix: str) -> int:
    lines = oimap.config.read_text().splitlines()
    return next(i + 1 for i, line in enumerate(lines) if line.startswith(prefix))


def test_missing_module_fails_only_the_account_that_needs_it(dovecot, oimap, mailgen):
    dovecot.append('INBOX', mailgen.plain())
    write_two_accounts(oimap, dovecot, {'nametrans': 'lambda f: f'})
    missing = oimap.workdir / 'gone' / MODULE
    r = oimap.sync(ok=False, env=env_with(**{ENV: str(missing)}))
    assert r.returncode == 1
    line = config_line(oimap, 'nametrans =')
    text = out(r)
    assert (f'offlineimaprc line {line}: [Repository Py-Remote] nametrans: this option needs '
            f'Python, but the module that runs Python ({MODULE}, which needs libpython3.') in text
    assert f'Tried:\n  {missing}: cannot open shared object file: No such file or directory' \
        in text, text
    assert f'Point {ENV} at the module built with this program, or unset it' in text
    # The account without Python synced; the other one did nothing.
    assert len(oimap.local()['INBOX']) == 1
    assert not list((oimap.workdir / 'PyMail').rglob('*,U=*'))


def test_missing_module_with_a_pythonfile_stops_the_run(dovecot, oimap, mailgen):
    dovecot.append('INBOX', mailgen.plain())
    pf = oimap.workdir / 'helpers.py'
    pf.write_text('X = 1\n')
    oimap.write_config(general={'pythonfile': pf})
    missing = oimap.workdir / MODULE
    r = oimap.sync(ok=False, env=env_with(**{ENV: str(missing)}))
    assert r.returncode == 1
    line = config_line(oimap, 'pythonfile =')
    assert (f'offlineimaprc line {line}: [general] pythonfile: this option needs Python'
            in out(r)), out(r)
    assert str(missing) in out(r)
    assert not oimap.maildir.exists() or not list(oimap.maildir.rglob('*,U=*'))


def test_override_loads_the_named_module(dovecot, oimap, mailgen):
    dovecot.create('Work')
    dovecot.append('Work', mailgen.plain())
    elsewhere = oimap.workdir / 'elsewhere' / 'my-python.so'
    elsewhere.parent.mkdir()
    shutil.copy2(module_of(oimap.binary), elsewhere)
    oimap.write_config(remote_opts={'nametrans': "lambda f: 'srv-' + f"},
                       local_opts={'nametrans': "lambda f: re.sub('^srv-', '', f)"})
    r = oimap.sync('-d', 'maildir', env=env_with(**{ENV: str(elsewhere)}))
    m = LOADED.search(out(r))
    assert m and Path(m.group(1)) == elsewhere, out(r)
    assert sorted(oimap.local()) == ['srv-INBOX', 'srv-Work']


def test_copied_program_finds_its_module_beside_it(dovecot, oimap, mailgen, tmp_path):
    dovecot.append('INBOX', mailgen.plain())
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    prog = bindir / 'offlineimap'
    shutil.copy2(oimap.binary, prog)
    shutil.copy2(module_of(oimap.binary), bindir / MODULE)
    oimap.write_config(remote_opts={'nametrans': "lambda f: 'x-' + f"})
    r = oimap.sync('-d', 'maildir', binary=prog, env=env_with())
    m = LOADED.search(out(r))
    assert m and Path(m.group(1)) == bindir / MODULE, out(r)
    assert sorted(oimap.local()) == ['x-INBOX']

    # Without its module, the copy says where it looked.
    (bindir / MODULE).unlink()
    r = oimap.sync('-d', 'maildir', binary=prog, ok=False, env=env_with())
    m = LOADED.search(out(r))
    if m:
        pytest.skip(f'a module is installed ({m.group(1)}), so the copy found that one')
    assert r.returncode == 1
    assert (f'Tried:\n  {bindir / MODULE}: cannot open shared object file: No such file or '
            f'directory\n  /') in out(r), out(r)
    assert f'/offlineimap/{MODULE}: ' in out(r)
    assert f'or set {ENV} to the module\'s path' in out(r)


def test_pythonfile_imports_extension_modules(dovecot, oimap, mailgen):
    # These live in lib-dynload as .so files that find libpython's symbols in the
    # process's global scope, which the loader must provide (RTLD_GLOBAL).
    names = [n for n in ('_json', '_decimal', '_hashlib', '_ctypes')
             if (spec := importlib.util.find_spec(n)) and spec.origin
             and spec.origin.endswith('.so')]
    if not names:
        pytest.skip('no extension module in a file of its own in this Python')
    dovecot.append('INBOX', mailgen.plain())
    pf = oimap.workdir / 'helpers.py'
    pf.write_text(textwrap.dedent(f'''
        import {", ".join(names)}
        import json, decimal
        def password():
            return json.loads({json_str(dovecot.password())!r})
        def port():
            return int(decimal.Decimal({str(dovecot.port)!r}))
    '''))
    oimap.write_config(general={'pythonfile': pf},
                       remote_opts={'remotepass': None, 'remotepasseval': 'password()',
                                    'remoteporteval': 'port()'})
    oimap.sync()
    assert len(oimap.local()['INBOX']) == 1


def json_str(s: str) -> str:
    import json
    return json.dumps(s)
