"""numpy's shape, joining and gathering functions on tensors, and PyTorch's shape methods.

Each case is a function of a numpy-like module `m` (numpy itself, which dispatches to
srcgrad through `__array_function__`, or `srcgrad.numpy`) and tensors. Values must equal
numpy's on plain arrays; gradients must match finite differences in float64 and in
float32 (where they must stay float32).
"""
import re

import numpy as np
import pytest

import srcgrad
import srcgrad.numpy as snp
from srcgrad.testing import gradcheck

SHAPES = [(), (5,), (3, 4), (2, 3, 4)]


def data(shape, seed=0, dtype=np.float64):
    # distinct values, so sorting has no ties and finite differences never reorder
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape, dtype=np.int64))
    return np.asarray(rng.permutation(n).reshape(shape) * 0.37 + rng.uniform(-0.1, 0.1, shape), dtype=dtype)


class Case:
    def __init__(self, name, fn, *shapes):
        self.name, self.fn, self.shapes = name, fn, shapes

    def __repr__(self):
        return self.name


def unary(name, fn, shapes=SHAPES):
    return [Case(f"{name}{list(s)}", fn, s) for s in shapes]


IDX2 = np.array([[2, 0], [1, -1]])

CASES = [
    *unary("reshape-1", lambda m, x: m.reshape(x, -1)),
    *unary("reshape", lambda m, x: m.reshape(x, (2, -1)), [(4,), (3, 4), (2, 3, 4)]),
    *unary("reshape-scalar", lambda m, x: m.reshape(x, (1, 1)), [()]),
    *unary("ravel", lambda m, x: m.ravel(x)),
    *unary("squeeze", lambda m, x: m.squeeze(x), [(1, 3, 1), (1,), (2, 1, 4)]),
    *unary("squeeze-axis", lambda m, x: m.squeeze(x, axis=(0, -1)), [(1, 3, 1)]),
    *unary("squeeze-1", lambda m, x: m.squeeze(x, 1), [(2, 1, 4)]),
    *unary("expand_dims0", lambda m, x: m.expand_dims(x, 0)),
    *unary("expand_dims-1", lambda m, x: m.expand_dims(x, -1)),
    *unary("expand_dims-tuple", lambda m, x: m.expand_dims(x, (0, 2)), [(5,), (3, 4)]),
    *unary("transpose", lambda m, x: m.transpose(x)),
    *unary("transpose-axes", lambda m, x: m.transpose(x, (1, 0, 2)), [(2, 3, 4)]),
    *unary("swapaxes", lambda m, x: m.swapaxes(x, 0, -1), SHAPES[1:]),
    *unary("moveaxis", lambda m, x: m.moveaxis(x, 0, -1), SHAPES[1:]),
    *unary("moveaxis-seq", lambda m, x: m.moveaxis(x, [0, 1], [-1, 0]), [(2, 3, 4)]),
    *unary("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), [(), (4,), (3, 1), (1, 3, 4)]),
    *unary("atleast_1d", lambda m, x: m.atleast_1d(x)),
    *unary("atleast_2d", lambda m, x: m.atleast_2d(x)),
    *unary("atleast_3d", lambda m, x: m.atleast_3d(x)),
    *unary("repeat", lambda m, x: m.repeat(x, 3)),
    *unary("repeat-axis", lambda m, x: m.repeat(x, 2, axis=-1), SHAPES[1:]),
    *unary("repeat-counts", lambda m, x: m.repeat(x, [2, 0, 3], axis=0), [(3,), (3, 4)]),
    *unary("repeat-counts-axis1", lambda m, x: m.repeat(x, np.array([1, 3, 0]), axis=1), [(2, 3, 4)]),
    *unary("tile", lambda m, x: m.tile(x, 2)),
    *unary("tile-tuple", lambda m, x: m.tile(x, (2, 1, 3)), [(5,), (3, 4)]),
    *unary("tile-short", lambda m, x: m.tile(x, (2, 1)), [(2, 3, 4)]),
    *unary("roll", lambda m, x: m.roll(x, 2), SHAPES),
    *unary("roll-axis", lambda m, x: m.roll(x, -1, axis=-1), SHAPES[1:]),
    *unary("roll-tuple", lambda m, x: m.roll(x, (1, -2), axis=(0, 1)), [(3, 4), (2, 3, 4)]),
    *unary("roll-same-axis", lambda m, x: m.roll(x, (1, 2), axis=(1, 1)), [(3, 4)]),
    *unary("flip", lambda m, x: m.flip(x)),
    *unary("flip-axis", lambda m, x: m.flip(x, 0), SHAPES[1:]),
    *unary("flip-axes", lambda m, x: m.flip(x, (0, -1)), [(3, 4), (2, 3, 4)]),
    *unary("fliplr", lambda m, x: m.fliplr(x), [(3, 4), (2, 3, 4)]),
    *unary("flipud", lambda m, x: m.flipud(x), SHAPES[1:]),
    *unary("rot90", lambda m, x: m.rot90(x), [(3, 4), (2, 3, 4)]),
    *unary("rot90-k2", lambda m, x: m.rot90(x, 2), [(3, 4)]),
    *unary("rot90-k3", lambda m, x: m.rot90(x, -1, axes=(1, 2)), [(2, 3, 4)]),
    *unary("pad", lambda m, x: m.pad(x, 1), SHAPES),
    *unary("pad-pairs", lambda m, x: m.pad(x, ((1, 0), (2, 1)), constant_values=(-1.5, 2.0)), [(3, 4)]),
    *unary("pad-pair", lambda m, x: m.pad(x, (0, 2), mode="constant", constant_values=7), [(5,), (2, 3, 4)]),
    *unary("pad-edge", lambda m, x: m.pad(x, (1, 2), mode="edge"), [(5,), (3, 4)]),
    *unary("pad-reflect", lambda m, x: m.pad(x, 2, mode="reflect"), [(5,), (3, 4)]),
    *unary("pad-symmetric", lambda m, x: m.pad(x, ((1, 3), (0, 1)), mode="symmetric"), [(3, 4)]),
    *unary("pad-wrap", lambda m, x: m.pad(x, 3, mode="wrap"), [(5,)]),
    *unary("pad-linear_ramp", lambda m, x: m.pad(x, ((2, 3), (1, 4)), mode="linear_ramp",
                                                  end_values=((5, -4), (1, 2))), [(3, 4)]),
    *unary("pad-linear_ramp-0", lambda m, x: m.pad(x, 2, mode="linear_ramp"), [(5,), (3, 4)]),
    *unary("pad-mean", lambda m, x: m.pad(x, ((2, 3), (1, 4)), mode="mean"), [(3, 4)]),
    *unary("pad-mean-stat", lambda m, x: m.pad(x, ((2, 3), (1, 4)), mode="mean", stat_length=((1, 2), (3, 2))),
           [(3, 4)]),
    *unary("pad-maximum", lambda m, x: m.pad(x, (2, 1), mode="maximum"), [(5,), (3, 4)]),
    *unary("pad-minimum-stat", lambda m, x: m.pad(x, 2, mode="minimum", stat_length=2), [(3, 4)]),
    *unary("pad-median", lambda m, x: m.pad(x, ((1, 2), (0, 1)), mode="median"), [(3, 4)]),
    *unary("diag", lambda m, x: m.diag(x), [(5,), (3, 4)]),
    *unary("diag-k", lambda m, x: m.diag(x, 2), [(5,), (3, 4)]),
    *unary("diag-negk", lambda m, x: m.diag(x, -1), [(5,), (3, 4)]),
    *unary("diagonal", lambda m, x: m.diagonal(x), [(3, 4), (2, 3, 4)]),
    *unary("diagonal-offset", lambda m, x: m.diagonal(x, -1, axis1=2, axis2=1), [(2, 3, 4)]),
    *unary("diagonal-offset2", lambda m, x: m.diagonal(x, 1), [(3, 4)]),
    *unary("diagonal-empty", lambda m, x: m.trace(x, 5) + m.sum(m.diagonal(x, -3) ** 2), [(3, 4)]),
    *unary("triu", lambda m, x: m.triu(x), SHAPES[1:]),
    *unary("triu-k", lambda m, x: m.triu(x, 1), [(3, 4), (2, 3, 4)]),
    *unary("tril", lambda m, x: m.tril(x), SHAPES[1:]),
    *unary("tril-k", lambda m, x: m.tril(x, -1), [(3, 4), (2, 3, 4)]),
    *unary("sort", lambda m, x: m.sort(x), SHAPES[1:]),
    *unary("sort-axis0", lambda m, x: m.sort(x, axis=0), [(3, 4), (2, 3, 4)]),
    *unary("sort-None", lambda m, x: m.sort(x, axis=None), SHAPES),
    *unary("take", lambda m, x: m.take(x, [3, 0, -1, 3]), SHAPES[1:]),
    *unary("take-scalar", lambda m, x: m.take(x, 1), SHAPES[1:]),
    *unary("take-axis", lambda m, x: m.take(x, IDX2, axis=1), [(3, 4), (2, 3, 4)]),
    *unary("take-wrap", lambda m, x: m.take(x, [7, -9], axis=0, mode="wrap"), [(5,), (3, 4)]),
    *unary("take-clip", lambda m, x: m.take(x, [7, -9, 1], mode="clip"), [(3, 4)]),
    *unary("take_along_axis", lambda m, x: m.take_along_axis(x, np.argsort(np.asarray(x.detach() if hasattr(x, "detach") else x), axis=-1)[..., ::-1], -1),
           SHAPES[1:]),
    *unary("take_along_axis0", lambda m, x: m.take_along_axis(x, np.array([[2, 0, 1, 1]]), axis=0), [(3, 4)]),
    *unary("take_along_axis-None", lambda m, x: m.take_along_axis(x, np.array([0, 4, 4, -1]), axis=None),
           [(5,), (3, 4)]),
    *unary("copy", lambda m, x: m.copy(x)),
    *unary("array_split", lambda m, x: m.concatenate(
        [p * (k + 1) for k, p in enumerate(m.array_split(x, 3, axis=-1))], axis=-1), SHAPES[1:]),
    *unary("split-indices", lambda m, x: m.concatenate(
        [p * (k + 1) for k, p in enumerate(m.split(x, [1, 3], axis=0))]), [(5,), (3, 4)]),
    *unary("split-even", lambda m, x: m.stack(m.split(x, 2, axis=1)[::-1]), [(3, 4)]),
    *unary("hsplit", lambda m, x: m.hstack(m.hsplit(x, 2)[::-1]), [(3, 4), (2, 4, 3)]),
    *unary("vsplit", lambda m, x: m.vstack(m.vsplit(x, [1])[::-1]), [(3, 4)]),
    *unary("dsplit", lambda m, x: m.dstack(m.dsplit(x, 2)[::-1]), [(2, 3, 4)]),
    Case("concatenate", lambda m, x, y: m.concatenate((x, y)), (3, 4), (2, 4)),
    Case("concatenate-1d", lambda m, x, y: m.concatenate([x, y, x]), (5,), (2,)),
    Case("concatenate-axis", lambda m, x, y: m.concatenate([x, y], axis=-1), (2, 3, 4), (2, 3, 1)),
    Case("concatenate-None", lambda m, x, y: m.concatenate([x, y], axis=None), (3, 4), (2, 3, 4)),
    Case("concatenate-const", lambda m, x, y: m.concatenate([x, np.ones((1, 4), x.dtype), y], axis=0), (3, 4), (2, 4)),
    Case("stack", lambda m, x, y: m.stack([x, y]), (3, 4), (3, 4)),
    Case("stack-scalars", lambda m, x, y: m.stack([x, y, x]), (), ()),
    Case("stack-axis", lambda m, x, y: m.stack((x, y), axis=-1), (2, 3, 4), (2, 3, 4)),
    Case("stack-axis1", lambda m, x, y: m.stack((x, y), axis=1), (5,), (5,)),
    Case("hstack-1d", lambda m, x, y: m.hstack([x, y]), (5,), (2,)),
    Case("hstack-2d", lambda m, x, y: m.hstack([x, y]), (3, 4), (3, 1)),
    Case("vstack-1d", lambda m, x, y: m.vstack([x, y]), (4,), (4,)),
    Case("vstack-2d", lambda m, x, y: m.vstack([x, y]), (3, 4), (4,)),
    Case("dstack", lambda m, x, y: m.dstack([x, y]), (3, 4), (3, 4)),
    Case("column_stack", lambda m, x, y: m.column_stack([x, y]), (3,), (3, 2)),
]


def _numpy_value(case, arrays):
    return case.fn(np, *arrays)


def _as_array(out):
    if isinstance(out, srcgrad.Tensor):
        return out.detach().numpy()
    return np.asarray(out)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_values_match_numpy(case):
    arrays = [data(s, seed=k) for k, s in enumerate(case.shapes)]
    expected = _numpy_value(case, arrays)
    for m in (np, snp):
        xs = [srcgrad.tensor(a, requires_grad=True) for a in arrays]
        out = case.fn(m, *xs)
        assert isinstance(out, srcgrad.Tensor), f"{case}: {m.__name__} returned {type(out).__name__}"
        assert out.requires_grad
        got = _as_array(out)
        assert got.shape == expected.shape, f"{case} via {m.__name__}"
        assert got.dtype == expected.dtype, f"{case} via {m.__name__}"
        np.testing.assert_array_equal(got, expected, err_msg=f"{case} via {m.__name__}")


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradients_float64(case):
    arrays = [data(s, seed=k) for k, s in enumerate(case.shapes)]
    gradcheck(lambda *xs: case.fn(np, *xs), *arrays)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradients_float32(case):
    # gradcheck also asserts that each gradient has its input's dtype (float32 stays float32)
    arrays = [data(s, seed=k, dtype=np.float32) for k, s in enumerate(case.shapes)]
    out = case.fn(snp, *[srcgrad.tensor(a) for a in arrays])
    assert out.dtype == np.float32, case
    gradcheck(lambda *xs: case.fn(snp, *xs), *arrays, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradients_op_by_op_are_the_compiled_ones(case):
    """vjp runs a new structure's backward op by op, each node by its op's numpy `impl`
    (autograd/interpreted.py): the same gradient as the compiled backward's."""
    arrays = [data(s, seed=k) for k, s in enumerate(case.shapes)]
    weights = np.random.default_rng(7).normal(size=np.shape(_numpy_value(case, arrays)))

    def f(*xs):
        return np.sum(case.fn(np, *xs) * weights)
    compiled = srcgrad.grad(f, argnums=tuple(range(len(arrays))))(*arrays)
    _, vjp_fn = srcgrad.vjp(f, *arrays)
    for a, b in zip(vjp_fn(1.0), compiled if isinstance(compiled, tuple) else (compiled,)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=repr(case))


# ---------------------------------------------------------------------------------------
# second order: the backward of each rule is differentiable again
# ---------------------------------------------------------------------------------------
def _second(fn):
    """x -> d/dx sum(fn(x)**3), itself recorded (create_graph) so it can be checked."""
    def grad_of(x):
        with srcgrad.enable_grad():
            if not x.requires_grad:
                x = x.detach().requires_grad_()
            (g,) = srcgrad.autograd.grad((fn(x) ** 3).sum(), x, create_graph=True)
        return g
    return grad_of


SECOND = {
    "roll": lambda x: np.roll(x, (1, -1), axis=(0, 1)),
    "concatenate": lambda x: np.concatenate([x, x[:1] * 2], axis=0),
    "stack": lambda x: np.stack([x, x.T[:3]], axis=-1),
    "sort": lambda x: np.sort(x, axis=0),
    "take": lambda x: np.take(x, [2, 0, 2], axis=1),
    "pad": lambda x: np.pad(x, ((0, 1), (2, 0)), constant_values=1.0),
    "pad-reflect": lambda x: np.pad(x, 1, mode="reflect"),
    "repeat": lambda x: np.repeat(x, [1, 2, 0], axis=0),
    "tile": lambda x: np.tile(x, (2, 1)),
    "diag": lambda x: np.diag(np.diag(x)),
    "triu": lambda x: np.triu(x, -1),
    "split": lambda x: np.split(x, [1], axis=1)[1] * np.split(x, [1], axis=1)[0],
}


@pytest.mark.parametrize("name", list(SECOND))
def test_second_order(name):
    gradcheck(_second(SECOND[name]), data((3, 3)))


# ---------------------------------------------------------------------------------------
# arrays from lists of tensors, copies, facts, constructors
# ---------------------------------------------------------------------------------------
def test_array_of_tensors_has_gradient():
    a = srcgrad.tensor([1.0, 2.0], requires_grad=True)
    b = srcgrad.tensor(3.0, requires_grad=True)
    out = snp.array([[a[0], b], [a[1] * b, 4.0]])
    np.testing.assert_array_equal(out.detach().numpy(), [[1.0, 3.0], [6.0, 4.0]])
    (out * srcgrad.tensor([[1.0, 10.0], [100.0, 1000.0]])).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [1.0, 300.0])
    np.testing.assert_allclose(b.grad.numpy(), [10.0 + 200.0])


def test_array_and_asarray_semantics():
    x = srcgrad.tensor(np.float32([1.0, 2.0]), requires_grad=True)
    assert snp.asarray(x) is x
    y = snp.array(x)
    assert y is not x and y.requires_grad and y.dtype == np.float32
    # Python scalars are weak: float32 tensors stay float32
    assert snp.array([x[0], 2.5]).dtype == np.float32
    assert snp.array([x, [3, 4]]).dtype == np.float32
    assert snp.array([x, np.zeros(2)]).dtype == np.float64
    assert snp.array([x, x], dtype=np.float64).dtype == np.float64
    assert snp.array([x], ndmin=3).shape == (1, 1, 2)
    z = gradcheck(lambda t: snp.array([t, t * 2, [0.0, 1.0]]), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(z[0].shape, (2,))
    plain = snp.array([[1, 2], [3, 4]])
    assert isinstance(plain, srcgrad.Tensor) and plain.dtype == np.int64
    assert isinstance(snp.asarray([1.0, 2.0]), srcgrad.Tensor)
    with pytest.raises(ValueError, match="inhomogeneous"):
        snp.array([x, x[0]])


def test_np_stack_of_tensor_list_dispatches():
    x = srcgrad.tensor([1.0, 2.0], requires_grad=True)
    out = np.stack([x, np.array([3.0, 4.0]), x * 2])
    assert isinstance(out, srcgrad.Tensor) and out.shape == (3, 2)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_copy_is_new_storage():
    x = srcgrad.tensor([1.0, 2.0], requires_grad=True)
    y = np.copy(x)
    assert isinstance(y, srcgrad.Tensor) and y.requires_grad and y._data is not x._data
    c = snp.copy(np.arange(3))
    assert isinstance(c, srcgrad.Tensor)


@pytest.mark.parametrize("fn, expected", [
    (lambda m, x: m.zeros_like(x), np.zeros((2, 3), np.float32)),
    (lambda m, x: m.ones_like(x), np.ones((2, 3), np.float32)),
    (lambda m, x: m.empty_like(x, dtype=np.float64).shape, (2, 3)),
    (lambda m, x: m.full_like(x, 2.5), np.full((2, 3), 2.5, np.float32)),
    (lambda m, x: m.full_like(x, 7, dtype=np.int64, shape=(4,)), np.full(4, 7)),
    (lambda m, x: m.zeros_like(x, shape=(1, 2)), np.zeros((1, 2), np.float32)),
    (lambda m, x: m.shape(x), (2, 3)),
    (lambda m, x: m.ndim(x), 2),
    (lambda m, x: m.size(x), 6),
    (lambda m, x: m.size(x, 1), 3),
])
def test_functions_without_gradient(fn, expected):
    x = srcgrad.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    for m in (np, snp):
        out = fn(m, x)
        if isinstance(expected, np.ndarray):
            assert isinstance(out, srcgrad.Tensor) and not out.requires_grad
            assert out.dtype == expected.dtype
            np.testing.assert_array_equal(out.numpy(), expected)
        else:
            assert out == expected


def test_argsort_of_tensor_needing_grad():
    x = srcgrad.tensor([3.0, 1.0, 2.0], requires_grad=True)
    for m in (np, snp):
        idx = m.argsort(x)
        assert not idx.requires_grad
        np.testing.assert_array_equal(idx.numpy(), [1, 2, 0])


def test_constructors_return_tensors_with_numpy_defaults():
    cases = [
        (snp.zeros(3), np.zeros(3)), (snp.ones((2, 2), dtype=np.float32), np.ones((2, 2), np.float32)),
        (snp.empty((2,)), np.zeros(2)), (snp.full((2,), 3), np.full(2, 3)),
        (snp.eye(3, k=1), np.eye(3, k=1)), (snp.identity(2), np.identity(2)),
        (snp.arange(5), np.arange(5)), (snp.arange(0.0, 1.0, 0.25), np.arange(0.0, 1.0, 0.25)),
        (snp.linspace(0, 1, 5), np.linspace(0, 1, 5)), (snp.array([1.5, 2]), np.array([1.5, 2])),
    ]
    for got, want in cases:
        assert isinstance(got, srcgrad.Tensor)
        assert got.dtype == want.dtype and not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), want)


