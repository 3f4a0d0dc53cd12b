"""`torch.Size`: a tensor's shape as PyTorch gives it — a tuple of ints that prints as
`torch.Size([2, 3])` and stays a Size when sliced, added to or repeated. (In numpy code, a
traced array's `.shape` is numpy's plain tuple.)"""


class Size(tuple):
    __slots__ = ()

    def __repr__(self):
        return f"torch.Size({list(self)!r})"

    __str__ = __repr__

    def __getitem__(self, k):
        item = tuple.__getitem__(self, k)
        return Size(item) if isinstance(k, slice) else item

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other))) if isinstance(other, tuple) else NotImplemented

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self)) if isinstance(other, tuple) else NotImplemented

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__

    def numel(self):
        n = 1
        for d in self:
            n *= d
        return n

    def __reduce__(self):
        return Size, (tuple(self),)
