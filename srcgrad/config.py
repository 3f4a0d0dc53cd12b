"""Compiler switches. Both default on; tests turn them off to get the reference
per-op chain-rule backward that fusion and sympy simplification must agree with."""

#: fuse elementwise regions into sympy kernels (off: one kernel per elementwise op)
fuse_elementwise = True
#: run the budgeted sympy simplification on derivative formulas
simplify = True


def key():
    """The part of every compile-cache key that depends on these switches."""
    return (fuse_elementwise, simplify)