def test_split_returns_lists_of_views():
    x = srcgrad.tensor(data((3, 4)), requires_grad=True)
    for m in (np, snp):
        pieces = m.array_split(x, 3, axis=1)
        expected = np.array_split(x.detach().numpy(), 3, axis=1)
        assert isinstance(pieces, list) and len(pieces) == 3
        for p, e in zip(pieces, expected):
            np.testing.assert_array_equal(p.detach().numpy(), e)
    assert [p.shape for p in np.split(x, [1, 10], axis=0)] == [(1, 4), (2, 4), (0, 4)]


def test_mixed_dtypes_join_to_float_and_grads_keep_input_dtype():
    x = srcgrad.tensor(np.ones(2, np.float32), requires_grad=True)
    y = srcgrad.tensor(np.ones(3, np.float64), requires_grad=True)
    out = np.concatenate([x, y, np.arange(2)])
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64
    assert np.concatenate([x, np.arange(2)]).dtype == np.float32  # integer data takes the float dtype
    assert np.concatenate([np.arange(2), np.arange(2)]).dtype == np.int64


def test_generated_backward_uses_roll_and_slices():
    x = srcgrad.tensor(data((3, 4)), requires_grad=True)
    out = np.concatenate([np.roll(x, 1, axis=1), x], axis=0)
    out.sum().backward()
    src = srcgrad.inspect.backward_source(out)
    assert "np.roll(" in src and "axis=1" in src and "-1" in src
    assert "np.add.at" not in src  # neither join nor roll scatters


