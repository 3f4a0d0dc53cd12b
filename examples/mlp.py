"""A small MLP on synthetic data: softmax cross-entropy, trained with a compiled gradient."""
import sys
import time

import numpy as np

import srcgrad


@srcgrad.value_and_grad(argnums=(0, 1, 2, 3))
def loss(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    log_z = np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True)) + m
    return np.mean(np.sum(Y * (log_z - logits), axis=1))


def make_data(rng, n=512, d=20, k=4):
    centers = rng.standard_normal((k, d)) * 2
    labels = rng.integers(0, k, n)
    X = centers[labels] + rng.standard_normal((n, d))
    return X, np.eye(k)[labels], labels


def main(epochs=30, lr=0.2):
    rng = np.random.default_rng(1)
    X, Y, labels = make_data(rng)
    d, k, hidden = X.shape[1], Y.shape[1], 32
    params = [rng.standard_normal((d, hidden)) * 0.2, np.zeros(hidden),
              rng.standard_normal((hidden, k)) * 0.2, np.zeros(k)]
    t0 = time.perf_counter()
    for epoch in range(epochs):
        value, grads = loss(*params, X, Y)
        params = [p - lr * g for p, g in zip(params, grads)]
        bar = "#" * int(30 * (epoch + 1) / epochs)
        sys.stdout.write(f"\repoch {epoch + 1:3d}/{epochs} [{bar:<30}] loss {value:.4f}")
        sys.stdout.flush()
    W1, b1, W2, b2 = params
    accuracy = np.mean(np.argmax(np.tanh(X @ W1 + b1) @ W2 + b2, axis=1) == labels)
    print(f"\naccuracy {accuracy:.3f} in {time.perf_counter() - t0:.2f} s")
    print(loss.cache_info())
    return value, accuracy


if __name__ == "__main__":
    main()
