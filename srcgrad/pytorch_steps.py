"""torch.einsum and batched `@`, computed the way PyTorch computes them, for eager
torch-style code.

PyTorch records no einsum node and no node for a matrix product of more than two
dimensions: it permutes, expands and reshapes the operands and multiplies them with bmm or
mm. A program that prints `y.grad_fn` or walks `next_functions` sees those nodes, and an
in-place write into an einsum's result writes into a view of the product. Recording the
same steps with srcgrad's ops gives the same graph, values and gradients; inside a
function srcgrad compiles (numpy code) each stays one op.

einsum: one or two operands, letters without repeats inside an operand, no ellipsis
(anything else is the one-op einsum: the same values and gradients, another graph).
"""
import numpy as np

from .autograd.function import NODE, class_named, operand_edges
from .autograd.recording import named, not_a_view


def _label_order(c):
    """PyTorch numbers labels A-Z before a-z."""
    return (c.islower(), c)


def pytorch_einsum(equation, operands):
    """The einsum of tensors as PyTorch's steps, or None where this does not apply."""
    eq = equation.replace(" ", "")
    if "." in eq or not 1 <= len(operands) <= 2:
        return None
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands) or any(len(set(t)) != len(t) or len(t) != x.ndim or not t.isalpha()
                                          for t, x in zip(terms, operands)):
        return None
    labels = "".join(terms)
    if arrow:
        if len(set(rhs)) != len(rhs) or not set(rhs) <= set(labels):
            return None
        out = list(rhs)
    else:  # (implicit output: the labels seen once, in PyTorch's order)
        out = sorted((c for c in set(labels) if labels.count(c) == 1), key=_label_order)
    position = {c: k for k, c in enumerate(out)}
    n_out = len(out)
    for c in sorted(set(labels) - set(out), key=_label_order):  # (then the contracted labels)
        position[c] = len(position)
    total = len(position)
    nontrivial = [0] * total  # per aligned axis: how many operands have it with size > 1
    ops = []
    for x, term in zip(operands, terms):
        perm = [-1] * total
        for d, c in enumerate(term):
            if x.shape[d] != 1:
                nontrivial[position[c]] += 1
            perm[position[c]] = d
        dim = len(term)
        for k in range(total):  # (a size-1 axis for each label this operand lacks)
            if perm[k] == -1:
                x = x.unsqueeze(dim)
                perm[k] = dim
                dim += 1
        ops.append(x.permute(*perm))
    while len(ops) > 1:
        a, b = ops[0], ops[1]
        summed, a_alone, b_alone = [], [], []
        for d in range(n_out, total):
            if a.shape[d] != 1 and b.shape[d] != 1:
                nontrivial[d] -= 1
                if nontrivial[d] == 1:
                    summed.append(d)
                    nontrivial[d] = 0
            elif nontrivial[d] == 1:  # (in one operand only: summed there first)
                if a.shape[d] != 1:
                    a_alone.append(d)
                    nontrivial[d] = 0
                elif b.shape[d] != 1:
                    b_alone.append(d)
                    nontrivial[d] = 0
        if a_alone:
            a = a.sum(a_alone, keepdim=True)
        if b_alone:
            b = b.sum(b_alone, keepdim=True)
        ops = [_product_summed(a, b, summed)] + ops[2:]
    result = ops[0]
    if total > n_out:
        if len(operands) > 1:  # (the contracted axes are of size 1 by now)
            return result.view(*result.shape[:n_out])
        return result.sum(list(range(n_out, total)))
    return result


def _product_summed(left, right, summed):
    """(left * right) summed over the axes `summed` (kept, of size 1), as one bmm."""
    if not summed:
        return left * right
    both, left_only, right_only = [], [], []
    sum_size = 1
    for i in range(left.ndim):
        sl, sr = left.shape[i] != 1, right.shape[i] != 1
        if i in summed:
            if sl and sr:
                sum_size *= left.shape[i]
            elif sl:
                left = left.sum(i, keepdim=True)
            elif sr:
                right = right.sum(i, keepdim=True)
        elif sl and sr:
            both.append(i)
        elif sl:
            left_only.append(i)
        else:
            right_only.append(i)
    size = _sizes(left, right)
    out_size = [size[d] for d in both + left_only] + [1] * len(summed) + [size[d] for d in right_only]
    order = both + left_only + list(summed) + right_only
    inverse = [0] * len(order)
    for k, d in enumerate(order):
        inverse[d] = k
    lro, lo, ro = (_product(size[d] for d in ds) for ds in (both, left_only, right_only))
    left = left.permute(*order).reshape(lro, lo, sum_size)
    right = right.permute(*(both + list(summed) + right_only + left_only)).reshape(lro, sum_size, ro)
    return left.bmm(right).view(*out_size).permute(*inverse)


