"""The benchmark suite's correctness checks, at the tiny size (no timing is asserted here).

Every workload in benchmarks/workloads is differentiated by srcgrad exactly as the
benchmark does it (value_and_grad of its unmodified numpy objectives) and checked
against central finite differences along random directions.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.harness import (GradientMismatch, Prepared, Srcgrad, check_gradient,  # noqa: E402
                                load_workload)
from benchmarks.workloads import NAMES  # noqa: E402


@pytest.mark.parametrize("name", NAMES)
def test_srcgrad_gradient_matches_finite_differences(name):
    prepared = Prepared(name, Srcgrad(), "tiny")
    results = prepared.gradient()
    assert prepared.check(results) <= 1
    # a second call runs the compiled code only, and agrees with the first
    again = prepared.gradient()
    for (v1, g1), (v2, g2) in zip(results, again):
        assert np.allclose(v1, v2, rtol=1e-12, atol=0)
        for a, b in zip(g1, g2):
            assert np.allclose(a, b, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", NAMES)
def test_value_is_the_numpy_objective(name):
    mod = load_workload(name)
    prepared = Prepared(name, Srcgrad(), "tiny")
    results = prepared.gradient()
    from benchmarks.harness import objective_args, objectives
    args = objective_args(mod, prepared.inputs)
    for fn, (value, _) in zip(objectives(mod), results):
        assert np.isclose(value, fn(*args), rtol=1e-12, atol=1e-12)


def test_every_workload_declares_its_sizes():
    for name in NAMES:
        mod = load_workload(name)
        assert set(mod.SIZES) == {"tiny", "small", "full"}, name
        for size in mod.SIZES:
            inputs = mod.make_inputs(size)
            for a in inputs:
                if isinstance(a, np.ndarray) and a.dtype.kind == "f":
                    assert a.dtype == np.float64


def test_the_check_catches_a_wrong_gradient():
    def f(x):
        return np.sum(np.sin(x) * x)
    x = np.linspace(0.1, 1.0, 7)
    right = np.cos(x) * x + np.sin(x)
    assert check_gradient(f, (x,), (0,), [right]) <= 1
    with pytest.raises(GradientMismatch):
        check_gradient(f, (x,), (0,), [right * 1.001])
    with pytest.raises(GradientMismatch):
        check_gradient(f, (x,), (0,), [right[:-1]])


def test_runner_prints_a_table():
    env = dict(os.environ)
    out = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "run.py"), "--size", "tiny",
                          "--only", "seedloop", "--tools", "srcgrad", "--min-time", "0.01",
                          "--timeout", "120"], capture_output=True, text=True, env=env, timeout=180)
    assert out.returncode == 0, out.stderr
    rows = [ln for ln in out.stdout.splitlines() if ln.startswith("| seedloop")]
    assert len(rows) == 1
    assert "ok (" in rows[0]


@pytest.mark.parametrize("name", [n for n in NAMES if hasattr(load_workload(n), "gradient_by_hand")])
def test_the_gradients_written_by_hand_are_srcgrads(name):
    """benchmarks/by_hand.py's references compute the same value and gradient, in each of
    their settings (ode: a checkpoint every step, every second step)."""
    import srcgrad
    mod = load_workload(name)
    for size in ("tiny", "small"):
        inputs = mod.make_inputs(size)
        value, grads = srcgrad.value_and_grad(mod.forward, argnums=mod.ARGNUMS)(*inputs)
        for setting in getattr(mod, "HAND_SETTINGS", ({},)):
            hand_value, hand_grads = mod.gradient_by_hand(*inputs, **setting)
            assert np.isclose(value, hand_value, rtol=1e-12)
            for a, b in zip(grads, hand_grads):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