# ---------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, exc, match", [
    (lambda x: np.concatenate([x, np.ones((2, 5))]), ValueError, r"concatenate.*\(3, 4\)"),
    (lambda x: np.concatenate([x[0, 0], x[0, 0]]), ValueError, "zero-dimensional"),
    (lambda x: np.concatenate([x, x], axis=2), ValueError, "axis 2"),
    (lambda x: np.stack([x, x[:2]]), ValueError, "same shape"),
    (lambda x: np.split(x, 3, axis=1), ValueError, "equal division"),
    (lambda x: np.reshape(x, (5, -1)), ValueError, "cannot reshape"),
    (lambda x: np.reshape(x, (12,), order="Q"), ValueError, "order"),
    (lambda x: np.squeeze(x, 0), ValueError, "size not equal to one"),
    (lambda x: np.take(x, [12]), IndexError, "out of bounds"),
    (lambda x: np.take_along_axis(x, np.array([0, 1]), 0), ValueError, "same number of dimensions"),
    (lambda x: np.pad(x, 1, mode="empty"), NotImplementedError, "mode='empty'"),
    (lambda x: np.pad(x.astype(np.int64), 1, mode="mean"), NotImplementedError, "int64"),
    (lambda x: np.pad(x, 1, mode="reflect", reflect_type="odd"), NotImplementedError, "odd"),
    (lambda x: np.sort(x, order="a"), NotImplementedError, "order"),
    (lambda x: np.diag(x[None]), ValueError, "1-d or 2-d"),
    (lambda x: np.repeat(x, [1, 2], axis=0), ValueError, "repeat"),
    (lambda x: np.moveaxis(x, 0, 5), ValueError, "out of bounds"),
    (lambda x: np.transpose(x, (0, 0)), ValueError, "transpose"),
    (lambda x: np.broadcast_to(x, (4, 3)), ValueError, "broadcast"),
    (lambda x: x.t()[None].t(), RuntimeError, "t\\(\\) expects"),
    (lambda x: x.repeat(2), RuntimeError, "repeat"),
    (lambda x: x.split([1, 1], dim=0), RuntimeError, "sum exactly"),
    (lambda x: x.narrow(1, 2, 5), RuntimeError, "narrow"),
])
def test_errors_name_the_function(fn, exc, match):
    x = srcgrad.tensor(data((3, 4)), requires_grad=True)
    with pytest.raises(exc, match=match):
        fn(x)


