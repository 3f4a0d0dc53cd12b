"""torch.einsum computed the way PyTorch computes it, for eager torch-style code.

PyTorch does not record an einsum node: it permutes each operand into one order of labels
(output labels first, then the contracted ones, a size-1 axis for each label an operand
lacks), and contracts a pair of operands as a batched matrix product (permute, reshape to
3-D, bmm, view, permute). A program that prints `y.grad_fn` or walks `next_functions`
sees those nodes, and an in-place write into the result writes into a view of the
product. Recording the same steps with srcgrad's ops gives the same graph, values and
gradients; inside a function srcgrad compiles (numpy code) einsum stays one op.

Covered: one or two operands, letters without repeats inside an operand, no ellipsis
(anything else is the one-op einsum, same values and gradients, another graph).
"""


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
