#!/usr/bin/python3
"""PyTorch twin of bench_conv: one training step of pytorch/examples' MNIST Net (without the
dropouts, as bench_conv) at batch 64 on random Float32 images, median of N steps.
Usage: torch_conv_bench.py [steps]  (torch.set_num_threads(1))"""
import statistics
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
conv1, conv2 = torch.nn.Conv2d(1, 32, 3), torch.nn.Conv2d(32, 64, 3)
fc1, fc2 = torch.nn.Linear(9216, 128), torch.nn.Linear(128, 10)
params = [p for m in (conv1, conv2, fc1, fc2) for p in m.parameters()]
optimizer = torch.optim.Adadelta(params, lr=1.0)
x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
times = []
for i in range(steps + 3):
    start = time.perf_counter()
    optimizer.zero_grad()
    h = torch.flatten(F.max_pool2d(F.relu(conv2(F.relu(conv1(x)))), 2), 1)
    F.cross_entropy(fc2(F.relu(fc1(h))), y).backward()
    optimizer.step()
    if i >= 3:
        times.append((time.perf_counter() - start) * 1000)
print(f"torch {torch.__version__} mnist-cnn step (batch 64): median "
      f"{statistics.median(times):.2f} ms over {steps}")
