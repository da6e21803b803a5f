"""Which oneDNN convolution kernels PyTorch runs for the benchmark's ResNets, and how much of a batch they
take: one batch after warm-up with oneDNN's verbose log on, its primitives' times summed by kind and
implementation, beside the batch's wall time (the rest is PyTorch's own code: inductor's fused C++ kernels
when compiled). Eager or torch.compile, inference (eval, no_grad) or training. Not part of CI.
Usage: torch_conv_kernels.py --depth 110 --bn yes|no [--compile] [--train] [--batches 3]
"""
import argparse
import collections
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_resnet import ResNet  # noqa: E402


def verbose_lines(run):
    """oneDNN's verbose lines printed (by the C library, to fd 1) while `run` executes; through a file,
    since a pipe left unread while an eager net logs hundreds of calls fills and blocks."""
    import tempfile
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+") as log:
        os.dup2(log.fileno(), 1)
        try:
            with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
                run()
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
        log.seek(0)
        return [line for line in log.read().splitlines() if line.startswith("onednn_verbose,") and ",exec," in line]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=110)
    ap.add_argument("--bn", choices=["yes", "no"], default="yes")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--batches", type=int, default=3)
    a = ap.parse_args()
    torch.manual_seed(1)
    model = ResNet(a.depth, a.bn == "yes")
    net = torch.compile(model) if a.compile else model
    x, y = torch.randn(128, 3, 32, 32), torch.arange(128) % 10
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)

    def batch():
        if a.train:
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(net(x), y).backward()
            opt.step()
        else:
            with torch.no_grad():
                net(x)

    model.train(a.train)
    batch(); batch()  # compile and warm up
    walls = []
    for _ in range(a.batches):
        t0 = time.perf_counter(); batch(); walls.append(time.perf_counter() - t0)
    lines = verbose_lines(batch)
    totals = collections.defaultdict(float)
    for line in lines:
        f = line.split(",")
        # onednn_verbose,[timestamp,]exec,cpu,<primitive>,<implementation>,<prop>,<formats>,...,<ms>
        i = f.index("exec")
        key = f"{f[i + 2]} {f[i + 3]} {f[i + 4]} src {f[i + 5].split()[0].split(':')[4] if f[i + 5].count(':') >= 4 else '?'}"
        totals[key] += float(f[-1])
    mode = ("compiled" if a.compile else "eager") + (" training" if a.train else " inference")
    print(f"ResNet-{a.depth} {'with' if a.bn == 'yes' else 'without'} BN, {mode}, batch 128, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}")
    best = min(walls) * 1000
    print(f"  batch wall: best of {a.batches} {best:.1f} ms (the logged batch {sum(totals.values()):.1f} ms in oneDNN)")
    for key, ms in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {ms:8.1f} ms  {key}")


if __name__ == "__main__":
    main()