def _sizes(left, right):
    return [max(a, b) for a, b in zip(left.shape, right.shape)]


def _product(values):
    p = 1
    for v in values:
        p *= v
    return p


# -- a @ b with an operand of three dimensions or more ------------------------------------------
def pytorch_matmul(a, b):
    """a @ b as PyTorch's matmul computes it when an operand has 3 dimensions or more: a
    matrix-vector or matrix product of the larger one folded to a matrix where that copies
    nothing or saves a large gradient, else a bmm of both expanded to the batch shape."""
    if a.ndim == 3 and b.ndim == 3 and a.shape[0] != b.shape[0]:
        if a.shape[0] == 1 and a.requires_grad:
            return pytorch_matmul(a.squeeze(0), b)
        if b.shape[0] == 1 and b.requires_grad:
            return pytorch_matmul(a, b.squeeze(0))
    if a.ndim < 3 and b.ndim < 3:
        return a @ b
    if _should_fold(a, b):
        transpose = b.ndim > a.ndim
        t1 = b.mT if transpose else a
        t2 = (a.t() if a.ndim == 2 else a) if transpose else b
        shape = t1.shape[:-1]
        folded = t1.reshape(int(np.prod(shape)), t1.shape[-1])
        if t2.ndim == 2:
            out = _unsafe_view(folded.mm(t2), shape + (t2.shape[1],))
            return out.mT.contiguous() if transpose else out
        return _unsafe_view(folded.mv(t2), shape)
    n = a.shape[-2] if a.ndim > 1 else 1
    m1, m2 = a.shape[-1], (b.shape[-2] if b.ndim > 1 else b.shape[0])
    p = b.shape[-1] if b.ndim > 1 else 1
    batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    count = int(np.prod(batch))
    left = a.expand(*batch, n, m1).reshape(count, n, m1)
    if b.ndim == 1:
        right = b.expand(*batch, m2).reshape(count, m2).unsqueeze(2)
        return _unsafe_view(left.bmm(right).squeeze(-1), batch + (n,))
    right = b.expand(*batch, m2, p).reshape(count, m2, p)
    return _unsafe_view(left.bmm(right), batch + ((n,) if a.ndim > 1 else ()) + (p,))


def _should_fold(a, b):
    """Whether PyTorch folds the larger operand into a matrix (mm or mv rather than bmm):
    the other has at most 2 dimensions, and it requires grad or the fold copies nothing."""
    a_larger = a.ndim >= b.ndim
    t1 = a if a_larger else b.mT
    other = b if a_larger else a
    if not (t1.ndim >= 3 and other.ndim <= 2):
        return False
    if other.requires_grad:
        return True
    if a.ndim == 2:
        return False
    if t1.numel() == 0:
        return True
    data = t1.detach().numpy()
    return all(data.strides[i] == data.strides[i + 1] * data.shape[i + 1] for i in range(t1.ndim - 2))


def _unsafe_view(t, shape):
    """PyTorch's _unsafe_view of a result of its own: UnsafeViewBackward0, and not a view
    (an in-place write into it is its own: ReluBackward0, not CopySlices)."""
    return not_a_view(named(t.reshape(*shape), "UnsafeViewBackward0"))


def vector_matrix_nodes(r, a, b):
    """`v @ M` is one op in srcgrad, and in PyTorch a row matrix's product squeezed in
    place: SqueezeBackward4 over MmBackward0 over (UnsqueezeBackward0 of v, M). Those
    nodes are shown over the one op (for next_functions only: nothing runs through them),
    so that a loop of `h @ W` stays one op per step to re-roll."""
    fn = r.grad_fn
    if fn is None:
        return r
    named(r, "SqueezeBackward4")
    ea, eb = operand_edges([a, b])
    unsqueeze = class_named("UnsqueezeBackward0")(fn.op, fn.attrs, (), None, (), fn.loc)
    unsqueeze.pytorch_inputs = (ea,)
    mm = class_named("MmBackward0")(fn.op, fn.attrs, (), None, (), fn.loc)
    mm.pytorch_inputs = ((NODE, (unsqueeze, 0)), eb)
    fn.pytorch_inputs = ((NODE, (mm, 0)),)
    return r

