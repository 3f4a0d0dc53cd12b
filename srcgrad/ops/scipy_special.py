"""scipy.special's ufuncs as elementwise primitives (formulas in symbolic/special.py).

Each is one entry of the op table like numpy's exp: fused into kernels, differentiated by
sympy through the formula's `fdiff`, printed as `special.<name>(...)`. The eager
implementation calls scipy itself (imported when first needed: srcgrad does not depend
on scipy, and a tensor reaches these only from code that called scipy).
"""
import numpy as np

from ..symbolic import special as S
from .elementwise import _infer_float, elementwise

#: op name -> PyTorch's node for the same function, where PyTorch has one
_TORCH_NAMES = {"gammaln": "LgammaBackward0", "digamma": "DigammaBackward0",
                "polygamma": "PolygammaBackward0", "erfinv": "ErfinvBackward0", "i0": "I0Backward0",
                "i0e": "SpecialI0EBackward0", "i1": "SpecialI1Backward0", "i1e": "SpecialI1EBackward0",
                "ndtri": "SpecialNdtriBackward0", "log_ndtr": "SpecialLogNdtrBackward0",
                "erfcx": "SpecialErfcxBackward0"}

#: scipy's name -> the op's (scipy calls digamma `psi`)
OP_NAMES = {name: "digamma" if name == "psi" else name for name in S.BY_NAME}


def _impl(scipy_name):
    def impl(*args):
        out = getattr(S.scipy_special(), scipy_name)(*args)
        floats = [a.dtype for a in map(np.asarray, args) if a.dtype.kind in "fc"]
        dtype = np.result_type(*floats) if floats else np.dtype(np.float64)
        return out.astype(dtype, copy=False) if isinstance(out, np.ndarray) else dtype.type(out)
    impl.__name__ = scipy_name
    return impl


for _name, _fn in S.BY_NAME.items():
    elementwise(OP_NAMES[_name], _fn, _impl(_name), infer=_infer_float,
                torch_name=_TORCH_NAMES.get(OP_NAMES[_name]))


#: erf of complex numbers (math.erf, which the real op computes with, has none): scipy's,
#: holomorphic (ops/complex.py), with derivative 2/sqrt(pi) exp(-z^2)
_erf_of_complex = type("special_erf", (S.SpecialFunction,), {
    "nargs": 1, "scipy_name": "erf", "derivatives": (lambda z: 2 / S._SQRT_PI * S.exp(-z ** 2),)})
elementwise("erf_complex", _erf_of_complex, _impl("erf"), infer=_infer_float, torch_name="ErfBackward0")
