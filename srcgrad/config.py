"""Compiler switches. Both default on; tests turn them off to get the reference
per-op chain-rule backward that fusion and sympy simplification must agree with."""

#: fuse elementwise regions into sympy kernels (off: one kernel per elementwise op)
fuse_elementwise = True
#: run the budgeted sympy simplification on derivative formulas
simplify = True
#: write a segment of a traced run that repeats (a Python loop) back as a loop
reroll = True
#: a re-rolled loop's backward runs its forward again a segment at a time rather than
#: keeping every iteration's values (ir/checkpoint.py): "auto" for loops that would keep
#: far more than their checkpoints, and more than twice what an iteration holds (a quarter
#: of a megabyte at least), True for every loop it makes smaller, an int for
#: segments of that many iterations in every longer loop, False never
checkpoint_loops = "auto"


#: a program over the rows of tall arrays, each row computed alike, runs a block of rows
#: at a time (codegen/blocks.py): intermediates of a block's size, not whole arrays
row_blocks = True


#: where compiled functions are kept between processes: None for the per-user default
#: ($SRCGRAD_CACHE_DIR, else $XDG_CACHE_HOME/srcgrad, else ~/.cache/srcgrad), a path, or
#: False to turn the disk cache off (also: SRCGRAD_CACHE=0 in the environment)
cache_dir = None


#: the compiler's large-array thresholds (module, attribute): constants, which tests set to
#: take every large-array form on small arrays, or none; part of the disk cache's key
THRESHOLDS = (("srcgrad.codegen.kernels", "IN_PLACE_SIZE"), ("srcgrad.ir.contract", "MIN_SIZE"),
              ("srcgrad.ops.reduction", "EINSUM_SUM_SIZE"), ("srcgrad.codegen.buffers", "MIN_SIZE"),
              ("srcgrad.ir.share", "MIN_SIZE"), ("srcgrad.ops.linalg", "CROSS_COMPONENTS_SIZE"),
              ("srcgrad.codegen.layout", "MIN_ROWS"), ("srcgrad.codegen.release", "MIN_SIZE"))


def thresholds():
    """The thresholds' current values."""
    import importlib
    return tuple(getattr(importlib.import_module(m), a) for m, a in THRESHOLDS)


def key():
    """The part of every compile-cache key that depends on these switches."""
    return (fuse_elementwise, simplify, reroll, checkpoint_loops, row_blocks)