# ---------------------------------------------------------------------------------------
# PyTorch's spellings
# ---------------------------------------------------------------------------------------
TORCH = [
    ("flip", lambda x: x.flip(0), lambda a: np.flip(a, 0), (3, 4)),
    ("flip-dims", lambda x: x.flip((0, 2)), lambda a: np.flip(a, (0, 2)), (2, 3, 4)),
    ("flip-varargs", lambda x: x.flip(0, 1), lambda a: np.flip(a, (0, 1)), (3, 4)),
    ("roll", lambda x: x.roll(1, 1), lambda a: np.roll(a, 1, 1), (3, 4)),
    ("roll-flat", lambda x: x.roll(3), lambda a: np.roll(a, 3), (3, 4)),
    ("roll-tuple", lambda x: x.roll((1, 2), (0, 1)), lambda a: np.roll(a, (1, 2), (0, 1)), (3, 4)),
    ("repeat", lambda x: x.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)), (3, 4)),
    ("repeat-tuple", lambda x: x.repeat((2, 2)), lambda a: np.tile(a, (2, 2)), (3, 4)),
    ("tile", lambda x: x.tile(2), lambda a: np.tile(a, 2), (3, 4)),
    ("repeat_interleave", lambda x: x.repeat_interleave(2), lambda a: np.repeat(a, 2), (3, 4)),
    ("repeat_interleave-dim", lambda x: x.repeat_interleave(srcgrad.tensor([1, 0, 2]), dim=0),
     lambda a: np.repeat(a, [1, 0, 2], axis=0), (3, 4)),
    ("flatten", lambda x: x.flatten(), lambda a: a.reshape(-1), (2, 3, 4)),
    ("flatten-range", lambda x: x.flatten(1), lambda a: a.reshape(2, 12), (2, 3, 4)),
    ("flatten-mid", lambda x: x.flatten(0, 1), lambda a: a.reshape(6, 4), (2, 3, 4)),
    ("flatten-scalar", lambda x: x.flatten(), lambda a: a.reshape(1), ()),
    ("srcgrad.flatten", lambda x: srcgrad.flatten(x, 1, -1), lambda a: a.reshape(2, 12), (2, 3, 4)),
    ("chunk", lambda x: srcgrad.cat(x.chunk(3, 1)[::-1], 1),
     lambda a: np.concatenate(np.array_split(a, [2, 4], 1)[::-1], 1), (3, 5)),
    ("split", lambda x: srcgrad.cat(x.split(2, dim=1)[::-1], dim=1),
     lambda a: np.concatenate(np.split(a, [2, 4], 1)[::-1], 1), (3, 5)),
    ("split-sizes", lambda x: srcgrad.cat(srcgrad.split(x, [1, 2], 0)[::-1]),
     lambda a: np.concatenate([a[1:], a[:1]]), (3, 5)),
    ("narrow", lambda x: x.narrow(1, -3, 2), lambda a: a[:, 2:4], (3, 5)),
    ("t", lambda x: x.t(), lambda a: a.T, (3, 4)),
    ("t-1d", lambda x: x.t(), lambda a: a, (4,)),
    ("swapaxes", lambda x: x.swapaxes(0, 2), lambda a: np.swapaxes(a, 0, 2), (2, 3, 4)),
    ("swapdims", lambda x: x.swapdims(-1, 1), lambda a: np.swapaxes(a, -1, 1), (2, 3, 4)),
    ("moveaxis", lambda x: x.moveaxis(0, -1), lambda a: np.moveaxis(a, 0, -1), (2, 3, 4)),
    ("movedim", lambda x: x.movedim((0, 1), (2, 0)), lambda a: np.moveaxis(a, (0, 1), (2, 0)), (2, 3, 4)),
    ("transpose-torch", lambda x: x.transpose(0, 2), lambda a: np.swapaxes(a, 0, 2), (2, 3, 4)),
    ("transpose-none", lambda x: x.transpose(), lambda a: a.transpose(), (2, 3, 4)),
    ("transpose-tuple", lambda x: x.transpose((1, 2, 0)), lambda a: a.transpose((1, 2, 0)), (2, 3, 4)),
    ("transpose-perm", lambda x: x.transpose(2, 0, 1), lambda a: a.transpose(2, 0, 1), (2, 3, 4)),
    ("ravel", lambda x: x.ravel(), lambda a: a.ravel(), (2, 3, 4)),
    ("cat", lambda x: srcgrad.cat([x, x * 2], dim=-1), lambda a: np.concatenate([a, a * 2], -1), (3, 4)),
    ("stack", lambda x: srcgrad.stack([x, x * 2], dim=1), lambda a: np.stack([a, a * 2], 1), (3, 4)),
    ("unbind", lambda x: srcgrad.stack(x.unbind(1)[::-1]), lambda a: a.T[::-1], (3, 4)),
    ("sort", lambda x: x.sort(dim=0).values, lambda a: np.sort(a, 0), (3, 4)),
    ("sort-desc", lambda x: x.sort(descending=True)[0], lambda a: -np.sort(-a, -1), (3, 4)),
    ("diagonal", lambda x: x.diagonal(1, 1, 2), lambda a: np.diagonal(a, 1, 1, 2), (2, 3, 4)),
    ("diag", lambda x: x.diag(-1), lambda a: np.diag(a, -1), (3, 4)),
    ("triu", lambda x: x.triu(1), lambda a: np.triu(a, 1), (3, 4)),
    ("tril", lambda x: x.tril(), lambda a: np.tril(a), (3, 4)),
    ("rot90", lambda x: x.rot90(1, (1, 2)), lambda a: np.rot90(a, 1, (1, 2)), (2, 3, 4)),
    ("fliplr", lambda x: x.fliplr(), lambda a: np.fliplr(a), (3, 4)),
]


