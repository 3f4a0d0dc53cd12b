"""The persistent cache: generated functions kept on disk between processes.

A second process that calls a decorated function with the same argument signature loads
the code compiled earlier instead of recording the function and running sympy again.

Safety, since loaded code is executed:
- the cache directory is created owner-only (0700) and refused if anyone else can write
  to it or it belongs to another user; files are written 0600;
- every entry is authenticated with an HMAC-SHA256 under a random per-cache key (itself a
  0600 file), and an entry whose MAC does not verify is ignored (and reported once);
- entries are JSON (never pickle); the only code in them is source that srcgrad generated,
  in which user-supplied text appears solely as sanitised identifiers and comments;
- captured arrays are not stored: they are found again by name in the function's
  globals/closure and must match the stored content hash, else the entry is not used.

An entry is keyed by srcgrad's version, the function's qualified name and first line, a
hash of its whole source file (an edit anywhere in the file invalidates it), the
transform and its options, and the argument signature (structure, shapes, dtypes, static
values). Guards are in the code itself, as in memory.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
import warnings

FORMAT = 1
_warned = set()


def _warn_once(msg):
    if msg not in _warned:
        _warned.add(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=3)


def cache_dir():
    """The cache directory to use now, or None when the disk cache is off."""
    from .. import config
    if os.environ.get("SRCGRAD_CACHE", "1") == "0" or config.cache_dir is False:
        return None
    if config.cache_dir:
        return os.path.abspath(config.cache_dir)
    if os.environ.get("SRCGRAD_CACHE_DIR"):
        return os.path.abspath(os.environ["SRCGRAD_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "srcgrad")


def _safe_dir(path):
    """Create `path` owner-only, or refuse it if it is not private to this user."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError as e:
        _warn_once(f"srcgrad: disk cache disabled, cannot use {path}: {e}")
        return False
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        _warn_once(f"srcgrad: disk cache disabled, {path} belongs to another user")
        return False
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH | stat.S_IRGRP | stat.S_IROTH):
        _warn_once(f"srcgrad: disk cache disabled, {path} is accessible to other users "
                   f"(chmod 700 it to use it)")
        return False
    return True


def _key(path):
    """The per-cache MAC key, created on first use."""
    kf = os.path.join(path, "key")
    try:
        with open(kf, "rb") as f:
            key = f.read()
        if len(key) == 32 and not os.stat(kf).st_mode & 0o077:
            return key
    except OSError:
        pass
    key = secrets.token_bytes(32)
    _write(kf, key)
    return key


def _write(path, data):
    """Atomically write bytes with mode 0600."""
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _mac(key, payload):
    return hmac.new(key, json.dumps(payload, sort_keys=True).encode(), hashlib.sha256).hexdigest()


def array_hash(arr):
    import numpy as np
    arr = np.ascontiguousarray(arr)
    h = hashlib.sha256(arr.tobytes())
    h.update(repr((arr.shape, arr.dtype.str)).encode())
    return h.hexdigest()


#: a captured array kept by value in an entry is at most this big
MAX_EMBEDDED_BYTES = 1 << 22


def array_record(arr):
    """A numeric array as JSON data (dtype, shape, base64 bytes), or None if it is too big
    or not plain numbers. Data only: nothing in it is ever executed."""
    import base64

    import numpy as np
    arr = np.asarray(arr, order="C")  # (not ascontiguousarray: it makes a 0-d array 1-d)
    if arr.dtype.kind not in "biuf" or arr.nbytes > MAX_EMBEDDED_BYTES:
        return None
    return {"dtype": arr.dtype.str, "shape": list(arr.shape), "data": base64.b64encode(arr.tobytes()).decode()}


def array_from_record(record):
    """The array of `array_record`; ValueError if the record is malformed."""
    import base64

    import numpy as np
    dtype = np.dtype(str(record["dtype"]))
    if dtype.kind not in "biuf":
        raise ValueError("not a numeric array")
    shape = tuple(int(d) for d in record["shape"])
    data = base64.b64decode(record["data"].encode(), validate=True)
    arr = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    arr.flags.writeable = False
    return arr


def code_record(code):
    """A compiled module as data for an entry: marshal bytes, tagged with the Python that
    made them (another Python compiles from the source instead)."""
    import base64
    import marshal
    import sys
    return {"tag": sys.implementation.cache_tag, "data": base64.b64encode(marshal.dumps(code)).decode()}


def code_from_record(record):
    """The code object of `code_record`, or None for another Python. Only ever read from
    an entry whose MAC verified, like the source next to it."""
    import base64
    import marshal
    import sys
    if not isinstance(record, dict) or record.get("tag") != sys.implementation.cache_tag:
        return None
    code = marshal.loads(base64.b64decode(record["data"].encode(), validate=True))
    return code if isinstance(code, type(code_record.__code__)) else None


