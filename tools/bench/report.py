#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn kport-bench CSVs into the README tables, plot data and target lines.

    report.py [--out DIR] [--gnuplot plots.gp] PASS.csv...
    report.py --targets-only PASS.csv...

With --out: writes DIR/results.md (markdown tables for each pass: latency,
throughput, scaling, targets), DIR/PASS-latency.dat and
DIR/PASS-throughput.dat (gnuplot data, one block per mechanism) and, with
--gnuplot, runs it to make DIR/PASS-latency.png and DIR/PASS-throughput.png.
It prints the markdown to stdout too.

--targets-only prints the target lines as kport-bench computed them (they
travel in the CSV as rows of test "target"): those of every pass but the
gating one first, prefixed with the pass name, then those of the gating
pass ("icount" if given, else the last CSV) in the form
    target NAME: RATIO (goal OP GOAL) met|missed
so that they are the last lines.

CSV columns: pass,test,mech,size,procs,metric,median,min,max,n,unit,note.
"""
import argparse
import collections
import csv
import math
import os
import subprocess
import sys


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"report: {path}: no rows")
    return rows


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return math.nan


def size_str(n):
    n = int(n)
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def fmt(v, digits=1):
    if math.isnan(v):
        return "–"
    if v >= 100 or digits == 0:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


class Pass:
    def __init__(self, rows):
        self.name = rows[0]["pass"]
        self.rows = rows
        self.info = {}
        self.cells = {}       # (test, mech, size, procs, metric) -> row
        self.mechs = collections.OrderedDict()   # test -> [mech]
        self.targets = []
        for r in rows:
            test = r["test"]
            if test == "info":
                self.info[r["mech"]] = r
                continue
            if test == "target":
                self.targets.append(r)
                continue
            key = (test, r["mech"], int(r["size"]), int(r["procs"]), r["metric"])
            self.cells[key] = r
            self.mechs.setdefault(test, [])
            if r["mech"] not in self.mechs[test]:
                self.mechs[test].append(r["mech"])

    def sizes(self, test):
        return sorted({k[2] for k in self.cells if k[0] == test})

    def procs(self, test):
        return sorted({k[3] for k in self.cells if k[0] == test})

    def get(self, test, mech, size, procs, metric):
        return self.cells.get((test, mech, size, procs, metric))

    def status(self, test, mech, size, procs):
        """'ok', or the reason it has no value ('skip: ...', 'error: ...')."""
        for m in ("skip", "error", "none"):
            r = self.get(test, mech, size, procs, m)
            if r:
                return f"{m}: {r['note']}"
        return "ok"

    def med(self, test, mech, size, procs, metric):
        r = self.get(test, mech, size, procs, metric)
        return num(r["median"]) if r else math.nan

    def spread(self, test, mech, size, procs, metric):
        r = self.get(test, mech, size, procs, metric)
        if not r:
            return math.nan
        m, lo, hi = num(r["median"]), num(r["min"]), num(r["max"])
        return 100 * (hi - lo) / m if m > 0 else math.nan

    def target_lines(self, prefix=""):
        out = []
        for t in self.targets:
            ratio = num(t["median"])
            goal = t["unit"]
            op = goal.rstrip("0123456789.")
            # Two decimals, three where two would round onto the goal.
            digits = 3 if abs(ratio - num(goal[len(op):])) < 0.005 else 2
            out.append(f"{prefix}target {t['mech']}: {ratio:.{digits}f} "
                       f"(goal {op} {goal[len(op):]}) {t['metric']}")
        return out


def markdown(p):
    L = []
    info = p.info
    kernel = info.get("kernel", {}).get("note", "?")
    cs = info.get("clocksource", {}).get("note", "?")
    cpus = fmt(num(info.get("cpus", {}).get("median")), 0)
    elapsed = num(info.get("elapsed", {}).get("median"))
    cost = num(info.get("clock_gettime", {}).get("median"))
    L.append(f"### Pass `{p.name}`\n")
    L.append(f"Guest kernel {kernel}, {cpus} CPU(s), clocksource {cs} "
             f"(clock_gettime {fmt(cost, 0)} ns); the run took {fmt(elapsed)} s of guest "
             f"time. Medians of the repetitions; spread = (max - min) / median.\n")

    # Latency: one row per mechanism, p50 / p99 / p99.9 per size.
    if "latency" in p.mechs:
        sizes = p.sizes("latency")
        L.append("**Round trip, µs: p50 / p99 / p99.9** (ping-pong between two processes)\n")
        L.append("| mechanism | " + " | ".join(size_str(s) for s in sizes) + " |")
        L.append("|---|" + "---:|" * len(sizes))
        for m in p.mechs["latency"]:
            cells = []
            for s in sizes:
                st = p.status("latency", m, s, 2)
                if st != "ok":
                    cells.append(st.split(":")[0])
                    continue
                v = [p.med("latency", m, s, 2, k) / 1000 for k in ("p50", "p99", "p99.9")]
                cells.append(" / ".join(fmt(x) for x in v))
            L.append(f"| {m} | " + " | ".join(cells) + " |")
        L.append("")

    if "throughput" in p.mechs:
        sizes = p.sizes("throughput")
        mechs = p.mechs["throughput"]
        small = [s for s in sizes if s <= 4096]
        if small:
            L.append("**One-way throughput, messages/s** (small messages; receiver reads every byte)\n")
            L.append("| mechanism | " + " | ".join(size_str(s) for s in small) + " |")
            L.append("|---|" + "---:|" * len(small))
            for m in mechs:
                if m == "memcpy":
                    continue
                cells = []
                for s in small:
                    st = p.status("throughput", m, s, 2)
                    cells.append(fmt(p.med("throughput", m, s, 2, "msgs_per_s"), 0)
                                 if st == "ok" else st.split(":")[0])
                L.append(f"| {m} | " + " | ".join(cells) + " |")
            L.append("")
        L.append("**One-way throughput, MiB/s** (receiver reads every byte; memcpy = one "
                 "thread copying the same size)\n")
        L.append("| mechanism | copies | " + " | ".join(size_str(s) for s in sizes) + " |")
        L.append("|---|---|" + "---:|" * len(sizes))
        for m in mechs:
            cells = []
            copies = ""
            for s in sizes:
                st = p.status("throughput", m, s, 2)
                r = p.get("throughput", m, s, 2, "copied_bytes_per_msg")
                if r and not copies:
                    copies = r["note"]
                cells.append(fmt(p.med("throughput", m, s, 2, "mib_per_s"))
                             if st == "ok" else st.split(":")[0])
            L.append(f"| {m} | {copies} | " + " | ".join(cells) + " |")
        L.append("")
        # Why cells are empty.
        reasons = collections.OrderedDict()
        for m in mechs:
            for s in sizes:
                st = p.status("throughput", m, s, 2)
                if st != "ok":
                    reasons.setdefault((m, st), []).append(size_str(s))
        if reasons:
            L.append("Not measured:\n")
            for (m, st), ss in reasons.items():
                L.append(f"- {m} at {', '.join(ss)}: {st}")
            L.append("")

    if "scaling" in p.mechs:
        procs = p.procs("scaling")
        size = p.sizes("scaling")[0]
        L.append(f"**Scaling, messages/s**: N senders and N receivers on one channel, "
                 f"{size_str(size)} messages\n")
        L.append("| mechanism | " + " | ".join(f"{n // 2}×{n // 2}" for n in procs) + " |")
        L.append("|---|" + "---:|" * len(procs))
        for m in p.mechs["scaling"]:
            cells = []
            for n in procs:
                st = p.status("scaling", m, size, n)
                cells.append(fmt(p.med("scaling", m, size, n, "msgs_per_s"), 0)
                             if st == "ok" else st.split(":")[0])
            L.append(f"| {m} | " + " | ".join(cells) + " |")
        L.append("")

    if p.targets:
        L.append("**Targets** (ratios of medians)\n")
        L.append("| target | ratio | goal | verdict | from |")
        L.append("|---|---:|---|---|---|")
        for t in p.targets:
            r, goal = num(t["median"]), t["unit"]
            digits = 3 if abs(r - num(goal.lstrip("<>="))) < 0.005 else 2
            L.append(f"| {t['mech']} | {r:.{digits}f} | {goal} | "
                     f"{t['metric']} | {t['note']} |")
        L.append("")
    return "\n".join(L)


def write_dat(p, out):
    """Gnuplot data: one block per mechanism (two blank lines apart),
    its first line the title.  Returns the files written."""
    files = []
    # Solid lines for kport's paths and memcpy, dashed for the peers.
    for test, metric, col in (("latency", "p50", "latency"),
                              ("throughput", "mib_per_s", "throughput")):
        if test not in p.mechs:
            continue
        path = os.path.join(out, f"{p.name}-{col}.dat")
        with open(path, "w") as f:
            nblocks = 0
            for m in p.mechs[test]:
                pts = []
                for s in p.sizes(test):
                    v = p.med(test, m, s, 2, metric)
                    if not math.isnan(v):
                        if test == "latency":
                            lo = p.med(test, m, s, 2, "p99") / 1000
                            pts.append(f"{s} {v / 1000:.6g} {lo:.6g}")
                        else:
                            pts.append(f"{s} {v:.6g}")
                if not pts:
                    continue
                if nblocks:
                    f.write("\n\n")
                f.write(f"\"{m}\"\n" + "\n".join(pts) + "\n")
                nblocks += 1
        dts = " ".join("1" if m.startswith("kport") or m == "memcpy" else "2"
                       for m in p.mechs[test] if any(
                           not math.isnan(p.med(test, m, s, 2, metric))
                           for s in p.sizes(test)))
        files.append((col, path, nblocks, dts))
    return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--gnuplot")
    ap.add_argument("--targets-only", action="store_true")
    ap.add_argument("csv", nargs="+")
    a = ap.parse_args()
    passes = [Pass(load(c)) for c in a.csv]

    if a.targets_only:
        gate = next((p for p in passes if p.name == "icount"), passes[-1])
        for p in passes:
            if p is not gate and p.targets:
                print(f"Targets of pass {p.name} (not gated: see doc/bench.md):")
                print("\n".join(p.target_lines(f"  {p.name}: ")))
        print(f"Targets of pass {gate.name}:")
        print("\n".join(gate.target_lines()))
        return

    md = "\n".join(markdown(p) for p in passes)
    print(md)
    if not a.out:
        return
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(md + "\n")
    for p in passes:
        for kind, dat, nblocks, dts in write_dat(p, a.out):
            png = os.path.join(a.out, f"{p.name}-{kind}.png")
            if not a.gnuplot or not nblocks:
                continue
            cmd = ["gnuplot", "-e",
                   f"dat='{dat}'; png='{png}'; kind='{kind}'; pass='{p.name}'; "
                   f"nblocks={nblocks}; dts='{dts}'", a.gnuplot]
            try:
                subprocess.run(cmd, check=True)
                print(f"report: wrote {png}", file=sys.stderr)
            except (OSError, subprocess.CalledProcessError) as e:
                print(f"report: gnuplot failed for {png}: {e}", file=sys.stderr)
    print(f"report: wrote {os.path.join(a.out, 'results.md')}", file=sys.stderr)


if __name__ == "__main__":
    main()