@pytest.mark.parametrize("name, method, reference, shape", TORCH, ids=[t[0] for t in TORCH])
def test_torch_methods(name, method, reference, shape):
    a = data(shape)
    out = method(srcgrad.tensor(a))
    np.testing.assert_array_equal(out.numpy(), reference(a))
    gradcheck(method, a)
    gradcheck(method, a.astype(np.float32), atol=1e-4, rtol=1e-3)


def test_torch_sort_indices_and_split_tuples():
    x = srcgrad.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    values, indices = x.sort()
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.numpy(), [[1, 2, 0]])
    np.testing.assert_array_equal(x.argsort(descending=True).numpy(), [[0, 2, 1]])
    chunks = x.chunk(2, dim=1)
    assert isinstance(chunks, tuple) and [c.shape for c in chunks] == [(1, 2), (1, 1)]
    assert [c.shape for c in srcgrad.split(x, 2, 1)] == [(1, 2), (1, 1)]
    assert len(x.chunk(5, 1)) == 3  # like PyTorch: fewer chunks when they would be empty


REFERENCE = ["roll-tuple[3, 4]", "concatenate", "sort-axis0[2, 3, 4]", "take-axis[3, 4]", "pad-pairs[3, 4]",
             "pad-reflect[3, 4]", "repeat-counts[3, 4]", "tile-tuple[3, 4]", "diag-k[5]", "triu-k[2, 3, 4]",
             "rot90[3, 4]", "array_split[2, 3, 4]", "stack-axis"]


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_backward_agrees(name):
    """With fusion and simplification off (the per-op chain rule) the gradients are the same."""
    (case,) = [c for c in CASES if c.name == name]
    arrays = [data(s, seed=k) for k, s in enumerate(case.shapes)]
    old = (srcgrad.config.fuse_elementwise, srcgrad.config.simplify)
    srcgrad.config.fuse_elementwise, srcgrad.config.simplify = False, False
    try:
        gradcheck(lambda *xs: case.fn(np, *xs) * 1.5, *arrays)
    finally:
        srcgrad.config.fuse_elementwise, srcgrad.config.simplify = old


