"""srcgrad: define-by-run autograd whose backward passes are generated, readable Python.

    import srcgrad as torch
    x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    out = (3 * (x - 2) ** 2).mean()
    out.backward()
    print(srcgrad.inspect.backward_source(out))
"""
from . import autograd, config, fft, inspect, linalg, nn, ops, optim
from ._dtype import (bool, cdouble, cfloat, complex64, complex128, double, float, float16, float32, float64,
                     get_default_dtype, half, int, int8, int16, int32, int64, long, set_default_dtype, short, uint8)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .size import Size
from .serialization import load, save
from .utils import data as _data  # noqa: F401  (srcgrad.utils.data, as torch.utils.data)
from .creation import (BoolTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor, arange, as_tensor,
                       empty, eye, from_numpy, full, full_like, linspace, manual_seed, ones, ones_like,
                       rand, rand_like, randint, randn, randn_like, tensor, zeros, zeros_like)
from .functional import (abs, acos, add, addmm, allclose, arccos, arcsin, arctan, asin, atan, atan2,
                         bmm, ceil, clamp, clip, cos, cosh, cross, det, diag, dist, div, divide, dot,
                         erf, exp, exp2, expm1, flip, floor, gather, ger, index_select, inverse,
                         isfinite, isnan, kron, lerp, log, log1p, log2, log10, logical_and,
                         logical_not, logical_or, masked_fill, matmul, maximum, mean, minimum, mm,
                         mul, multiply, neg, norm, numel, outer, pow, reciprocal, relu, reshape, roll,
                         round, rsqrt, sigmoid, sign, sin, sinh, softplus, sort, sqrt, square,
                         squeeze, sub, subtract, sum, t, tan, tanh, tile, transpose, tril, triu,
                         true_divide, unsqueeze, where)
from .functional import (amax, amin, argmax, argmin, cumprod, cumsum, log_softmax, logsumexp, max, min,
                         prod, softmax, std, var)
from .surface import *  # noqa: F401,F403  (PyTorch's wider vocabulary: srcgrad/surface.py)
from .numpy.shape import torch_cat as cat, torch_flatten as flatten, torch_split as split, torch_stack as stack
from .numpy.products import torch_einsum as einsum
from .tensor import Tensor
from .transforms import compile, grad, hessian, hvp, jacobian, value_and_grad, vjp
from .export import export
from .custom import custom_vjp, register_elementwise

from .trace import GradientLostWarning, TraceError
# `srcgrad.trace(x)` is the matrix trace, as `torch.trace` (not the module srcgrad/trace.py,
# whose attribute on the package importing it set)
from .functional import trace

from .autograd import pytorch_names as _pytorch_names

_pytorch_names.install()  # (PyTorch's node names for the functions it computes as one node)

__version__ = "0.1.0"
