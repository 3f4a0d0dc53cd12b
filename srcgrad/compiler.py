"""The compiler pipeline shared by eager `backward()` and the decorators.

    recorded graph ─ fuse (forward kernels, costly intermediates kept) ─ differentiate
      (each op's rule appends IR) ─ fuse the backward on its own ─ DCE ─ codegen ─ load

Eager backward generates only the backward, reading the forward values it needs as
arguments (they exist already). A traced function generates forward and backward in
one function of the user's arguments.
"""
from .codegen.emit import generate
from .codegen.loader import load_function
import re

from . import config
from .ir.autodiff import backward as build_backward
from .ir.checkpoint import plan_checkpoints
from .ir.fusion import absorb_broadcasts, fuse
from .ir.contract import contract_sums
from .ir.cse import eliminate_common
from .ir.fold import fold_constant_inputs
from .ir.scatter import accumulate_scatters
from .ir.share import share_subformulas
from .ir.normalized import fold_normalized_sums
from .ir.remat import recompute_cheap_reads
from .ir.slices import push_slices
from .ir.graph import Graph
from .ir.passes import live_nodes, prune_kernel_outputs


def differentiate(g, roots, cotangents, wrt, observe=(), hooks=None, boundaries=(), one_function=False):
    """Fuse `g`'s forward, append its backward, fuse that. Returns (number of forward
    nodes, gradients of wrt, gradients of observe).

    one_function: forward and backward become one generated function, so a backward
    kernel may read a subformula the forward computes (ir/share.py) as a new output of
    the forward kernel; not for an eager backward, whose forward has already run.

    A cotangent may be a Value (an input of g) or "ones": the seed of a scalar loss, a
    constant that sympy then folds into the first derivative formulas."""
    # a value differentiated in (`autograd.grad(out, h)` for an intermediate h) or observed
    # stays a value of its own: fused into a kernel, its gradient would never be formed
    boundaries = set(boundaries) | {v.id for v in list(wrt) + list(observe) if v is not None}
    fuse(g, keep_costly=True, boundaries=boundaries)
    g.one_function = one_function
    n_fwd = len(g.nodes)
    cotangents = [g.filled(1, r) if isinstance(c, str) and c == "ones" else c for r, c in zip(roots, cotangents)]
    wrt_grads, obs_grads, all_grads = build_backward(g, roots, cotangents, wrt, hooks, observe)
    _name_gradients(g, n_fwd, all_grads)
    bwd = Graph("backward")
    bwd._ids = g._ids
    bwd.nodes = g.nodes[n_fwd:]
    bwd.outputs = [v for v in list(wrt_grads) + list(obs_grads) if v is not None]
    fuse(bwd)
    absorb_broadcasts(bwd)
    push_slices(bwd)
    fold_normalized_sums(bwd)
    fold_constant_inputs(bwd)
    accumulate_scatters(bwd)
    replaced = dict(zip([v.id for v in list(wrt_grads) + list(obs_grads) if v is not None], bwd.outputs))
    wrt_grads = [replaced.get(v.id, v) if v is not None else None for v in wrt_grads]
    obs_grads = [replaced.get(v.id, v) if v is not None else None for v in obs_grads]
    g.nodes = g.nodes[:n_fwd] + bwd.nodes
    if one_function:
        share_subformulas(g.nodes, n_fwd)
    return n_fwd, wrt_grads, obs_grads


def differentiate_body(body, wrt, carried=None):
    """The reverse of a loop body (ops/loop.py), fused: a graph whose inputs are the
    cotangents of `body.outputs` and which reads the body's forward values, computing the
    gradients of `wrt` (inputs of the body; zeros where none flows). `carried`: the
    body's inputs that change between iterations, when the backward may form cheap
    forward values again rather than have them saved (ir/remat.py); None: an eager
    backward, which reads the histories the recorded run made."""
    from .ir.graph import Value
    n_fwd = len(body.nodes)
    cts = [Value(body, o.shape, o.dtype, name="grad_" + o.name if o.name else None) for o in body.outputs]
    grads, _, all_grads = build_backward(body, body.outputs, cts, wrt)
    grads = [gr if gr is not None else body.filled(0, w) for gr, w in zip(grads, wrt)]
    _name_gradients(body, n_fwd, all_grads)
    bwd = Graph("body_backward", parent=body)
    bwd.inputs, bwd.nodes, bwd.outputs = cts, body.nodes[n_fwd:], grads
    body.nodes = body.nodes[:n_fwd]
    if carried is not None:  # (before fusion: into the kernels that read them)
        recompute_cheap_reads(body, bwd, carried)
    fuse(bwd)
    absorb_broadcasts(bwd)
    push_slices(bwd)
    fold_normalized_sums(bwd)
    fold_constant_inputs(bwd)
    accumulate_scatters(bwd)
    return bwd


def _name_gradients(g, n_fwd, all_grads):
    """Name gradients after the values they belong to (`grad_h`)."""
    forward_values = {v.id: v for v in g.inputs}
    for n in g.nodes[:n_fwd]:
        for o in n.outputs:
            forward_values[o.id] = o
    backward_nodes = {id(n) for n in g.nodes[n_fwd:]}
    for vid, gv in all_grads.items():
        v = forward_values.get(vid)
        if v is not None and v.name and gv.name is None and gv.node is not None \
                and id(gv.node) in backward_nodes:
            gv.name = "grad_" + v.name