# ---------------------------------------------------------------------------------------
# compiled functions (srcgrad.value_and_grad): positions computed from the data are
# recomputed by the generated code, never frozen
# ---------------------------------------------------------------------------------------
def test_sorting_inside_compiled_function_follows_new_data():
    w = np.arange(4.0)

    @srcgrad.value_and_grad
    def loss(x):
        values, order = x.sort(descending=True)
        ranked = np.take_along_axis(x, np.argsort(x), axis=0)
        return (np.sort(x) * w).sum() + (values * w).sum() + (ranked * w).sum() + np.take(x, order)[0]

    for a in ([3.0, 1.0, 2.0, 0.5], [0.5, 2.0, 1.0, 3.0], [1.0, 3.0, 0.5, 2.0]):
        a = np.array(a)
        value, grad = loss(srcgrad.tensor(a))
        up, down = np.sort(a), np.sort(a)[::-1]
        assert float(value) == pytest.approx(2 * up @ w + down @ w + a.max())
        expected = np.zeros(4)
        expected[np.argsort(a)] += 2 * w
        expected[np.argsort(-a)] += w
        expected[np.argmax(a)] += 1
        np.testing.assert_allclose(grad.numpy(), expected)


def test_data_dependent_shapes_inside_compiled_function_raise():
    from srcgrad.trace import TraceError

    @srcgrad.value_and_grad
    def loss(x):
        return np.repeat(x, (x > 0).astype(np.int64)).sum()

    with pytest.raises(TraceError, match="repeat"):
        loss(srcgrad.tensor([1.0, -1.0]))


@pytest.mark.parametrize("axis,start", [(3, 1), (2, 0), (1, 4), (0, 2), (2, -1), (0, 0)])
def test_rollaxis_matches_numpy_and_moves_the_gradient_back(axis, start):
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    # the permutation rollaxis applies, read off axes of sizes 1, 2, 3, 4
    perm = [n - 1 for n in np.rollaxis(np.empty((1, 2, 3, 4)), axis, start).shape]
    w = np.random.default_rng(1).normal(size=np.transpose(x, perm).shape)
    value, grad = srcgrad.value_and_grad(lambda x: np.sum(np.rollaxis(x, axis, start) * w))(x)
    assert value == pytest.approx(np.sum(np.rollaxis(x, axis, start) * w))
    np.testing.assert_allclose(grad, np.transpose(w, np.argsort(perm)))


@pytest.mark.parametrize("start,stop,num,endpoint", [(0.0, 1.0, 5, True), (np.array([0.0, 1.0]), 2.0, 4, False),
                                                     (-1.0, 3.0, 1, True), (0.5, 0.5, 3, True)])
def test_linspace_is_numpys_and_differentiable_in_its_ends(start, stop, num, endpoint):
    a = srcgrad.tensor(np.asarray(start, dtype=float), requires_grad=True)
    b = srcgrad.tensor(np.asarray(stop, dtype=float), requires_grad=True)
    y = np.linspace(a, b, num, endpoint=endpoint)
    np.testing.assert_array_equal(y.detach().numpy(), np.linspace(start, stop, num, endpoint=endpoint))
    w = np.random.default_rng(0).normal(size=y.shape)
    (y * w).sum().backward()

    def numeric(k):  # central differences of sum(w * linspace(start, stop)) in the end k
        ends = [np.asarray(start, dtype=float), np.asarray(stop, dtype=float)]
        out = np.zeros(ends[k].shape)
        for i in np.ndindex(out.shape):
            e = np.zeros(out.shape)
            e[i] = 1e-6
            hi, lo = list(ends), list(ends)
            hi[k], lo[k] = ends[k] + e, ends[k] - e
            out[i] = (np.sum(w * np.linspace(*hi, num, endpoint=endpoint)) -
                      np.sum(w * np.linspace(*lo, num, endpoint=endpoint))) / 2e-6
        return out
    np.testing.assert_allclose(a.grad.numpy(), numeric(0), atol=1e-8)
    np.testing.assert_allclose(b.grad.numpy(), numeric(1), atol=1e-8)


def test_r_and_c_join_tensors_as_numpy_joins_arrays():
    import srcgrad.numpy as snp
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(snp.r_[srcgrad.tensor(x), np.array([3.0]), 0:2, 7.0]),
                                  np.r_[x, np.array([3.0]), 0:2, 7.0])
    np.testing.assert_array_equal(np.asarray(snp.c_[srcgrad.tensor(x), x * 9]), np.c_[x, x * 9])
    np.testing.assert_allclose(srcgrad.grad(lambda v: np.sum(snp.r_[v, v * 2] ** 2))(x), 10 * x)
    np.testing.assert_allclose(srcgrad.grad(lambda v: np.sum(snp.c_[v, v * 2] ** 2))(x), 10 * x)