class DiskCache:
    """Entries for one decorated function: lists of variants under signature keys."""

    def __init__(self, identity):
        self.path = cache_dir()
        self.identity = identity
        if self.path is not None and not _safe_dir(self.path):
            self.path = None
        self.key = _key(self.path) if self.path is not None else None

    @property
    def enabled(self):
        return self.path is not None

    def _file(self, signature):
        digest = hashlib.sha256(json.dumps([FORMAT, self.identity, signature]).encode()).hexdigest()
        return os.path.join(self.path, digest[:40] + ".json")

    def load(self, signature):
        """The stored variants (dicts) for a signature, MAC-verified; [] if none."""
        if not self.enabled:
            return []
        f = self._file(signature)
        try:
            with open(f, "rb") as fh:
                entry = json.loads(fh.read().decode())
        except (OSError, ValueError):
            return []
        mac = entry.pop("mac", None)
        if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(self.key, entry)):
            _warn_once(f"srcgrad: ignoring disk cache entry {f}: it does not verify (modified?)")
            return []
        if entry.get("format") != FORMAT or entry.get("identity") != self.identity \
                or entry.get("signature") != signature:
            return []
        return entry.get("variants", [])

    def store(self, signature, variant_record):
        if not self.enabled:
            return
        variants = [v for v in self.load(signature) if v.get("source") != variant_record["source"]]
        variants.append(variant_record)
        entry = {"format": FORMAT, "identity": self.identity, "signature": signature,
                 "variants": variants[-16:]}
        entry["mac"] = _mac(self.key, dict(entry))
        try:
            _write(self._file(signature), json.dumps(entry, sort_keys=True).encode())
        except OSError as e:
            _warn_once(f"srcgrad: cannot write the disk cache: {e}")


