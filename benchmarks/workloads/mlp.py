"""A one-hidden-layer MLP: batch 64, 784-256-10, tanh, softmax cross-entropy.

The loss uses a stable logsumexp (subtract the row maximum). The gradient is taken in
all four parameters; the data X and the one-hot labels Y are not differentiated.
"""
import numpy as np

SIZES = {
    "tiny": dict(batch=4, d_in=6, d_hidden=5, d_out=3),
    "small": dict(batch=64, d_in=784, d_hidden=256, d_out=10),
    "full": dict(batch=64, d_in=784, d_hidden=256, d_out=10),
}
ARGNUMS = (0, 1, 2, 3)


def make_inputs(size):
    p = SIZES[size]
    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((p["d_in"], p["d_hidden"])) / np.sqrt(p["d_in"])
    b1 = 0.1 * rng.standard_normal(p["d_hidden"])
    W2 = rng.standard_normal((p["d_hidden"], p["d_out"])) / np.sqrt(p["d_hidden"])
    b2 = 0.1 * rng.standard_normal(p["d_out"])
    X = rng.standard_normal((p["batch"], p["d_in"]))
    Y = np.eye(p["d_out"])[rng.integers(0, p["d_out"], p["batch"])]
    return W1, b1, W2, b2, X, Y


def forward(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
    return np.mean(lse - np.sum(Y * logits, axis=1, keepdims=True))


def gradient_by_hand(W1, b1, W2, b2, X, Y):
    """The loss and its gradient as one would write them in numpy (the reference for
    what G/F a hand-written gradient reaches: benchmarks/by_hand.py)."""
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits - m)
    s = np.sum(e, axis=1, keepdims=True)
    loss = np.mean(m + np.log(s) - np.sum(Y * logits, axis=1, keepdims=True))
    d_logits = (e / s - Y) / n
    d_h = d_logits @ W2.T
    d_pre = d_h * (1 - h * h)
    return loss, (X.T @ d_pre, d_pre.sum(axis=0), h.T @ d_logits, d_logits.sum(axis=0))


def torch_objectives(torch):
    def mlp(W1, b1, W2, b2, X, Y):
        h = torch.tanh(X @ W1 + b1)
        logits = h @ W2 + b2
        m = logits.amax(dim=1, keepdim=True)
        lse = m + torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))
        return (lse - (Y * logits).sum(dim=1, keepdim=True)).mean()
    return [mlp]
