"""PyTorch peer of `bnrepro-bench engine`: the same CIFAR ResNets (He et al. 2016, option-A shortcuts,
BN after every conv or none with conv biases), the same step (forward + backward + SGD momentum 0.9,
weight decay 1e-4), batch 128, float32, synthetic data; eager mode, or with --compile the model and the
training step compiled by torch.compile (inductor on CPU; compile time excluded from the rates and printed
as compileSeconds). Prints one JSON line per model in the engine benchmark's schema.
Usage: torch_resnet.py --depths 20,56,110 [--bn yes|no|both] [--steps N] [--compile]
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride, bn):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=not bn)
        self.bn1 = nn.BatchNorm2d(cout) if bn else nn.Identity()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=not bn)
        self.bn2 = nn.BatchNorm2d(cout) if bn else nn.Identity()
        self.stride, self.extra = stride, cout - cin

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = x
        if self.stride != 1 or self.extra:
            # Option A: subsample, then append zero channels (as the Swift engine does).
            sc = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.extra))
        return F.relu(out + sc)


class ResNet(nn.Module):
    def __init__(self, depth, bn, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv = nn.Conv2d(3, 16, 3, 1, 1, bias=not bn)
        self.bn = nn.BatchNorm2d(16) if bn else nn.Identity()
        layers, cin = [], 16
        for stage, width in enumerate([16, 32, 64]):
            for i in range(n):
                layers.append(Block(cin, width, 2 if stage > 0 and i == 0 else 1, bn))
                cin = width
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn(self.conv(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def measure(depth, bn, batch, steps, warmup, compiled):
    torch.manual_seed(1)
    model = ResNet(depth, bn)
    opt = torch.optim.SGD(model.parameters(), lr=0.01 if bn else 1e-7, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(batch, 3, 32, 32)
    y = torch.arange(batch) % 10
    # The compiled module shares the eager one's parameters, so the optimiser steps both.
    net = torch.compile(model) if compiled else model

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()

    # The first calls compile (training graph, then the eval graph): timed apart, never in the rates.
    compile_seconds = 0.0
    model.train()
    t0 = time.perf_counter()
    for _ in range(warmup):
        step()
    compile_seconds += time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    train = steps * batch / (time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(max(1, warmup)):
            net(x)
        compile_seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(steps):
            net(x)
        infer = steps * batch / (time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"model": f"ResNet-{depth}", "depth": depth, "bn": bn, "batch": batch, "compiled": compiled,
            "compileSeconds": compile_seconds if compiled else 0.0,
            "trainImagesPerSecond": train, "inferImagesPerSecond": infer, "peakRSSMiB": peak}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depths", default="20,56,110")
    ap.add_argument("--bn", default="both", choices=["yes", "no", "both"])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (inductor)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    for depth in [int(d) for d in a.depths.split(",")]:
        for bn in {"yes": [True], "no": [False], "both": [True, False]}[a.bn]:
            steps = a.steps or max(3, 600 // depth)
            print(json.dumps(measure(depth, bn, a.batch, steps, a.warmup, a.compile)), flush=True)


if __name__ == "__main__":
    main()
