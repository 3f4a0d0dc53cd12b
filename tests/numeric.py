"""Central differences for tests of real and complex arguments."""
import numpy as np


def numeric_grad(f, z, eps=1e-6):
    """dL/dx + i dL/dy per entry of z for a real loss f (dL/dx alone for real z): the
    gradient in PyTorch's convention, by central differences."""
    z = np.asarray(z)
    out = np.zeros(z.shape, z.dtype if z.dtype.kind in "fc" else complex)
    for k in range(z.size):
        e = np.zeros(z.size)
        e[k] = 1
        e = e.reshape(z.shape)
        d = (_number(f(z + eps * e)) - _number(f(z - eps * e))) / (2 * eps)
        if z.dtype.kind == "c":
            d = d + 1j * (_number(f(z + 1j * eps * e)) - _number(f(z - 1j * eps * e))) / (2 * eps)
        out.flat[k] = d
    return out


def _number(v):
    """f's value as a Python number (f may return a srcgrad tensor)."""
    return np.asarray(v).item()
