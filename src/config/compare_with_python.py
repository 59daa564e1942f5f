#!/usr/bin/python3
"""Check the C configuration reader against Python's own configparser.

offlineimap3 reads its configuration with configparser.ConfigParser
(strict, BasicInterpolation, '#'/';' comments, no inline comments).  For
every input this script prints what Python makes of it, in the format of
config_ini_dump (see config_ini_dump.c), and requires the C dump to be
identical: same sections, options, raw values and interpolated values (or
both an interpolation error), or both rejecting the file.

Inputs: every file of the given corpus directories, the same files again
with a few -k overrides, and a fixed-seed stream of generated files built
from the fragments where parsers usually disagree.  It also checks that
option names are lower-cased like str.lower() (every code point, and the
final-sigma rule), that dates parse like time.strptime(text, "%Y-%m-%d")
(maxage, startdate), and that config_ini_unicode.c still matches this
Python's Unicode tables.

    compare_with_python.py --dump PATH/config-ini-dump [--random N] DIR_OR_FILE...
"""
import argparse
import configparser
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def esc(text):
    out = []
    for byte in text.encode("utf-8", "surrogateescape"):
        if byte < 0x20 or byte > 0x7E or byte == 0x5C:
            out.append("\\x%02x" % byte)
        else:
            out.append(chr(byte))
    return "".join(out)


def apply_override(parser, spec):
    """offlineimap3 init.py, the -k handling."""
    key, value = spec.split("=", 1)
    if ":" in key:
        secname, key = key.split(":", 1)
        section = secname.replace("_", " ")
    else:
        section = "general"
    parser.set(section, key, value)


def python_dump(path, overrides):
    parser = configparser.ConfigParser()
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle, path)
    except (configparser.Error, UnicodeDecodeError):
        return "FAIL\n"
    try:
        for spec in overrides:
            apply_override(parser, spec)
    except (configparser.Error, ValueError):
        return "SETFAIL\n"
    lines = ["OK"]

    def dump(section, names):
        lines.append("[%s]" % esc(section))
        for name in sorted(names):
            raw = parser.get(section, name, raw=True)
            try:
                value = esc(parser.get(section, name))
            except configparser.Error:
                value = "!ERROR"
            lines.append("%s\t%s\t%s" % (esc(name), esc(raw), value))

    dump("DEFAULT", parser.defaults().keys())
    for section in parser.sections():
        dump(section, parser.options(section))
    return "\n".join(lines) + "\n"


def c_dump(dump, path, overrides):
    args = [dump, path]
    for spec in overrides:
        args += ["-k", spec]
    result = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if result.returncode != 0:
        return "CRASH %d: %s" % (result.returncode, result.stderr.decode(errors="replace"))
    return result.stdout.decode("ascii", "replace")


def known_deviation(path):
    """Inputs where we reject what Python accepts, on purpose."""
    with open(path, "rb") as handle:
        data = handle.read()
    if b"\0" in data:
        return "a NUL byte (C strings; no real configuration has one)"
    return None


# Fragments for generated files: where INI readers usually differ.
SPACES = [" ", "  ", "\t", "\u00a0", "\u3000", "\x0b", "\x1c", ""]
NAMES = ["a", "A", "b", "Name", "K\u212a", "\u0130x", "\u00c4", "x y", "dry-run", "sep"]
VALUES = ["1", "", "a = b", "x:y", "a # b", "; c", "%%", "100%", "%(a)s", "%(A)s/x",
          "%(b)s%(b)s", "%(missing)s", "%(a)d", "%(", "%", "[x]", "\u00e9t\u00e9", "yes"]
SECTIONS = ["general", "DEFAULT", "Account A", "a", "A", " s ", "x]y", "]"]


def random_line(rng):
    kind = rng.random()
    indent = rng.choice(SPACES) if rng.random() < 0.3 else ""
    if kind < 0.15:
        head = "[" + rng.choice(SECTIONS) + "]"
        if rng.random() < 0.1:
            head += rng.choice([" tail", "]", " = 1"])
        return indent + head
    if kind < 0.6:
        delim = rng.choice(["=", ":", " = ", ": ", " :", "\t=\t"])
        return indent + rng.choice(NAMES) + delim + rng.choice(VALUES)
    if kind < 0.7:
        return indent + rng.choice(["#", ";"]) + " comment " + rng.choice(VALUES)
    if kind < 0.8:
        return indent
    if kind < 0.9:
        return (indent or " ") + rng.choice(VALUES + ["more", "x = y", "[c]"])
    return indent + rng.choice(["junk", "=x", ":", "[]", "[=1", "\ufeff[general]", "[a] x"])


def random_file(rng):
    lines = []
    if rng.random() < 0.8:
        lines.append("[" + rng.choice(SECTIONS) + "]")
    for _ in range(rng.randint(1, 14)):
        lines.append(random_line(rng))
    newline = rng.choice(["\n", "\n", "\n", "\r\n", "\r"])
    text = newline.join(lines)
    if rng.random() < 0.7:
        text += newline
    return text


