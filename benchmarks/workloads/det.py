"""Determinant by expansion in minors along the first row (GradBench's det_by_minor), 6x6.

Scalar-heavy recursion: a 6x6 determinant expands into 1956 minors and 720 products of
scalars; numpy spends its time in per-call overhead on tiny arrays.
"""
import numpy as np

SIZES = {"tiny": dict(n=3), "small": dict(n=4), "full": dict(n=6)}
ARGNUMS = (0,)


def make_inputs(size):
    rng = np.random.default_rng(0)
    n = SIZES[size]["n"]
    return (rng.standard_normal((n, n)),)


def det_by_minors(A):
    n = A.shape[0]
    if n == 1:
        return A[0, 0]
    total = 0.0
    for j in range(n):
        cols = [c for c in range(n) if c != j]
        term = A[0, j] * det_by_minors(A[1:, cols])
        total = total + term if j % 2 == 0 else total - term
    return total


def forward(A):
    return det_by_minors(A)


def torch_objectives(torch):
    def det(A):
        n = A.shape[0]
        if n == 1:
            return A[0, 0]
        total = 0.0
        for j in range(n):
            cols = [c for c in range(n) if c != j]
            term = A[0, j] * det(A[1:, cols])
            total = total + term if j % 2 == 0 else total - term
        return total
    return [det]
