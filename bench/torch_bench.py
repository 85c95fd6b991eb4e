#!/usr/bin/python3
"""PyTorch twins of bench_train's workloads (Debian's python3-torch). Same models, data,
optimizer and batch order conventions; prints the same closing lines.
  torch_bench.py fmnist [--threads N] [--epochs E]   (torch.set_num_threads(1); OpenBLAS
                                                      threads come from OPENBLAS_NUM_THREADS=N)
  torch_bench.py tiny [--steps S]
  torch_bench.py cnn [--threads N] [--batches B]    (torch.set_num_threads(N): its convolutions
                                                      use PyTorch's own threads)
  torch_bench.py charrnn [--steps S]                (one thread; S defaults to 200 here)
  torch_bench.py charlstm [--steps S]               (the same model with an LSTM)
"""
import argparse
import gzip
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch


def load_idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def fmnist(threads, epochs, data_dir):
    torch.set_num_threads(1)  # PyTorch's best here; OpenBLAS threads via OPENBLAS_NUM_THREADS
    images = load_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))
    labels = load_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.reshape(-1, 784).astype(np.float32) / 255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    print(f"W1 fmnist-mlp (PyTorch {torch.__version__}): OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                torch.nn.ReLU(), torch.nn.Linear(128, 10))
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.99, eps=1e-8)
    times = []
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(x))
        start = time.perf_counter()
        total = 0.0
        batches = 0
        for first in range(0, len(x), 128):
            rows = order[first:first + 128]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[rows]), y[rows])
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        times.append(time.perf_counter() - start)
        print(f"epoch {epoch}: {times[-1]:.3f} s, mean loss {total / batches:.4f}")
    print(f"median seconds per epoch: {statistics.median(times):.4f}")
    print(f"peak RSS MiB: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")


def tiny(steps):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = torch.randn(1024, 13)
    y = torch.sin(x).sum(1, keepdim=True) + 0.1 * torch.randn(1024, 1)
    model = torch.nn.Sequential(torch.nn.Linear(13, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)

    def run(count):
        for s in range(count):
            first = (s % 32) * 32
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x[first:first + 32]), y[first:first + 32]).backward()
            optimizer.step()

    run(500)
    start = time.perf_counter()
    run(steps)
    elapsed = time.perf_counter() - start
    print(f"W2 tiny-mlp (PyTorch {torch.__version__}): 1 thread, {steps} steps")
    print(f"microseconds per step: {elapsed / steps * 1e6:.3f}")


def cnn(threads, batches, data_dir):
    torch.set_num_threads(threads)
    images = load_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))
    labels = load_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    print(f"W3 fmnist-cnn (PyTorch {torch.__version__}): {threads} thread(s)")
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(),
                          nn.Dropout(0.25), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.randperm(len(x))
    times = []
    for step in range(10 + batches):
        rows = order[step * 64:(step + 1) * 64]
        start = time.perf_counter()
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x[rows]), y[rows]).backward()
        optimizer.step()
        if step >= 10:
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"median milliseconds per step: {median * 1e3:.2f}")
    print(f"median seconds per epoch: {median * ((len(x) + 63) // 64):.2f}")
    print(f"peak RSS MiB: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")


def charrnn(steps, lstm=False):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    vocab, batch, length = 54, 64, 32
    batches = [(torch.randint(vocab, (batch, length)), torch.randint(vocab, (batch * length,)))
               for _ in range(16)]
    nn = torch.nn
    cell = nn.LSTM if lstm else nn.GRU
    embedding, gru, head = nn.Embedding(vocab, 32), cell(32, 128, batch_first=True), nn.Linear(128, vocab)
    parameters = [*embedding.parameters(), *gru.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=3e-3)
    times = []
    for step in range(10 + steps):
        x, y = batches[step % len(batches)]
        start = time.perf_counter()
        optimizer.zero_grad()
        output, _ = gru(embedding(x))
        torch.nn.functional.cross_entropy(head(output.reshape(batch * length, 128)), y).backward()
        optimizer.step()
        if step >= 10:
            times.append(time.perf_counter() - start)
    print(f"W4 char-rnn{' (LSTM)' if lstm else ''} (PyTorch {torch.__version__}): 1 thread, {steps} steps")
    print(f"median milliseconds per step: {statistics.median(times) * 1e3:.3f}")
    print(f"peak RSS MiB: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=["fmnist", "tiny", "cnn", "charrnn", "charlstm"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--steps", type=int)  # tiny: 20000, charrnn and charlstm: 200
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    if args.workload == "fmnist":
        fmnist(args.threads, args.epochs, args.data_dir)
    elif args.workload == "cnn":
        cnn(args.threads, args.batches, args.data_dir)
    elif args.workload in ("charrnn", "charlstm"):
        charrnn(args.steps or 200, lstm=args.workload == "charlstm")
    else:
        tiny(args.steps or 20000)


if __name__ == "__main__":
    sys.exit(main())
