"""The seed tutorial (examples/autograd_tutorial.py): run as written, and replayed cell by cell.

The tutorial is PyTorch's old autograd tutorial with only the imports changed, so every
value checked here is the one PyTorch gives.
"""
import contextlib
import io
import math
import os
import re
import runpy
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import srcgrad as torch
from srcgrad.autograd import Variable
from srcgrad.autograd.function import AccumulateGrad

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIAL = os.path.join(ROOT, "examples", "autograd_tutorial.py")

X_PRINT = "tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)"
Y_PRINT = "tensor([[-1.,  0.],\n        [ 1.,  2.]], grad_fn=<SubBackward0>)"
Z_OUT_PRINT = ("tensor([[ 3.,  0.],\n        [ 3., 12.]], grad_fn=<MulBackward0>) "
               "tensor(4.5000, grad_fn=<MeanBackward0>)")
X_GRAD_PRINT = "tensor([[-1.5000,  0.0000],\n        [ 1.5000,  3.0000]])"
X_GRAD = np.array([[-1.5, 0.0], [1.5, 3.0]])


# ---------------------------------------------------------------------------------------
# the tutorial as a script
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tutorial_run():
    """Run the tutorial in-process; returns (its globals, what it printed)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        g = runpy.run_path(TUTORIAL, run_name="__main__")
    return g, buf.getvalue()


def test_tutorial_prints_the_seed_cells(tutorial_run):
    _, out = tutorial_run
    assert out.startswith(X_PRINT + "\n" + Y_PRINT + "\n")
    lines = out.splitlines()
    # print(y.grad_fn), print(x.grad_fn), print(repr(y.grad_fn)), next_functions[0][0], .variable
    assert re.fullmatch(r"<SubBackward0 object at 0x[0-9a-f]+>", lines[4])
    assert lines[5] == "None"
    assert lines[6] == lines[4]
    assert re.fullmatch(r"<AccumulateGrad object at 0x[0-9a-f]+>", lines[7])
    assert "\n".join(lines[8:10]) == X_PRINT
    assert Z_OUT_PRINT + "\n" + X_GRAD_PRINT + "\n" in out


def test_tutorial_inference_section_output(tutorial_run):
    _, out = tutorial_run
    assert "tensor([1., 1., 1.]) tensor([1., 2., 3.])\n" in out
    assert "\nNone\ntensor([1., 2., 3.])\n" in out
    m = re.search(r"^RuntimeError: (.*)$", out, re.M)
    assert m and "volatile" in m.group(1)
    assert out[m.end():].startswith("\nNone\nNone\n")


def test_tutorial_prints_generated_backward_sources(tutorial_run):
    g, out = tutorial_run
    assert out.count("def backward(") == 2
    assert g["seed_backward"] in out and g["loop_backward"] in out
    assert "def backward(grad_out, x):" in g["seed_backward"]


def test_tutorial_values(tutorial_run):
    g, _ = tutorial_run
    out = g["out"]
    assert out.item() == pytest.approx(4.5)
    # the first x was rebound by the dynamic-graph cell; its gradient went through `out`
    # and `y`'s graph; check the loop's values instead
    x, y, gradients = g["x"], g["y"], g["gradients"]
    ratio = y.detach().numpy() / x.detach().numpy()
    k = math.log2(ratio[0])
    assert k == int(k) and k >= 1
    assert_allclose(ratio, 2.0 ** k, rtol=0)
    # the loop stops at the first doubling whose norm reaches 1000
    norm = np.linalg.norm(y.detach().numpy())
    assert norm >= 1000 and norm / 2 < 1000 or k == 1
    assert_allclose(x.grad.numpy(), gradients.numpy() * 2.0 ** k, rtol=1e-6)
    assert x.grad.dtype == np.float32
    # inference: the last cell (volatile) leaves both gradients None
    assert g["t_v"].grad is None and g["theta"].grad is None
    assert g["t"].dtype == np.int64
    assert g["s"].requires_grad is False


def test_tutorial_runs_as_a_script():
    """`python examples/autograd_tutorial.py`, as the README says."""
    r = subprocess.run([sys.executable, TUTORIAL], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.startswith(X_PRINT + "\n" + Y_PRINT + "\n")
    assert X_GRAD_PRINT in r.stdout


# ---------------------------------------------------------------------------------------
# the cells, replayed
# ---------------------------------------------------------------------------------------
def _seed_x():
    return Variable(torch.Tensor([[1, 2], [3, 4]]), requires_grad=True)


def test_variable_creation_and_print():
    x = _seed_x()
    assert str(x) == X_PRINT
    assert repr(x) == X_PRINT
    assert x.dtype == np.float32
    assert x.requires_grad and x.is_leaf
    assert x.grad_fn is None
    assert x.grad is None


def test_operation_records_grad_fn():
    x = _seed_x()
    y = x - 2
    assert str(y) == Y_PRINT
    assert type(y.grad_fn).__name__ == "SubBackward0"
    assert re.fullmatch(r"<SubBackward0 object at 0x[0-9a-f]+>", repr(y.grad_fn))
    assert y.requires_grad and not y.is_leaf
    assert x.grad_fn is None


def test_next_functions_reach_the_leaf():
    x = _seed_x()
    y = x - 2
    acc, nr = y.grad_fn.next_functions[0]
    assert isinstance(acc, AccumulateGrad)
    assert type(acc).__name__ == "AccumulateGrad"
    assert nr == 0
    assert acc.variable is x
    assert acc.next_functions == ()
    # the same AccumulateGrad node is reached from every consumer of x
    z = x * 3
    assert z.grad_fn.next_functions[0][0] is y.grad_fn.next_functions[0][0]
    # a chain of grad_fns leads back to x
    out = ((y * y) * 3).mean()
    fn = out.grad_fn
    names = []
    while not isinstance(fn, AccumulateGrad):
        names.append(type(fn).__name__)
        fn = fn.next_functions[0][0]
    assert names == ["MeanBackward0", "MulBackward0", "MulBackward0", "SubBackward0"]
    assert fn.variable is x


def test_backward_of_mean():
    x = _seed_x()
    y = x - 2
    z = y * y * 3
    out = z.mean()
    assert str(z) + " " + str(out) == Z_OUT_PRINT
    assert out.shape == ()
    assert out.item() == pytest.approx(4.5)
    out.backward()
    assert_allclose(x.grad.numpy(), X_GRAD)
    assert x.grad.dtype == np.float32
    assert str(x.grad) == X_GRAD_PRINT
    # non-leaves keep no .grad
    assert y.grad is None and z.grad is None


def test_backward_with_explicit_one_is_the_same():
    x = _seed_x()
    out = ((x - 2) * (x - 2) * 3).mean()
    out.backward(torch.Tensor([1.0]))
    assert_allclose(x.grad.numpy(), X_GRAD)
    assert x.grad.shape == (2, 2)
    # and a 0-d gradient, and a plain scaling
    x2 = _seed_x()
    out2 = ((x2 - 2) * (x2 - 2) * 3).mean()
    out2.backward(torch.tensor(2.0))
    assert_allclose(x2.grad.numpy(), 2 * X_GRAD)


def _doublings(x0):
    """How many times the loop multiplies by 2, computed independently of srcgrad."""
    norm = float(np.linalg.norm(x0.astype(np.float64)))
    k = 1
    while norm * 2.0 ** k < 1000:
        k += 1
    return k


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 7, 42, 1234, 99999])
def test_dynamic_graph_loop(seed):
    torch.manual_seed(seed)
    x = torch.randn(3)
    x = Variable(x, requires_grad=True)
    y = x * 2
    n = 1
    while y.data.norm() < 1000:
        y = y * 2
        n += 1
    k = _doublings(x.detach().numpy())
    assert n == k
    assert_allclose(y.detach().numpy(), x.detach().numpy() * 2.0 ** k, rtol=1e-6)
    gradients = torch.FloatTensor([0.1, 1.0, 0.0001])
    y.backward(gradients)
    assert x.grad.dtype == np.float32
    assert_allclose(x.grad.numpy(), np.array([0.1, 1.0, 0.0001], np.float32) * 2.0 ** k, rtol=1e-6)


def test_dynamic_graph_loop_depth_varies_with_the_data():
    ks = set()
    for seed in [0, 1, 2, 3, 7, 42, 1234, 99999]:
        torch.manual_seed(seed)
        ks.add(_doublings(torch.randn(3).numpy()))
    # a fixed-size input whose norm spans 2 octaves: the graph is not always the same
    for scale in (1.0, 4.0, 16.0):
        x = Variable(torch.ones(3) * scale, requires_grad=True)
        y = x * 2
        while y.data.norm() < 1000:
            y = y * 2
        y.backward(torch.ones(3))
        k = _doublings(np.ones(3) * scale)
        ks.add(k)
        assert_allclose(x.grad.numpy(), np.full(3, 2.0 ** k))
    assert len(ks) >= 3


def test_inference_variable_of_int_data_becomes_float():
    d = 3
    t = torch.arange(1, d + 1)
    assert t.dtype == np.int64
    t_v = Variable(t, requires_grad=True)
    assert t_v.dtype == np.float32
    assert t_v.requires_grad and t_v.is_leaf
    assert_array_equal(t_v.detach().numpy(), [1.0, 2.0, 3.0])
    # the original is untouched
    assert t.dtype == np.int64 and not t.requires_grad


def test_inference_both_require_grad():
    d = 3
    t = torch.arange(1, d + 1)
    t_v = Variable(t, requires_grad=True)
    theta = Variable(torch.ones(d), requires_grad=True)
    s = theta @ t_v
    assert s.shape == () and s.dtype == np.float32
    assert s.item() == 6.0
    s.backward()
    assert_array_equal(t_v.grad.numpy(), [1.0, 1.0, 1.0])
    assert_array_equal(theta.grad.numpy(), [1.0, 2.0, 3.0])
    assert t_v.grad.dtype == np.float32 and theta.grad.dtype == np.float32
    assert str(t_v.grad) + " " + str(theta.grad) == "tensor([1., 1., 1.]) tensor([1., 2., 3.])"


def test_inference_plain_variable_gets_no_grad():
    d = 3
    t = torch.arange(1, d + 1)
    t_v = Variable(t)
    assert not t_v.requires_grad
    theta = Variable(torch.ones(d), requires_grad=True)
    s = theta @ t_v
    assert s.dtype == np.float32 and s.item() == 6.0
    s.backward()
    assert t_v.grad is None
    assert_array_equal(theta.grad.numpy(), [1.0, 2.0, 3.0])


def test_inference_volatile_records_nothing():
    d = 3
    t = torch.arange(1, d + 1)
    t_v = Variable(t, volatile=True)
    theta = Variable(torch.ones(d), requires_grad=True)
    s = theta @ t_v
    assert s.item() == 6.0
    assert s.grad_fn is None and not s.requires_grad
    with pytest.raises(RuntimeError, match="volatile"):
        s.backward()
    assert t_v.grad is None and theta.grad is None


def test_volatile_propagates_through_later_ops():
    v = Variable(torch.ones(3), volatile=True)
    w = Variable(torch.ones(3), requires_grad=True)
    r = ((v * w) + w).sum()
    assert r.grad_fn is None and not r.requires_grad
    with pytest.raises(RuntimeError, match="volatile"):
        r.backward()
