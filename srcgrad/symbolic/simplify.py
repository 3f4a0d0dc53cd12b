"""Budgeted simplification: cheap, bounded sympy routines, kept only when they shrink.

Never `sympy.simplify()`: it is unbounded in time and often returns something larger.
Each routine here runs only on expressions under a size budget, and its result is kept
only if `count_ops` went down, so compile time stays roughly linear in the graph.
"""
import sympy as sp

#: expressions with more tree nodes than this are left exactly as built
SIZE_BUDGET = 300


def tree_size(e, limit=SIZE_BUDGET):
    """Number of nodes of `e` seen as a tree, counting no further than `limit`."""
    n = 0
    stack = [e]
    while stack:
        x = stack.pop()
        n += 1
        if n >= limit:
            return limit
        stack.extend(x.args)
    return n


def simplify_expr(e, budget=SIZE_BUDGET):
    from .. import config
    if not config.simplify or e.is_Atom or tree_size(e, budget) >= budget:
        return e
    best, cost = e, _cost(e)
    for rewrite in (sp.factor_terms,):
        try:
            cand = rewrite(e)
        except Exception:  # a sympy routine failing is never fatal: keep the plain form
            continue
        c = _cost(cand)
        if c < cost:
            best, cost = cand, c
    return best


def _cost(e):
    # operations first; on a tie, fewer and shorter constants read better
    return (sp.count_ops(e), len(e.atoms(sp.Number)), len(str(e)))
