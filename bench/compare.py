"""Runs the Swift engine benchmark and the PyTorch peer row by row (alternating, so that load from other
jobs on a shared machine falls on both alike), each row in a fresh process (peak memory is per model),
and prints them side by side with the ratio Swift / PyTorch.
Usage: compare.py BNREPRO_BENCH PYTHON [--depths 20,56,110] [--steps N]
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
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    load = os.getloadavg()[0]
    print(f"batch 128, 2 threads, float32, train = forward + backward + SGD step; load average at start {load:.1f} "
          "(the machine may be shared: numbers are noisy)")
    hdr = (f"{'model':<11}{'BN':<4}{'swift train':>12}{'torch train':>12}{'ratio':>7}{'% peak':>8}   "
           f"{'swift infer':>12}{'torch infer':>12}{'ratio':>7}   {'swift MiB':>10}{'torch MiB':>10}")
    print(hdr)
    print("-" * len(hdr))
    for depth in a.depths.split(","):
        for bn in ["yes", "no"]:
            s = run([a.swift_bench, "engine", "--json", "--depths", depth, "--bn", bn, "--steps", a.steps])
            t = run([a.python, os.path.join(here, "torch_resnet.py"), "--depths", depth, "--bn", bn, "--steps", a.steps])
            print(f"{s['model']:<11}{bn:<4}{s['trainImagesPerSecond']:>12.1f}{t['trainImagesPerSecond']:>12.1f}"
                  f"{s['trainImagesPerSecond'] / t['trainImagesPerSecond']:>7.2f}{100 * s['trainGFLOPs'] / s['peakGFLOPs']:>7.0f}%   "
                  f"{s['inferImagesPerSecond']:>12.1f}{t['inferImagesPerSecond']:>12.1f}"
                  f"{s['inferImagesPerSecond'] / t['inferImagesPerSecond']:>7.2f}   "
                  f"{s['peakRSSMiB']:>10.0f}{t['peakRSSMiB']:>10.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
