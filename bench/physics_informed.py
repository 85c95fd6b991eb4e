#!/usr/bin/python3
"""PyTorch 1.13 twin of examples/physics_informed.cpp: the same network, loss, optimizers and
steps, timed the same way. Run: /usr/bin/python3 bench/physics_informed.py [adam_steps lbfgs_steps]
(bench/compare.sh runs both alternately: its "physics_informed" row)."""
import math
import sys
import time

import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
torch.manual_seed(0)
adam_steps = int(sys.argv[1]) if len(sys.argv) > 1 else 500
lbfgs_steps = int(sys.argv[2]) if len(sys.argv) > 2 else 4

u_of = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32),
                           torch.nn.Tanh(), torch.nn.Linear(32, 1))
x = torch.linspace(0, 1, 64).reshape(64, 1).requires_grad_()
ends = torch.tensor([[0.0], [1.0]])


def derivative(u, x):
    return torch.autograd.grad(u, x, torch.ones_like(u), create_graph=True)[0]


def pinn_loss():
    u = u_of(x)
    u_xx = derivative(derivative(u, x), x)
    residual = u_xx + math.pi ** 2 * torch.sin(math.pi * x.detach())
    return (residual * residual).mean() + u_of(ends).square().sum()


start = time.perf_counter()
adam = torch.optim.Adam(u_of.parameters(), lr=1e-2)
for step in range(adam_steps):
    adam.zero_grad()
    loss = pinn_loss()
    loss.backward()
    adam.step()
lbfgs = torch.optim.LBFGS(u_of.parameters(), max_iter=200, tolerance_grad=1e-12,
                          tolerance_change=1e-15, line_search_fn="strong_wolfe")


def closure():
    lbfgs.zero_grad()
    value = pinn_loss()
    value.backward()
    return value


for step in range(lbfgs_steps):
    loss = lbfgs.step(closure)
seconds = time.perf_counter() - start
with torch.no_grad():
    grid = torch.linspace(0, 1, 1001).reshape(1001, 1)
    error = u_of(grid) - torch.sin(math.pi * grid)
print(f"trained in {seconds:.2f} s")
print(f"L2 error {error.square().mean().sqrt().item():.3e}  max error {error.abs().max().item():.3e}")
