"""ADBench's LSTM objective: 2 layers, b = 14 (bits per character), a sequence of characters.

main_params (2*layers, 4b) are the (diagonal) gate weights and biases of each layer,
extra_params (3, b) the input scale and output affine map, state (2*layers, b) the
initial hidden/cell rows, sequence (c, b) the characters as bits. The loss is the
average log-likelihood of each next character, kept exactly as ADBench wrote it —
including `sum(exp(ypred), 2)`, Python's sum with start 2, i.e. log(2 + sum(exp(ypred))).

A long Python loop over small vectors: 2 layers x (c - 1) steps of ~20 small ops.
Gradient in main_params and extra_params.
"""
import numpy as np

SIZES = {
    "tiny": dict(layers=2, b=4, c=4),
    "small": dict(layers=2, b=14, c=16),
    "full": dict(layers=2, b=14, c=1024),
}
ARGNUMS = (0, 1)


def make_inputs(size):
    p = SIZES[size]
    rng = np.random.default_rng(0)
    main_params = rng.random((2 * p["layers"], 4 * p["b"]))
    extra_params = rng.random((3, p["b"]))
    state = rng.random((2 * p["layers"], p["b"]))
    sequence = rng.integers(0, 2, (p["c"], p["b"])).astype(np.float64)
    return main_params, extra_params, state, sequence


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_cell(weight, bias, hidden, cell, x):
    gates = np.concatenate((x, hidden, x, hidden)) * weight + bias
    h = hidden.shape[0]
    forget = sigmoid(gates[0:h])
    ingate = sigmoid(gates[h:2 * h])
    outgate = sigmoid(gates[2 * h:3 * h])
    change = np.tanh(gates[3 * h:])
    cell = cell * forget + ingate * change
    hidden = outgate * np.tanh(cell)
    return hidden, cell


def predict(main_params, extra_params, state, x):
    x = x * extra_params[0]
    new_state = []
    for i in range(0, len(state), 2):
        hidden, cell = lstm_cell(main_params[i], main_params[i + 1], state[i], state[i + 1], x)
        new_state += [hidden, cell]
        x = hidden
    return x * extra_params[1] + extra_params[2], new_state


def forward(main_params, extra_params, state, sequence):
    total = 0.0
    s = [state[i] for i in range(state.shape[0])]
    x = sequence[0]
    for t in range(sequence.shape[0] - 1):
        ypred, s = predict(main_params, extra_params, s, x)
        ynorm = ypred - np.log(np.sum(np.exp(ypred)) + 2)
        ygold = sequence[t + 1]
        total = total + np.sum(ygold * ynorm)
        x = ygold
    return -total / ((sequence.shape[0] - 1) * sequence.shape[1])


def torch_objectives(torch):
    def cell_fn(weight, bias, hidden, cell, x):
        gates = torch.cat((x, hidden, x, hidden)) * weight + bias
        h = hidden.shape[0]
        forget = torch.sigmoid(gates[0:h])
        ingate = torch.sigmoid(gates[h:2 * h])
        outgate = torch.sigmoid(gates[2 * h:3 * h])
        change = torch.tanh(gates[3 * h:])
        cell = cell * forget + ingate * change
        return outgate * torch.tanh(cell), cell

    def lstm(main_params, extra_params, state, sequence):
        total = 0.0
        s = [state[i] for i in range(state.shape[0])]
        x = sequence[0]
        for t in range(sequence.shape[0] - 1):
            x = x * extra_params[0]
            new = []
            for i in range(0, len(s), 2):
                hidden, cell = cell_fn(main_params[i], main_params[i + 1], s[i], s[i + 1], x)
                new += [hidden, cell]
                x = hidden
            s = new
            ypred = x * extra_params[1] + extra_params[2]
            ynorm = ypred - torch.log(torch.exp(ypred).sum() + 2)
            ygold = sequence[t + 1]
            total = total + (ygold * ynorm).sum()
            x = ygold
        return -total / ((sequence.shape[0] - 1) * sequence.shape[1])
    return [lstm]
