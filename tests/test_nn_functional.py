"""srcgrad.nn.functional: PyTorch's functional layers, checked against finite differences."""
import numpy as np
import pytest

import srcgrad
import srcgrad.nn.functional as F
from srcgrad.testing import gradcheck

X = np.array([[0.5, -1.2, 2.0], [-0.3, 0.8, -2.5]])
T = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])


@pytest.mark.parametrize("name, f", [
    ("relu", lambda x: F.relu(x)), ("relu6", lambda x: F.relu6(x * 4)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1)), ("elu", lambda x: F.elu(x)),
    ("gelu", lambda x: F.gelu(x)), ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh")),
    ("silu", lambda x: F.silu(x)), ("softplus", lambda x: F.softplus(x, beta=2.0)),
    ("softmax", lambda x: F.softmax(x, dim=1)), ("log_softmax", lambda x: F.log_softmax(x, dim=0)),
    ("linear", lambda x: F.linear(x, x.t() @ x, x[0])),
    ("mse", lambda x: F.mse_loss(x, T)), ("l1", lambda x: F.l1_loss(x, T, reduction="sum")),
    ("bce_logits", lambda x: F.binary_cross_entropy_with_logits(x, T)),
    ("cross_entropy_idx", lambda x: F.cross_entropy(x, srcgrad.tensor([2, 0]))),
    ("cross_entropy_prob", lambda x: F.cross_entropy(x, T)),
    ("nll", lambda x: F.nll_loss(F.log_softmax(x, 1), srcgrad.tensor([1, 2]))),
])
def test_functional_gradients(name, f):
    gradcheck(f, X)


def test_values_match_the_definitions():
    x = srcgrad.tensor(X)
    np.testing.assert_allclose(F.cross_entropy(x, srcgrad.tensor([2, 0])).item(),
                               np.mean([-np.log(np.exp(X[0]) / np.exp(X[0]).sum())[2],
                                        -np.log(np.exp(X[1]) / np.exp(X[1]).sum())[0]]))
    np.testing.assert_allclose(F.leaky_relu(x, 0.1).numpy(), np.where(X > 0, X, 0.1 * X))
