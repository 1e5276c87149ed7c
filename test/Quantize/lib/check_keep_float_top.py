"""Checks a resq-quantize --sensitivity --keep-float-top N report: the N
layers it keeps in float are the N with the largest measured errors, and
the summary table marks exactly those as float.

usage: check_keep_float_top.py REPORT N
"""
import re
import sys

report, n = open(sys.argv[1]).read(), int(sys.argv[2])
measured = dict(
    (m.group(1), float(m.group(2)))
    for m in re.finditer(r"^ +\d+/\d+ (\S+) +([0-9.]+)", report, re.M))
kept_block = report.split("most sensitive layers:\n", 1)[1]
kept = [m.group(1) for m in re.finditer(r"^ +[0-9.]+  (\S+)$", kept_block, re.M)][:n]
expected = sorted(measured, key=lambda name: -measured[name])[:n]
marked = re.findall(r"^(\S+) +\S+ +float \(kept\)$", report, re.M)
if not measured or sorted(kept) != sorted(expected) or sorted(marked) != sorted(expected):
    sys.exit(f"FAIL: measured {measured}, kept {kept}, marked {marked}, "
             f"expected {expected}")
print(f"OK: kept in float {expected} of {len(measured)} layers")