def test_complex_queries_of_real_data():
    x = srcgrad.tensor([1.0, -2.0], requires_grad=True)
    assert not np.iscomplex(x).numpy().any() and np.isreal(x).numpy().all()
    y = np.real_if_close(x)
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_array_methods_inside_compiled_functions_are_numpys():
    """x.sort() sorts in place, x.repeat(2) repeats elements, x.max(1) and
    x.max(-1, keepdims=True) are values — numpy's methods, in numpy code; eagerly the same
    spellings stay PyTorch's."""
    x = np.array([3.0, 1.0, 2.0])

    def sorted_ends(x):
        y = x.copy()
        y.sort()
        return y[0] * 1.0 + y[-1] * 5.0

    def repeated(x):
        return np.sum(x.repeat(2)[:3] * np.array([1.0, 10.0, 100.0]))

    def shifted(s):
        return np.sum((s - s.max(-1, keepdims=True)) ** 2) + np.sum(s.max(1)) + np.sum(s.repeat(2, 0))
    for f, arg in [(sorted_ends, x), (repeated, x), (shifted, np.array([[1.0, -2.0], [3.0, 0.5]]))]:
        value, grad = srcgrad.value_and_grad(f)(arg)
        assert value == pytest.approx(f(arg))
        fd = np.zeros(arg.shape)
        for i in np.ndindex(arg.shape):
            e = np.zeros(arg.shape)
            e[i] = 1e-6
            fd[i] = (f(arg + e) - f(arg - e)) / 2e-6
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    t = srcgrad.tensor(x)
    assert t.repeat(2).shape == (6,) and np.array_equal(t.repeat(2).numpy(), np.tile(x, 2))
    values, indices = t.sort()
    assert np.array_equal(values.numpy(), np.sort(x)) and np.array_equal(indices.numpy(), np.argsort(x))


def test_bitwise_operators_on_masks_and_integers():
    x = np.array([0.5, -1.0, 2.0, -3.0])

    def f(x):
        keep = (x > 0) & (x < 1.5) | (x < -2)
        return np.sum(x[~keep] ** 2) + np.sum(x[keep ^ (x > 1)])
    value, grad = srcgrad.value_and_grad(f)(x)
    keep = (x > 0) & (x < 1.5) | (x < -2)
    assert value == pytest.approx(f(x))
    np.testing.assert_allclose(grad, 2 * x * ~keep + (keep ^ (x > 1)))
    i = srcgrad.tensor(np.array([5, 3]))
    assert np.array_equal((~i & 6 | 1).numpy(), ~np.array([5, 3]) & 6 | 1)
    t = srcgrad.tensor(x)
    assert t.nbytes == x.nbytes and t.itemsize == 8
    np.testing.assert_array_equal(t.take([3, 0]).numpy(), x[[3, 0]])


def test_partition_and_sliding_windows():
    x = np.array([3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.0])
    for kth in (2, [1, 4]):
        np.testing.assert_array_equal(np.partition(srcgrad.tensor(x), kth).numpy(), np.partition(x, kth))

    def low(x):
        return np.sum(np.partition(x, 3)[:4] * np.arange(4.0))

    def smooth(x):
        return np.sum((np.lib.stride_tricks.sliding_window_view(x, 3) @ np.array([1.0, -2.0, 1.0])) ** 2)
    for f in (low, smooth):
        fd = [(f(x + 1e-6 * e) - f(x - 1e-6 * e)) / 2e-6 for e in np.eye(7)]
        np.testing.assert_allclose(srcgrad.grad(f)(x), fd, rtol=1e-6, atol=1e-8)
    M = np.arange(12.0).reshape(3, 4)
    swv = np.lib.stride_tricks.sliding_window_view
    np.testing.assert_array_equal(swv(srcgrad.tensor(M), (2, 2)).numpy(), swv(M, (2, 2)))
    np.testing.assert_array_equal(swv(srcgrad.tensor(M), 2, axis=1).numpy(), swv(M, 2, axis=1))
    np.testing.assert_array_equal(swv(srcgrad.tensor(M), (2, 2), axis=(1, 1)).numpy(), swv(M, (2, 2), axis=(1, 1)))


def test_sliding_windows_are_a_view_whose_gradient_adds_strided_slices():
    """numpy's sliding_window_view is a view (ops/shape.py `windows`), not a gather: the
    generated code takes numpy's, and its gradient adds each window's k-th entries with one
    strided slice per k (window_sums), not np.add.at over every position."""
    swv = np.lib.stride_tricks.sliding_window_view
    M = np.random.default_rng(0).normal(size=(5, 6))

    def f(M):
        return np.sum(np.tanh(swv(M, (2, 3)) * np.arange(6.0).reshape(2, 3)))
    g = srcgrad.grad(f)
    assert "sliding_window_view(" in g.source(M) and "window_sums(" in g.source(M)
    assert "add.at" not in g.source(M)
    fd = np.zeros_like(M)
    for i in np.ndindex(M.shape):
        d = np.zeros_like(M)
        d[i] = 1e-6
        fd[i] = (f(M + d) - f(M - d)) / 2e-6
    np.testing.assert_allclose(g(M), fd, rtol=1e-6, atol=1e-8)


def test_a_boolean_result_has_no_gradient():
    with pytest.raises(TypeError, match="boolean"):
        srcgrad.grad(lambda x: np.allclose(x, x))(np.ones(2))


def test_flat_reads_and_writes_the_flattened_array():
    X = np.arange(12.0).reshape(4, 3)
    g = srcgrad.grad(lambda X: np.sum(X.flat[[0, 5, 7]] ** 2))(X)
    expect = np.zeros_like(X)
    expect.flat[[0, 5, 7]] = 2 * X.flat[[0, 5, 7]]
    np.testing.assert_array_equal(g, expect)

    def write(X):
        Y = X * 1
        Y.flat[[1, 4]] = X.flat[[0, 2]] * 3
        return np.sum(Y ** 2)
    Y = X.copy()
    Y.flat[[1, 4]] = X.flat[[0, 2]] * 3
    expect = 2 * Y
    expect.flat[[1, 4]] = 0
    expect.flat[[0, 2]] += 2 * Y.flat[[1, 4]] * 3
    np.testing.assert_allclose(srcgrad.grad(write)(X), expect)
    assert len(srcgrad.tensor(X).flat) == 12 and [float(v) for v in srcgrad.tensor(X[:1]).flat] == [0, 1, 2]


