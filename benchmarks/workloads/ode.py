"""GradBench's ODE eval (cmpad's an_ode): fourth-order Runge-Kutta, n = 1000, s = 10 steps.

    y_0' = x_0,   y_i' = x_i * y_{i-1} (i > 0),   y(0) = 0,   t in [0, 2]

The differentiated output is the last element of y(2), in x (s is a static integer).
Each RK4 step carries information at most 4 places down the chain, so with GradBench's
n = 1000, s = 10 the last element (and its gradient) is exactly 0: the work is done all
the same, but the gradient check is only meaningful at the tiny and small sizes
(n < 4s), which the test suite uses.
"""
import numpy as np

SIZES = {"tiny": dict(n=5, s=2), "small": dict(n=12, s=4), "full": dict(n=1000, s=10)}
ARGNUMS = (0,)


def make_inputs(size):
    p = SIZES[size]
    rng = np.random.default_rng(0)
    return rng.random(p["n"]), p["s"]


def rhs(x, y):
    return np.concatenate([x[:1], x[1:] * y[:-1]])


def runge_kutta(x, y, tf, s):
    h = tf / s
    for _ in range(s):
        k1 = rhs(x, y)
        k2 = rhs(x, y + h / 2 * k1)
        k3 = rhs(x, y + h / 2 * k2)
        k4 = rhs(x, y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def forward(x, s):
    y = runge_kutta(x, np.zeros(x.shape[0]), 2.0, s)
    return y[-1]


#: the hand-written gradients benchmarks/by_hand.py measures: a checkpoint every step, and
#: every second step
HAND_SETTINGS = (dict(segment=1), dict(segment=2))


def gradient_by_hand(x, s, segment=1):
    """The value and its gradient in x as one would write them in numpy to keep memory
    down (the reference for what a reverse sweep of this loop can reach: by_hand.py): the
    state every `segment` steps is kept, and each segment's steps are run again, keeping
    their stage inputs, before their backward; arrays are updated in place."""
    n = x.shape[0]
    h = 2.0 / s
    x0, x1 = x[:1], x[1:]

    def rhs(z):
        return np.concatenate([x0, x1 * z[:-1]])

    def stages(y):  # the inputs z2, z3, z4 of a step's k2, k3, k4
        zs, z = [], y
        for coef in (h / 2, h / 2, h):
            z = rhs(z)
            z *= coef
            z += y
            zs.append(z)
        return zs

    def step(y):
        acc = rhs(y)
        k = rhs(y + h / 2 * acc)
        acc += 2 * k
        k = rhs(y + h / 2 * k)
        acc += 2 * k
        acc += rhs(y + h * k)
        acc *= h / 6
        acc += y
        return acc

    def step_backward(y, zs, g, gx):
        """g: the cotangent of the step's result, made that of y in place; gx: x's, added to."""
        g_k1 = h / 6 * g  # (k4's too; k2's and k3's are twice it)
        g_k = g_k1
        for z, coef, twice in ((zs[2], h, True), (zs[1], h / 2, True), (zs[0], h / 2, False), (y, 0, False)):
            gx[0] += g_k[0]  # k = rhs(z) = [x0, x1 * z[:-1]]
            gx[1:] += g_k[1:] * z[:-1]
            g_z = g_k[1:] * x1
            g[:-1] += g_z  # z = y + coef * (the stage before's k)
            if not coef:
                break
            g_k = 2 * g_k1 if twice else g_k1.copy()
            g_z *= coef
            g_k[:-1] += g_z

    checkpoints, y = [], np.zeros(n)
    for i in range(s):
        if i % segment == 0:
            checkpoints.append(y)
        y = step(y)
    value = y[-1]
    g, gx = np.zeros(n), np.zeros(n)
    g[-1] = 1.0
    del y
    for start in reversed(range(0, s, segment)):
        stop = min(start + segment, s)
        y, saved = checkpoints.pop(), []
        for i in range(start, stop):
            saved.append((y, stages(y)))
            if i + 1 < stop:
                y = step(y)
        del y
        while saved:
            y, zs = saved.pop()
            step_backward(y, zs, g, gx)
            del y, zs
    return value, (gx,)


def torch_objectives(torch):
    def f(x, y):
        return torch.cat([x[:1], x[1:] * y[:-1]])

    def ode(x, s):
        h = 2.0 / s
        y = torch.zeros(x.shape[0], dtype=x.dtype)
        for _ in range(s):
            k1 = f(x, y)
            k2 = f(x, y + h / 2 * k1)
            k3 = f(x, y + h / 2 * k2)
            k4 = f(x, y + h * k3)
            y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return y[-1]
    return [ode]
