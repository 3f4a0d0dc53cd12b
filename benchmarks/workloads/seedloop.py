"""The seed tutorial's loop: double y until its norm reaches 1000 (pure call overhead).

    y = x * 2
    while norm(y) < 1000: y = y * 2
    loss = sum(y * [0.1, 1.0, 1e-4])

x has 3 elements, so the numpy forward is a handful of microseconds and srcgrad's cost is
all per-call overhead: argument checks, guards, one generated function. The loop's trip
count is data-dependent: srcgrad checks it as a guard.
"""
import numpy as np

SIZES = {"tiny": {"n": 3}, "small": {"n": 3}, "full": {"n": 3}}
ARGNUMS = (0,)
WEIGHTS = np.array([0.1, 1.0, 1e-4])


def make_inputs(size):
    rng = np.random.default_rng(0)
    return (rng.standard_normal(SIZES[size]["n"]),)


def forward(x):
    y = x * 2
    while np.linalg.norm(y) < 1000:
        y = y * 2
    return np.sum(y * WEIGHTS)


def torch_objectives(torch):
    weights = torch.tensor(WEIGHTS)

    def seedloop(x):
        y = x * 2
        while y.norm() < 1000:
            y = y * 2
        return (y * weights).sum()
    return [seedloop]