def test_fortran_order_reshape_ravel_and_flatten():
    a = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(np.asarray(snp.reshape(a, (4, 6), order="F")), a.reshape((4, 6), order="F"))
    np.testing.assert_array_equal(np.asarray(snp.ravel(a, "F")), a.ravel("F"))
    t = srcgrad.tensor(a)
    np.testing.assert_array_equal(t.reshape((4, 6), order="F").numpy(), a.reshape((4, 6), order="F"))
    np.testing.assert_array_equal(t.flatten("F").numpy(), a.flatten("F"))
    W = np.linspace(-1, 1, 24).reshape(4, 6)
    gradcheck(lambda x: (snp.reshape(x, (4, 6), order="F") * W).sum() + (snp.ravel(x, "F")[:5] ** 2).sum(), a / 10)


def test_block_compress_extract_and_linalg_trace():
    A, B, C = np.arange(4.0).reshape(2, 2), np.ones((2, 1)), np.full((1, 3), 2.0)
    np.testing.assert_array_equal(np.asarray(snp.block([[A, B], [C]])), np.block([[A, B], [C]]))
    np.testing.assert_array_equal(np.asarray(snp.block([1.0, np.ones(2)])), np.block([1.0, np.ones(2)]))
    M = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(np.asarray(snp.compress([True, False, True], M, axis=0)),
                                  np.compress([True, False, True], M, axis=0))
    np.testing.assert_array_equal(np.asarray(snp.compress([False, True], M, axis=1)), np.compress([False, True], M, axis=1))
    np.testing.assert_array_equal(np.asarray(snp.linalg.trace(np.ones((2, 3, 3)))), [3.0, 3.0])

    def f(x):  # (the conditions come from the data: another call selects others)
        blocks = np.block([[np.diag(x[:2]), x[:2, None]], [x[None, 2:], x[3:4, None]]])
        return np.sum(np.compress(x > 0, x) ** 2) + np.sum(np.extract(x < 2.5, x) * 3) + np.trace(blocks)
    g = srcgrad.grad(f)
    for x, want in (([0.5, -1.0, 2.0, 3.0], [5.0, 4.0, 7.0, 7.0]), ([-0.5, 1.0, 3.0, -3.0], [4.0, 6.0, 6.0, 4.0]),
                    ([0.5, -1.0, 2.0, 3.0], [5.0, 4.0, 7.0, 7.0])):
        np.testing.assert_allclose(g(np.array(x)), want)


def test_shape_assignment_reshapes_the_array_itself():
    def f(x):
        y = x * 2.0
        z = np.sum(y ** 2)  # (y read before: its values are unchanged, nothing is stale)
        y.shape = (3, 1)
        return z + np.sum(y * y.T) + y[2, 0]
    x = np.array([1.0, 2.0, 3.0])
    value, grad = srcgrad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x.copy()))
    np.testing.assert_allclose(grad, 8 * x + 8 * x.sum() + [0, 0, 2])

    def copy_needed(x):
        y = x.T
        y.shape = (6,)
        return np.sum(y)
    with pytest.raises(AttributeError, match="Incompatible shape for in-place modification"):
        srcgrad.grad(copy_needed)(np.ones((2, 3)))

    def argument(x):
        x.shape = (3, 1)
        return np.sum(x)
    with pytest.raises(RuntimeError, match="argument being differentiated"):
        srcgrad.grad(argument)(x)
    with pytest.raises(AttributeError, match="not writable"):  # (PyTorch's tensors: no setter)
        srcgrad.tensor([1.0, 2.0]).shape = (2, 1)


def test_argsort_orders_ties_as_numpys_own_kind():
    """numpy's default argsort (quicksort) orders equal keys its own way, and the values
    gathered with the order depend on it: the same kind, for the same data."""
    x = np.random.default_rng(0).uniform(-1, 1, 20)

    def f(x):
        keys = np.minimum(x, 0.0)  # (every positive entry is a tie at 0)
        return np.sum(x[np.argsort(keys)] * np.arange(x.size)) + np.sum(x[keys.argsort()] ** 2 * np.arange(x.size)) \
            + np.sum(x[np.argsort(keys, kind="stable")] * np.arange(x.size) ** 2)
    value, grad = srcgrad.value_and_grad(f)(x)
    assert value == f(x)
    assert srcgrad.vjp(f, x)[0] == f(x)


def test_contiguous_and_fortran_conversions_keep_the_gradient():
    def f(x):
        X = x.reshape(3, 2)
        return np.sum(np.asfortranarray(X) ** 2) + np.sum(np.sin(np.ascontiguousarray(X.T)))
    x = np.linspace(-1, 1, 6)
    want = 2 * x + np.cos(x)
    np.testing.assert_allclose(srcgrad.grad(f)(x), want, rtol=1e-12)
    np.testing.assert_allclose(srcgrad.vjp(f, x)[1](1.0)[0], want, rtol=1e-12)


def test_an_empty_diagonals_gradient_op_by_op():
    """vjp runs a new structure's backward op by op (autograd/interpreted.py): the gradient
    of an empty diagonal (an offset past the matrix) is zeros there too."""
    x = np.arange(12.0).reshape(3, 4)
    value, vjp_fn = srcgrad.vjp(lambda a: np.trace(a, 5) + np.sum(np.diagonal(a, -1) ** 2), x)
    expected = np.zeros((3, 4))
    expected[1, 0], expected[2, 1] = 2 * x[1, 0], 2 * x[2, 1]
    np.testing.assert_array_equal(vjp_fn(1.0)[0], expected)


def test_a_variable_named_as_a_helper_does_not_hide_it():
    """Generated code calls helpers by name (window_sums, expm...): a user variable of that
    name gets another one in the generated code."""
    def f(x):
        window_sums = np.lib.stride_tricks.sliding_window_view(x, 2) @ np.array([1.0, -2.0])
        return np.sum(np.sin(window_sums) * window_sums)
    x = np.linspace(0.1, 1.0, 6)
    g = srcgrad.grad(f)
    src = str(g.source(x))
    assert "window_sums(" in src and not re.search(r"^\s*window_sums =", src, re.M), src
    fd = [(f(x + 1e-6 * e) - f(x - 1e-6 * e)) / 2e-6 for e in np.eye(6)]
    np.testing.assert_allclose(g(x), fd, rtol=1e-6, atol=1e-9)
