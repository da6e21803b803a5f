"""Runs the Swift engine benchmark and the PyTorch peer, eager and torch.compile'd, row by row (alternating,
so that load from other jobs on a shared machine falls on all alike), each row in a fresh process (peak
memory is per model), and prints them side by side with the ratios Swift / eager and Swift / compiled.
The compiled rates exclude compilation, whose time is printed in its own column.
Usage: compare.py BNREPRO_BENCH PYTHON [--depths 20,56,110] [--steps N] [--no-compile]
"""
import argparse
import json
import os
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
    a = ap.parse_args()
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
    for depth in a.depths.split(","):
        for bn in ["yes", "no"]:
            s = run([a.swift_bench, "engine", "--json", "--depths", depth, "--bn", bn, "--steps", a.steps])
            torch_cmd = [a.python, os.path.join(here, "torch_resnet.py"), "--depths", depth, "--bn", bn, "--steps", a.steps]
            e = run(torch_cmd)
            c = None if a.no_compile else run(torch_cmd + ["--compile"])

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