def backward_function(g, n_fwd, cotangents, outputs, candidates, header, extra_params=()):
    """Generate the backward alone. `candidates`: forward values in the order they may
    appear as parameters; only those the backward reads become parameters.

    Returns (function, source, backward graph, parameter values)."""
    available = {v.id for v in g.inputs}
    for n in g.nodes[:n_fwd]:
        available.update(o.id for o in n.outputs)
    bwd = Graph("backward")
    bwd.nodes, bwd.outputs = g.nodes[n_fwd:], list(outputs)
    contract_sums(bwd)
    eliminate_common(bwd)
    outputs = bwd.outputs
    nodes = prune_kernel_outputs(live_nodes(bwd.nodes, outputs, available=available), outputs)
    used = {x.id for n in nodes for x in n.inputs if hasattr(x, "id")}
    used.update(v.id for v in outputs if v is not None)
    params = list(cotangents) + [v for v in candidates if v.id in used]
    bwd = Graph("backward")
    bwd.inputs, bwd.nodes, bwd.outputs = params, nodes, list(outputs)
    source, _ = generate(bwd, "backward", params, outputs, header=header, extra_params=extra_params)
    return load_function(source, "backward", "backward"), source, bwd, params


def program_function(g, params, outputs, fn_name, header, constants=()):
    """Generate one function computing `outputs` from `params` (forward and backward).

    constants: (Value, array) pairs the function reads as module globals (arrays the
    traced code captured rather than received). Returns (function, source, graph)."""
    from .ops.special import GuardFailed
    given = {p.id for p in params} | {v.id for v, _ in constants}
    whole = Graph(fn_name)
    whole.nodes, whole.outputs = list(g.nodes), list(outputs)
    contract_sums(whole)
    eliminate_common(whole)
    outputs = whole.outputs
    nodes = prune_kernel_outputs(live_nodes(whole.nodes, outputs, available=given), outputs)
    nodes = plan_checkpoints(nodes, config.checkpoint_loops)
    prog = Graph(fn_name)
    prog.inputs, prog.nodes, prog.outputs = list(params), nodes, list(outputs)
    blocked = _in_row_blocks(nodes, params, outputs, fn_name, header, constants)
    if blocked is not None:
        source, names = blocked
    else:
        source, names = generate(prog, fn_name, params, outputs, header=header,
                                 constants=[v for v, _ in constants])
    namespace = {"GuardFailed": GuardFailed}
    namespace.update({names[v.id]: arr for v, arr in constants})
    for v, _ in constants:  # the name the code reads it by (what a disk-cached copy binds)
        v.name = names[v.id]
    return load_function(source, fn_name, fn_name, namespace), source, prog




def _in_row_blocks(nodes, params, outputs, fn_name, header, constants):
    """(source, names) of the program run a block of rows at a time (codegen/blocks.py),
    or None when it does not qualify."""
    from .codegen import blocks
    if not config.row_blocks:
        return None
    consts = [v for v, _ in constants]
    plan = blocks.plan_blocks(nodes, params, outputs, consts)
    if plan is None:
        return None
    n, kinds = plan
    block_name, after_name = fn_name + "_rows", fn_name + "_after_rows"
    taken = {p.name for p in params} | {v.name for v in consts}
    if taken & {"rows", "lo", "hi"} or any(t and re.fullmatch(r"b\d+", t) for t in taken):  # (the driver's)
        return None
    rows, sums, after = blocks.split_outputs(outputs, kinds, nodes)
    names = {}

    def generate_for(count):
        g, bparams, bouts = blocks.block_graph(nodes, params, rows + sums, kinds, n, count)
        g.nodes = prune_kernel_outputs(live_nodes(g.nodes, bouts, available={p.id for p in bparams}), bouts)
        src, given = generate(g, block_name, bparams, bouts, extra_params=("rows",),
                              header=list(header) + [f"a block of the rows: {block_name}(..., rows) "
                                                     f"computes rows lo:hi of {fn_name}"],
                              constants=consts)
        names.update(given)
        names.update((p.id, given[b.id]) for p, b in zip(params, bparams))  # (the driver's names)
        return src
    block_src = blocks.block_source(generate_for, block_name)
    if block_src is None:
        return None
    sources = [block_src]
    if after:
        g, aparams, aouts = blocks.after_graph(nodes, params, sums, after, kinds)
        after_src, given = generate(g, after_name, aparams, aouts, constants=consts,
                                    header=[f"what follows the sums over the rows of {fn_name}"])
        names.update(given)
        sources.append(after_src)
    param_names = [names[p.id] for p in params]
    used = set(param_names) | {"rows", "lo", "hi"}

    def names_of(v, memo):
        if v.id not in memo:
            name = v.name if v.name and v.name not in used and v.name.isidentifier() else None
            k = len(memo)
            while name is None or name in used:
                name, k = f"v{k}", k + 1
            used.add(name)
            memo[v.id] = name
        return memo[v.id]
    memo = {}
    driver = blocks.driver_source(fn_name, block_name, after_name, param_names, params, outputs, kinds, n,
                                  rows, sums, after, lambda v: names_of(v, memo))
    head = "".join(f"# {line}\n" for line in header)
    return head + driver + "\n\n" + "\n\n".join(sources), names
