#!/usr/bin/env python
"""Eager `backward()` through a Python loop, unrolled vs re-rolled, in one process.

    python benchmarks/eager_loop.py

An RNN written PyTorch-style (`h = tanh(xs[t] @ U + 0.5 * (h @ W))`, 16 units) for 100 and
1000 steps: the first backward (compiling) and the best of two later ones (cached), and
the length of the generated backward, with config.reroll off and on.
"""
import os
import sys
import time

os.environ.setdefault("SRCGRAD_CACHE", "0")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import srcgrad as torch  # noqa: E402
from srcgrad import config  # noqa: E402


def main():
    for T in (100, 1000):
        for reroll in (False, True):
            config.reroll = reroll
            torch.autograd.engine.clear_cache()
            torch.manual_seed(0)
            W = torch.randn(16, 16, dtype=torch.float64, requires_grad=True)
            U = torch.randn(8, 16, dtype=torch.float64, requires_grad=True)
            xs = torch.randn(T, 8, dtype=torch.float64)
            times = []
            for _ in range(3):
                h = torch.zeros(16, dtype=torch.float64)
                for t in range(T):
                    h = torch.tanh(xs[t] @ U + 0.5 * (h @ W))
                loss = (h ** 2).sum()
                start = time.perf_counter()
                loss.backward()
                times.append(time.perf_counter() - start)
            lines = len(torch.autograd.engine.last_compiled().source.splitlines())
            print(f"T={T} {'re-rolled' if reroll else 'unrolled '}: first backward {times[0]:.3f} s, "
                  f"later {min(times[1:]) * 1e3:.0f} ms, {lines} lines")


if __name__ == "__main__":
    main()