def check_unicode_tables():
    if sys.version_info[:2] != (3, 11):
        print("note: Python %d.%d, not 3.11: skipping the Unicode table check"
              % sys.version_info[:2])
        return True
    generated = subprocess.run([sys.executable, os.path.join(HERE, "gen_unicode_tables.py")],
                               stdout=subprocess.PIPE, check=True).stdout.decode()
    with open(os.path.join(HERE, "config_ini_unicode.c"), encoding="utf-8") as handle:
        committed = handle.read()
    if generated != committed:
        print("FAIL: config_ini_unicode.c differs from gen_unicode_tables.py's output")
        return False
    return True


def check_lower(dump, rng, count):
    """Option names are lower-cased with str.lower(): every code point alone,
    then strings built to exercise the final-sigma rule."""
    inputs = [chr(c) for c in range(0x110000)
              if not 0xD800 <= c <= 0xDFFF and chr(c) not in "\n\r\0"]
    pool = ["A", "a", "\u03a3", "\u03c3", "'", ".", "\u0345", "\u00aa", "\u0130", "1",
            " ", "\u02b0", "\u00ad", "\u0300", "\u2126", "\u1fbc", "\U0001d400", "\u00df"]
    for _ in range(count):
        inputs.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 6))))
    data = "\n".join(inputs) + "\n"
    result = subprocess.run([dump, "--lower"], input=data.encode("utf-8"),
                            stdout=subprocess.PIPE, check=True, timeout=300)
    got = result.stdout.decode("ascii").split("\n")
    bad = 0
    for text, low in zip(inputs, got):
        if esc(text.lower()) != low:
            if bad < 10:
                print("MISMATCH: lower(%r): python %r, c %r" % (text, esc(text.lower()), low))
            bad += 1
    if len(got) != len(inputs) + 1:
        print("MISMATCH: lower: %d lines for %d inputs" % (len(got) - 1, len(inputs)))
        bad += 1
    return bad == 0, len(inputs)


def check_dates(dump):
    """maxage and startdate go through time.strptime(text, "%Y-%m-%d")."""
    years = ["2020", "1999", "0000", "0001", "202", "20200", "1899"]
    months = ["1", "01", "10", "12", "13", "0", "00", "9", "09", " 1", "1 "]
    days = ["1", "01", "10", "29", "30", "31", "32", "0", " 5", "5 ", "3", "39", "19", "2"]
    inputs = sorted({"%s-%s-%s" % (y, m, d) for y in years for m in months for d in days} |
                    {"2020-02-29", "2019-02-29", "2000-02-29", "1900-02-29", "2020-1-5x",
                     "2020/01/01", "", "2020-01", "2020-01-01 ", "-2020-01-01"})
    result = subprocess.run([dump, "--date"], input="\n".join(inputs) + "\n",
                            stdout=subprocess.PIPE, universal_newlines=True, check=True)
    bad = 0
    for text, got in zip(inputs, result.stdout.split("\n")):
        try:
            t = time.strptime(text, "%Y-%m-%d")
            want = "%04d-%02d-%02d" % (t.tm_year, t.tm_mon, t.tm_mday)
        except ValueError:
            want = "ERR"
        if want != got:
            print("MISMATCH: strptime(%r): python %s, c %s" % (text, want, got))
            bad += 1
    return bad == 0, len(inputs)


def compare(dump, path, overrides, label):
    want = python_dump(path, overrides)
    got = c_dump(dump, path, overrides)
    if want == got:
        return True
    if got.startswith("FAIL") and not want.startswith("FAIL"):
        reason = known_deviation(path)
        if reason:
            print("note: %s: rejected because of %s" % (label, reason))
            return True
    print("MISMATCH: %s %s" % (label, " ".join("-k " + s for s in overrides)))
    print("--- python\n%s--- c\n%s" % (want, got))
    return False


OVERRIDES = [
    ["general:ui=quiet"],
    ["Account_Test:autorefresh=5", "DEFAULT:x=%%"],
    ["nosuch_section:x=1"],
    ["general:bad=50%"],
    ["metadata=%(home)s/x"],
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    ap.add_argument("--random", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("dirs", nargs="*", help="directories (every file in them) or files")
    args = ap.parse_args()

    ok = check_unicode_tables()
    count = 0
    files = []
    for directory in args.dirs:
        if os.path.isfile(directory):
            files.append(directory)
            continue
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                files.append(path)
    for path in files:
        ok &= compare(args.dump, path, [], path)
        count += 1
        for overrides in OVERRIDES:
            ok &= compare(args.dump, path, overrides, path)
            count += 1

    rng = random.Random(args.seed)
    lower_ok, lowered = check_lower(args.dump, rng, 20000)
    ok &= lower_ok
    dates_ok, dates = check_dates(args.dump)
    ok &= dates_ok
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "generated.ini")
        for i in range(args.random):
            text = random_file(rng)
            with open(path, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            if not compare(args.dump, path, [], "generated #%d %r" % (i, text)):
                ok = False
            count += 1
    print("%d files, %d lower-cased names and %d dates compared with Python %s: %s"
          % (count, lowered, dates, sys.version.split()[0], "all agree" if ok else "MISMATCHES"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
