"""A symbolic Hessian: the energy of a chain of springs, differentiated twice.

srcgrad differentiates the generated backward IR again (reverse over reverse), so the
Hessian-vector product below is exact and its code can be read like the energy's.
"""
import numpy as np

import srcgrad


def energy(x, k=1.0, rest=1.0):
    """Potential energy of masses on a line joined by springs, plus a quartic wall."""
    stretch = x[1:] - x[:-1] - rest
    return 0.5 * k * np.sum(stretch ** 2) + 0.1 * np.sum(x ** 4)


def main():
    x = np.array([0.0, 1.2, 1.9, 3.1])
    H = srcgrad.hessian(energy)(x)
    print("Hessian of the energy at x =", x)
    print(np.round(H, 4))
    # the same by hand: spring stiffness on the tridiagonal, 1.2 x^2 on the diagonal
    expected = np.diag(1.2 * x ** 2) + np.diag([1.0, 2.0, 2.0, 1.0]) \
        - np.diag(np.ones(3), 1) - np.diag(np.ones(3), -1)
    print("matches the hand-derived Hessian:", np.allclose(H, expected))
    print("\ngenerated Hessian-vector product:\n")
    print(srcgrad.hvp(energy).source(x, np.ones_like(x)))
    return H, expected


if __name__ == "__main__":
    main()
