"""Runs the Swift engine benchmark and the PyTorch peer, eager and torch.compile'd, row by row (alternating,
so that load from other jobs on a shared machine falls on all alike), each row in a fresh process (peak
memory is per model), and prints them side by side with the ratios Swift / eager and Swift / compiled.
The compiled rates exclude compilation, whose time is printed in its own column.
With --repeat N each row runs N times, the three engines in a rotated order each time, and a summary gives
per row the median of the N paired ratios (one repetition's three runs are minutes apart, so a ratio is
taken within a repetition) with their range: on a shared host whose rates move 20-30 % between runs, one
run cannot say whether a row is above 1.3x.
Usage: compare.py BNREPRO_BENCH PYTHON [--depths 20,56,110] [--steps N] [--no-compile] [--repeat N]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "2"}).stdout
    return json.loads([l for l in out.splitlines() if l.startswith("{")][-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("swift_bench")
    ap.add_argument("python")
    ap.add_argument("--depths", default="20,56,110")
    ap.add_argument("--steps", default="0")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile column")
    ap.add_argument("--repeat", type=int, default=1, help="runs per row, engines in rotated order; then a summary of medians")
    a = ap.parse_args()
    if a.repeat < 1:
        ap.error("--repeat must be at least 1")
    here = os.path.dirname(os.path.abspath(__file__))
    load = os.getloadavg()[0]
    print(f"batch 128, 2 threads, float32, train = forward + backward + SGD step; load average at start {load:.1f} "
          "(the machine may be shared: numbers are noisy); images/s; eager = PyTorch eager, compiled = torch.compile "
          "(inductor), its compile time in s excluded from its rates; % peak counts direct-convolution FLOPs")
    hdr = (f"{'model':<11}{'BN':<4}{'swift':>8}{'eager':>8}{'compiled':>9}{'×eager':>7}{'×comp':>7}{'% peak':>7}   "
           f"{'swift':>8}{'eager':>8}{'compiled':>9}{'×eager':>7}{'×comp':>7}   {'compile s':>9}   {'swift MiB':>9}{'torch MiB':>10}")
    print(f"{'':<15}{'--------------- training ---------------':^46}   {'------------ inference ------------':^39}")
    print(hdr)
    print("-" * len(hdr))
    summary = []
    for depth in a.depths.split(","):
        for bn in ["yes", "no"]:
            torch_cmd = [a.python, os.path.join(here, "torch_resnet.py"), "--depths", depth, "--bn", bn, "--steps", a.steps]
            commands = {"swift": [a.swift_bench, "engine", "--json", "--depths", depth, "--bn", bn, "--steps", a.steps],
                        "eager": torch_cmd}
            if not a.no_compile:
                commands["compiled"] = torch_cmd + ["--compile"]
            ratios = []
            for repetition in range(a.repeat):
                names = list(commands)
                names = names[repetition % len(names):] + names[:repetition % len(names)]
                results = {name: run(commands[name]) for name in names}
                s, e, c = results["swift"], results["eager"], results.get("compiled")
                ratios.append(print_row(s, e, c, bn))
            summary.append((s["model"], bn, ratios))
    if a.repeat > 1:
        print_summary(summary, a.repeat)
    return 0


def print_row(s, e, c, bn):
    """One line of the table; returns the row's four ratios (swift over eager and compiled, training and
    inference)."""
    def rate(r, kind):
        return r[kind] if r else float("nan")

    st, si = s["trainImagesPerSecond"], s["inferImagesPerSecond"]
    print(f"{s['model']:<11}{bn:<4}{st:>8.1f}{rate(e, 'trainImagesPerSecond'):>8.1f}{rate(c, 'trainImagesPerSecond'):>9.1f}"
          f"{st / rate(e, 'trainImagesPerSecond'):>7.2f}{st / rate(c, 'trainImagesPerSecond'):>7.2f}"
          f"{100 * s['trainGFLOPs'] / s['peakGFLOPs']:>6.0f}%   "
          f"{si:>8.1f}{rate(e, 'inferImagesPerSecond'):>8.1f}{rate(c, 'inferImagesPerSecond'):>9.1f}"
          f"{si / rate(e, 'inferImagesPerSecond'):>7.2f}{si / rate(c, 'inferImagesPerSecond'):>7.2f}   "
          f"{(c['compileSeconds'] if c else float('nan')):>9.1f}   "
          f"{s['peakRSSMiB']:>9.0f}{max(e['peakRSSMiB'], c['peakRSSMiB'] if c else 0):>10.0f}", flush=True)
    return (st / rate(e, 'trainImagesPerSecond'), st / rate(c, 'trainImagesPerSecond'),
            si / rate(e, 'inferImagesPerSecond'), si / rate(c, 'inferImagesPerSecond'))


def print_summary(summary, repeat):
    """Per row and ratio: the median of the repetitions' ratios, their range, and how many reach 1.3."""
    print(f"\nsummary over {repeat} repetitions per row: median ratio [min-max] (repetitions at >= 1.3x)")
    names = ["train x eager", "train x compiled", "infer x eager", "infer x compiled"]
    print(f"{'model':<11}{'BN':<4}" + "".join(f"{n:>24}" for n in names))
    for model, bn, ratios in summary:
        cells = []
        for k in range(4):
            values = [r[k] for r in ratios]
            cells.append(f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}] ({sum(v >= 1.3 for v in values)}/{len(values)})")
        print(f"{model:<11}{bn:<4}" + "".join(f"{c:>24}" for c in cells), flush=True)


if __name__ == "__main__":
    sys.exit(main())
