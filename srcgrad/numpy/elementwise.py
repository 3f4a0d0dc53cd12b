"""numpy's elementwise functions over tensors, each one entry of the op table."""
import numpy as np

from .. import _dtype
from .. import ops as _ops
from ..autograd.recording import apply
from ._dispatch import implements, tensor_cls


def _operand(x):
    Tensor = tensor_cls()
    if isinstance(x, (Tensor, np.ndarray, bool, int, float)):
        return x
    if isinstance(x, np.generic):
        return x.item()
    return np.asarray(x)


def elementwise(opname, *args, float_result=False):
    """Apply elementwise op `opname` with PyTorch's promotion (see tensor._promote)."""
    from ..tensor import _promote
    operands = _promote([_operand(x) for x in args], float_result)
    Tensor = tensor_cls()
    if float_result and len(operands) == 1 and isinstance(operands[0], Tensor) \
            and operands[0].dtype.kind in "iub":
        operands = [operands[0]._cast_const(_dtype.get_default_dtype())]
    return apply(_ops.get(opname), operands, {})


def _define(np_func, opname, float_result=False):
    def impl(*args):
        return elementwise(opname, *args, float_result=float_result)
    impl.__name__ = np_func.__name__
    impl.__doc__ = f"numpy.{np_func.__name__} over tensors (op `{opname}`)."
    implements(np_func)(impl)
    return impl


add = _define(np.add, "add")
subtract = _define(np.subtract, "sub")
multiply = _define(np.multiply, "mul")
true_divide = divide = _define(np.true_divide, "div", float_result=True)
power = _define(np.power, "pow")
negative = _define(np.negative, "neg")
exp = _define(np.exp, "exp", True)
log = _define(np.log, "log", True)
sqrt = _define(np.sqrt, "sqrt", True)
sin = _define(np.sin, "sin", True)
cos = _define(np.cos, "cos", True)
tanh = _define(np.tanh, "tanh", True)
absolute = abs = _define(np.absolute, "abs")
sign = _define(np.sign, "sign")
less = _define(np.less, "lt")
less_equal = _define(np.less_equal, "le")
greater = _define(np.greater, "gt")
greater_equal = _define(np.greater_equal, "ge")
equal = _define(np.equal, "eq")
not_equal = _define(np.not_equal, "ne")


@implements(np.where)
def where(condition, x=None, y=None):
    """Elementwise select; the gradient of the branch not taken is exactly 0."""
    from ..tensor import _promote
    Tensor = tensor_cls()
    if x is None and y is None:
        c = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
        return tuple(Tensor._make(i) for i in np.nonzero(c))
    c = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    a, b = _promote([_operand(x), _operand(y)])
    return apply(_ops.get("where"), [c, a, b], {})
