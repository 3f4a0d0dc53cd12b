"""Formulas keep a number's product with a sum as written: `0.5 * (y + a / y)`.

sympy distributes a number over a sum as it builds the product (`0.5*y + 0.5*a/y`).
Substituting one step of a recurrence into the next then multiplies its terms: ten
Newton steps for a square root made formulas of hundreds of terms, and their
derivatives thousands. srcgrad builds and differentiates its formulas with that
distribution off (sympy's `distribute` parameter), inside its compile entry points only:
a user's own sympy code is left as it was.
"""
import functools

from sympy.core.parameters import distribute


def as_written(fn):
    """Run fn with sympy's distribution of numbers over sums off."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with distribute(False):
            return fn(*args, **kwargs)
    return run
