#!/usr/bin/python3
"""Run every libFuzzer target of a fuzz build for a while and report.

    make fuzz                      # FUZZ_SECONDS per target, default 60
    scripts/fuzz.py --build build-fuzz --seconds 300 [--only imap_parser]

Each target fuzz-<name> runs on a scratch copy of fuzz/corpus/<name> (so the
kept corpus only grows by what is worth keeping) with fuzz/<name>.dict when
there is one.  Crash, leak or timeout inputs are copied into the kept corpus
as crash-<hash>, so that the normal test run replays them from then on.
Prints, per target: CPU seconds, executions, corpus size, and the outcome.
"""
import argparse
import glob
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def targets(build):
    found = []
    for path in sorted(glob.glob(os.path.join(build, "src", "*", "fuzz-*"))):
        if os.access(path, os.X_OK) and not path.endswith(".p"):
            name = os.path.basename(path)[len("fuzz-"):].replace("-", "_")
            found.append((name, path))
    return found


def run_one(name, exe, seconds, jobs_dir):
    kept = os.path.join(ROOT, "fuzz", "corpus", name)
    os.makedirs(kept, exist_ok=True)
    work = os.path.join(jobs_dir, name)
    shutil.copytree(kept, work)
    artifacts = os.path.join(jobs_dir, name + "-artifacts") + "/"
    os.makedirs(artifacts)
    args = [exe, work, "-max_total_time=%d" % seconds, "-print_final_stats=1",
            "-artifact_prefix=" + artifacts, "-timeout=20", "-rss_limit_mb=2048"]
    dic = os.path.join(ROOT, "fuzz", name + ".dict")
    if os.path.exists(dic):
        args.append("-dict=" + dic)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    execs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", proc.stdout)
    found = sorted(os.listdir(artifacts))
    for f in found:
        shutil.copy(os.path.join(artifacts, f), os.path.join(kept, f))
    outcome = "ok" if proc.returncode == 0 and not found else "FOUND %s" % ", ".join(found)
    if proc.returncode != 0 and not found:
        outcome = "failed (exit %d)" % proc.returncode
        sys.stdout.write(proc.stdout[-3000:])
    return cpu, int(execs[-1]) if execs else 0, len(os.listdir(work)), outcome


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-fuzz")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--only", action="append", default=[])
    a = ap.parse_args()
    found = targets(a.build)
    if a.only:
        found = [t for t in found if t[0] in a.only]
    if not found:
        print("no fuzz targets in %s (build with: make fuzz-build)" % a.build)
        return 1
    bad = 0
    with tempfile.TemporaryDirectory(prefix="oimap-fuzz-") as tmp:
        print("%-16s %10s %12s %8s  %s" % ("target", "cpu s", "executions", "corpus", "outcome"))
        for name, exe in found:
            cpu, execs, corpus, outcome = run_one(name, exe, a.seconds, tmp)
            print("%-16s %10.1f %12d %8d  %s" % (name, cpu, execs, corpus, outcome), flush=True)
            bad += outcome != "ok"
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