def function_identity(fn, *options):
    """A string naming fn's code for the cache key, or None when it cannot be pinned down
    (no source file): such functions are not cached on disk."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    try:
        with open(code.co_filename, "rb") as f:
            file_hash = hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None
    captured = _captured_values(fn, code)
    if captured is None:
        return None
    if getattr(fn, "__self__", None) is not None:  # a bound method: what its object holds
        state = _object_state(fn.__self__)
        if state is None:
            return None
        captured = captured + [["self", state]]
    # (the code's own hash too: two lambdas on one line share name, line and file)
    from .. import config
    return json.dumps([srcgrad_fingerprint(), list(config.thresholds()), getattr(fn, "__module__", ""),
                       getattr(fn, "__qualname__", ""), code.co_firstlineno, _code_hash(code), file_hash,
                       [repr(o) for o in options], captured])


def _object_state(obj):
    """The attributes of a bound method's object, for the key (`model.loss` of two models
    is two functions); None when one of them is not plain data, an array or a function."""
    import numpy as np
    import types
    state = []
    for name, v in sorted(getattr(obj, "__dict__", {}).items()):
        if _plain(v):
            state.append([name, repr(v)])
        elif isinstance(v, np.ndarray):
            state.append([name, array_hash(v)])
        elif isinstance(v, types.FunctionType):
            fid = _function_value(v, frozenset())
            if fid is None:
                return None
            state.append([name, fid])
        else:
            return None
    return [type(obj).__module__, type(obj).__qualname__, state]


_FINGERPRINT = []


def srcgrad_fingerprint():
    """A hash of srcgrad's own source: code generated by another srcgrad (a fixed rule, a
    new printer) is never reused, whatever the version string says."""
    if not _FINGERPRINT:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        h = hashlib.sha256()
        for dirpath, dirnames, filenames in sorted(os.walk(root)):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(".py"):
                    with open(os.path.join(dirpath, name), "rb") as f:
                        h.update(name.encode() + f.read())
        _FINGERPRINT.append(h.hexdigest()[:32])
    return _FINGERPRINT[0]


_PLAIN = (bool, int, float, str, type(None))


def _plain(v):
    if isinstance(v, _PLAIN):
        return True
    return isinstance(v, tuple) and all(_plain(x) for x in v)


def _captured_values(fn, code, _seen=frozenset()):
    """The values a trace would bake into the code: closure cells, defaults, the plain
    globals the function reads (numbers, strings), and the functions it calls by name
    (their code and, recursively, what they capture). Part of the key, so another value
    means another entry; None (do not cache) when one of them is not plain data."""
    import numpy as np
    import types
    out = []
    cells = getattr(fn, "__closure__", None) or ()
    for name, cell in zip(code.co_freevars, cells):
        try:
            v = cell.cell_contents
        except ValueError:
            continue
        if _plain(v):
            out.append(["cell", name, repr(v)])
        elif isinstance(v, np.ndarray):
            out.append(["cell", name, array_hash(v)])
        elif isinstance(v, types.FunctionType):
            # `def check(f): grad(lambda x: f(x).sum())` is one function per f
            fid = _function_value(v, _seen)
            if fid is None:
                return None
            out.append(["cell", name, fid])
        else:
            named = _named_value(v)
            if named is None:
                return None
            out.append(["cell", name, named])
    for d in (getattr(fn, "__defaults__", None) or ()):
        if not _plain(d):
            return None
        out.append(["default", repr(d)])
    kw = getattr(fn, "__kwdefaults__", None) or {}
    for k in sorted(kw):
        if not _plain(kw[k]):
            return None
        out.append(["kwdefault", k, repr(kw[k])])
    g = getattr(fn, "__globals__", {})
    for name in code.co_names:
        if name in g and _plain(g[name]):
            out.append(["global", name, repr(g[name])])
        elif name in g and isinstance(g[name], types.FunctionType):
            # a global rebound to another function (`for f in fs: ... grad(loss)`) must not
            # find the code compiled for the previous one
            fid = _function_value(g[name], _seen)
            if fid is None:
                return None
            out.append(["global", name, fid])
        elif name in g and isinstance(g[name], (dict, list)):
            data = _data_value(g[name])  # (`CONFIG["scale"]`: a number the trace bakes in)
            if data is not None:
                out.append(["global", name, data])
        elif name in g:
            named = _named_value(g[name])  # (`np`, `cast = np.int64`, `f = np.sin`)
            if named is not None:
                out.append(["global", name, named])
            if isinstance(g[name], types.ModuleType):
                attrs = _module_attributes(g[name], code.co_names, _seen)
                if attrs is None:
                    return None
                out += [["attr", name] + a for a in attrs]
    return out


def _data_value(v, budget=10000):
    """Plain data in lists, tuples and dicts (keys and values), as a string for the key;
    None for anything else, or more than `budget` items."""
    import numpy as np
    parts = []
    stack = [v]
    while stack:
        x = stack.pop()
        if len(parts) > budget:
            return None
        if _plain(x):
            parts.append(repr(x))
        elif isinstance(x, np.ndarray):
            parts.append(array_hash(x))
        elif isinstance(x, (list, tuple)):
            parts.append(f"{type(x).__name__}{len(x)}")
            stack.extend(reversed(x))
        elif isinstance(x, dict):
            parts.append(f"dict{len(x)}")
            for k in x:
                stack.extend([x[k], k])
        else:
            return None
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _module_attributes(module, names, seen):
    """The attributes of a module the code reads (`settings.SCALE`, `shapes.basis`): plain
    values, arrays and data, and — for a module of the user's own, not a library's — its
    functions, by their code. None when a function cannot be pinned down."""
    import numpy as np
    import types
    out = []
    own = _users_module(module)
    namespace = vars(module)  # (not getattr: a module's __getattr__ may warn, as numpy's does)
    for attr in names:
        if attr not in namespace:
            continue
        v = namespace[attr]
        if _plain(v):
            out.append([attr, repr(v)])
        elif not own:
            continue
        elif isinstance(v, np.ndarray):
            out.append([attr, array_hash(v)])
        elif isinstance(v, (dict, list)):
            data = _data_value(v)
            if data is not None:
                out.append([attr, data])
        elif isinstance(v, types.FunctionType) and v.__module__ == module.__name__:
            fid = _function_value(v, seen)
            if fid is None:
                return None
            out.append([attr, fid])
    return out


def _users_module(module):
    """A module of the user's code: a source file outside the Python installation's
    libraries (numpy, the standard library) and outside srcgrad."""
    import sysconfig
    path = getattr(module, "__file__", None)
    if not path:
        return False
    path = os.path.realpath(path)
    libraries = {os.path.realpath(p) for p in (sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("purelib"),
                                                sysconfig.get_paths().get("platlib")) if p}
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return not any(path.startswith(p + os.sep) for p in libraries | {os.path.realpath(here)})


def _named_value(v):
    """A module, class or library function by the name it is found under (`np.int64` and
    `srcgrad.numpy.int64` are two), or None for any other object."""
    import sys
    import types
    if isinstance(v, types.ModuleType):
        return ["module", v.__name__]
    try:  # (any object may come here: one whose attributes raise is simply not named)
        module, name = getattr(v, "__module__", None), getattr(v, "__qualname__", getattr(v, "__name__", None))
        if module is None and type(v).__name__ == "ufunc":
            module = "numpy"  # (numpy's ufuncs have no __module__)
        if not isinstance(module, str) or not isinstance(name, str) or not callable(v):
            return None
        found = sys.modules.get(module)
        for part in name.split("."):
            found = getattr(found, part, None)
    except Exception:
        return None
    return ["named", module, name] if found is v else None


def _code_hash(code):
    """A hash of what a code object computes, stable across processes (nested code
    objects by their own hash, never by their repr, which holds an address)."""
    h = hashlib.sha256(code.co_code)
    for c in code.co_consts:
        h.update(_code_hash(c).encode() if isinstance(c, type(code)) else repr(c).encode())
    h.update(repr(code.co_names).encode())
    return h.hexdigest()[:16]


def _function_value(fn, seen):
    """A function reached by name, for the key: its code and, recursively, what it
    captures; None when that cannot be pinned down."""
    if id(fn) in seen:
        return ["recursive", fn.__qualname__]
    code = fn.__code__
    captured = _captured_values(fn, code, seen | {id(fn)})
    if captured is None:
        return None
    return [getattr(fn, "__module__", ""), fn.__qualname__, code.co_filename, code.co_firstlineno,
            _code_hash(code), captured]
