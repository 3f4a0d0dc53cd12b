#!/usr/bin/env python
"""srcgrad's gradient beside a gradient written by hand in numpy, in one process.

    python benchmarks/by_hand.py [--size full] [--min-time 0.5] [--only ode]
                                 [--checkpoint-loops auto|True|False|K]

For each workload that has `gradient_by_hand` (mlp, ode; ode's in the settings of its
HAND_SETTINGS: a checkpoint every step, every second step): F (the numpy forward), H (the
hand-written value and gradient), G (srcgrad's, under srcgrad.config.checkpoint_loops as
given), with H/F and G/F — the issue's "what a hand-written numpy gradient achieves"
measured on this machine, not assumed — and the peak memory of H and G over F's, with the
arguments (the harness's measure). The three are timed in turns, several rounds, and the
medians reported, so that a noisy neighbour slows all three alike.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.harness import load_workload, peak_memory  # noqa: E402


def _per_call(fn, min_time):
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time and calls >= 3:
            return elapsed / calls


def _mode(text):
    return {"auto": "auto", "True": True, "False": False}.get(text) or int(text)


def main():
    import srcgrad
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="full")
    ap.add_argument("--min-time", type=float, default=0.5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default=None)
    ap.add_argument("--checkpoint-loops", type=_mode, default="auto")
    args = ap.parse_args()
    srcgrad.config.checkpoint_loops = args.checkpoint_loops
    for name in [args.only] if args.only else ["mlp", "ode"]:
        mod = load_workload(name)
        inputs = mod.make_inputs(args.size)
        arg_bytes = sum(getattr(a, "nbytes", 0) for a in inputs)
        g = srcgrad.value_and_grad(mod.forward, argnums=mod.ARGNUMS)
        value, grads = g(*inputs)
        for setting in getattr(mod, "HAND_SETTINGS", ({},)):
            def hand():
                return mod.gradient_by_hand(*inputs, **setting)
            hand_value, hand_grads = hand()
            assert np.isclose(value, hand_value, rtol=1e-12)
            for a, b in zip(grads, hand_grads):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
            times = {"F": [], "H": [], "G": []}
            for _ in range(args.rounds):
                times["F"].append(_per_call(lambda: mod.forward(*inputs), args.min_time / args.rounds))
                times["H"].append(_per_call(hand, args.min_time / args.rounds))
                times["G"].append(_per_call(lambda: g(*inputs), args.min_time / args.rounds))
            F, H, G = (statistics.median(times[k]) for k in "FHG")
            mem = {k: peak_memory(fn) + arg_bytes for k, fn in
                   (("F", lambda: mod.forward(*inputs)), ("H", hand), ("G", lambda: g(*inputs)))}
            label = f"{name} ({args.size}{''.join(f', {k}={v}' for k, v in setting.items())})"
            print(f"{label}: F {F * 1e3:.3f} ms, by hand H {H * 1e3:.3f} ms (H/F {H / F:.2f}, memory "
                  f"{mem['H'] / mem['F']:.2f}), srcgrad G {G * 1e3:.3f} ms (G/F {G / F:.2f}, memory "
                  f"{mem['G'] / mem['F']:.2f}; checkpoint_loops={args.checkpoint_loops!r}), G/H {G / H:.2f}")


if __name__ == "__main__":
    main()
