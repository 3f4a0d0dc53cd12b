"""The benchmark workloads, one module each.

Every module is an ordinary numpy program plus a little metadata for the runner:

    SIZES                    {"tiny": {...}, "small": {...}, "full": {...}}: the size parameters
    make_inputs(size)        the inputs (float64, from a seeded generator), a tuple
    forward(*inputs)         the numpy computation timed as F
    OBJECTIVES               scalar numpy functions handed, unmodified, to the AD tool's
                             value_and_grad (default: [forward])
    ARGNUMS                  which objective arguments are differentiated
    objective_args(*inputs)  the arguments every objective is called with (default: inputs)
    assemble(results)        the workload's derivative from the objectives' (value, grads)
                             (default: the first result)
    torch_objectives(torch)  optional: the same objectives written for PyTorch
    peers                    which np-rebound peers apply ("autograd", "jax"); default both

The numpy code reads `np` as a module global, so a fresh copy of the module with
`np` rebound to `autograd.numpy` or `jax.numpy` is the same program for HIPS autograd
and JAX (see benchmarks/tools.py).
"""
NAMES = ["seedloop", "mlp", "gmm", "lstm", "det", "ode", "ba"]
