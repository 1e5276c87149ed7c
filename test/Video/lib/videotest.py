"""Plumbing of the video tests: running the tools, reading what resq-run
writes (the summary table, frames.jsonl, PNG headers) and failing clearly.

Each test runs as
    # RUN: %python %s resq-opt resq-run %t
"""

import json
import os
import shutil
import struct
import subprocess
import sys


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def passed(message):
    print("PASS " + message, flush=True)


def main(test):
    """Runs test(tools); a failed check becomes exit code 1 and a message."""
    if len(sys.argv) != 4:
        print(f"usage: {sys.argv[0]} RESQ-OPT RESQ-RUN TMPDIR", file=sys.stderr)
        sys.exit(2)
    tools = Tools(sys.argv[1], sys.argv[2], sys.argv[3])
    try:
        test(tools)
    except CheckFailed as error:
        print(f"FAIL {os.path.basename(sys.argv[0])}: {error}", file=sys.stderr)
        sys.exit(1)


class Tools:
    def __init__(self, opt, run, tmp):
        self.opt = shutil.which(opt) or opt
        self.run = shutil.which(run) or run
        self.tmp = tmp
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, text):
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def resq_run(self, *args, ok=True):
        """Runs resq-run; with ok, a non-zero exit fails the test."""
        done = subprocess.run([self.run, *args], capture_output=True, text=True)
        command = " ".join([self.run, *args])
        check(done.returncode >= 0,
              f"resq-run crashed (signal {-done.returncode}): {command}\n{done.stderr[-3000:]}")
        if ok:
            check(done.returncode == 0,
                  f"resq-run failed (exit {done.returncode}): {command}\n{done.stderr[-3000:]}")
        return done

    def residualize(self, model, name, options="step=4"):
        out = self.path(name)
        done = subprocess.run([self.opt, model, f"--resq-residualize={options}",
                               "--resq-dynamic-bits", "-o", out],
                              capture_output=True, text=True)
        check(done.returncode == 0, f"resq-opt failed on {model}:\n{done.stderr[-3000:]}")
        return out


def table_rows(text):
    """The rows of the summary table in `text`: build name -> list of cells
    after the name. The header row is under the key 'build'."""
    rows = {}
    for line in text.splitlines():
        if not line.startswith("| ") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.setdefault(cells[0], cells[1:])
    return rows


def bench_rows(text):
    """The rows of resq-bench's table in `text`: (configuration, threads) ->
    the cells after them. The header row is under ('configuration',
    'threads')."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and not line.startswith("|---") and len(cells) > 6:
            rows[(cells[0], cells[1])] = cells[2:]
    return rows


def summary_lines(text):
    """The lines of the summary table (header, rule, rows) in `text`."""
    return [l for l in text.splitlines() if l.startswith("| ") or l.startswith("|---")]


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def png_size(path):
    """(width, height) from a PNG's IHDR; fails if it is no PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
    check(head[12:16] == b"IHDR", f"{path}: no IHDR chunk first")
    return struct.unpack(">II", head[16:24])
