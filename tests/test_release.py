"""`del` of large arrays the generated function no longer reads (codegen/release.py)."""
import ast
import re

import numpy as np
import pytest

import srcgrad
from programs import det_by_minors
from peak_memory import peak
from srcgrad.codegen import release


def chain(x, W):
    a = np.exp(x)              # read by the backward (exp's derivative)
    b = np.sin(a) @ W          # a product: a fresh array
    c = np.tanh(b)
    return np.sum(c * c) + np.sum(a)


def args(n=2000):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 8)) * 0.1, rng.normal(size=(8, 8))


def deleted(src):
    """Names in `del` statements, in order."""
    fn = ast.parse(src).body[0]
    return [t.id for s in fn.body if isinstance(s, ast.Delete) for t in s.targets]


def test_large_arrays_are_dropped_after_their_last_use():
    x, W = args()
    vg = srcgrad.value_and_grad(chain, argnums=(0, 1))
    vg(x, W)
    src = vg.source(x, W)
    assert deleted(src)
    lines = [l.split("#")[0] for l in src.splitlines()]
    for k, line in enumerate(lines):
        if line.startswith("    del "):
            for name in line[8:].split(", "):
                pattern = re.compile(rf"\b{name.strip()}\b")
                assert not any(pattern.search(l) for l in lines[k + 1:]), (name, src)


def test_small_arrays_and_views_are_not_dropped():
    x, W = args(20)
    vg = srcgrad.value_and_grad(chain, argnums=(0, 1))
    vg(x, W)
    assert deleted(vg.source(x, W)) == []

    def columns(x):
        first = x[:, 0]        # a view of the argument: dropping it frees nothing
        return np.sum(np.sin(first) * x[:, 1])
    big = np.random.default_rng(1).normal(size=(20000, 2))
    vg = srcgrad.value_and_grad(columns)
    vg(big)
    src = vg.source(big)
    view = next(l.split("=")[0].strip() for l in src.splitlines() if "x[:, 0]" in l)
    assert view not in deleted(src)


def test_dropping_lowers_the_peak(monkeypatch):
    """A memory count, not a timing: the peak of a gradient call falls when the
    intermediates the backward never reads are dropped."""
    def f(x):
        a = np.sin(x) * 2.0
        b = np.cos(a) + a       # a and b are not read by the backward once c exists
        c = np.exp(b) @ np.ones((8, 8))
        d = np.tanh(c)
        return np.sum(d * d)
    x = args()[0]
    vg = srcgrad.value_and_grad(f)
    vg(x)
    with_del = peak(vg, x)
    monkeypatch.setattr(release, "MIN_SIZE", 1 << 40)
    plain = srcgrad.value_and_grad(f)
    plain(x)
    assert deleted(plain.source(x)) == [] and deleted(vg.source(x))
    assert with_del < peak(plain, x)


@pytest.mark.parametrize("n", [4096, 5000])
def test_gradients_are_unchanged(n):
    x, W = args(n // 8 + 1)
    vg = srcgrad.value_and_grad(chain, argnums=(0, 1))
    value, (gx, gW) = vg(x, W)
    eager = srcgrad.tensor(x, requires_grad=True)
    tW = srcgrad.tensor(W, requires_grad=True)
    a = eager.exp()
    out = ((a.sin() @ tW).tanh() ** 2).sum() + a.sum()
    out.backward()
    np.testing.assert_allclose(gx, eager.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gW, tW.grad.numpy(), rtol=1e-12)


def test_a_name_bound_only_inside_an_if_or_try_is_never_dropped():
    src = (
        "def f(x):\n"
        "    a = x * 2\n"
        "    if x.sum() > 0:\n"
        "        b = a + 1\n"
        "    try:\n"
        "        c = a - 1\n"
        "    except ValueError:\n"
        "        pass\n"
        "    d = a * 3\n"
        "    return d\n")
    out = release.insert_releases(src, {"a", "b", "c", "d"}, ["x"])
    assert deleted(out) == ["a"]  # (b and c may be unbound; d is returned)
    assert out.index("del a") > out.index("d = a * 3")


def _deleted_anywhere(src):
    return [t.id for s in ast.walk(ast.parse(src)) if isinstance(s, ast.Delete) for t in s.targets]


def test_a_loop_body_drops_its_temporaries_each_iteration(monkeypatch):
    """Without dels in the body, each iteration's temporaries live until the next one
    rebinds them: all of them at once, in the forward's loop and in its backward."""
    def rk(x, y):  # (np.roll keeps each step an array of its own: no fused kernel)
        for _ in range(4):
            a = np.roll(y, 1) * x
            b = np.roll(a, 2) + x
            c = np.roll(b, 3) * 0.5
            d = np.roll(c, 1) - x
            y = np.roll(d, 2) * 0.25
        return np.sum(y)
    rng = np.random.default_rng(0)
    x, y = rng.random(5000), rng.random(5000)
    vg = srcgrad.value_and_grad(rk)
    value, grad = vg(x, y)
    src = str(vg.source(x, y))
    inner = [line for line in src.splitlines() if line.startswith("        del ")]
    assert inner, src
    lines = [l.split("#")[0] for l in src.splitlines()]
    for k, line in enumerate(lines):  # a name dropped in a body is not read again in it
        # (before the body binds it again: a carried value, dropped after its last read)
        if line.startswith("        del "):
            start = max(j for j in range(k) if lines[j].lstrip().startswith("for "))
            for name in line.split("del ")[1].split(", "):
                pattern = re.compile(rf"\b{name.strip()}\b")
                body_after = [l for l in lines[k + 1:] if l.startswith("        ")]
                body_after = body_after[:next((j for j, l in enumerate(lines[k + 1:])
                                               if not l.startswith("        ")), len(body_after))]
                named = [l for l in body_after if pattern.search(l)]
                bound = re.compile(rf"\s*[\w, ]*\b{name.strip()}\b[\w, ]* = ")
                assert not named or bound.match(named[0]) and not pattern.search(named[0].split(" = ", 1)[1]), \
                    (name, src)
    with_del = peak(vg, x, y)
    monkeypatch.setenv("SRCGRAD_CACHE", "0")  # (the disk has the code with the dels)
    saved = release.MIN_SIZE
    release.MIN_SIZE = 1 << 40
    try:
        srcgrad.autograd.engine.clear_cache()
        plain = srcgrad.value_and_grad(rk)
        plain_value, plain_grad = plain(x, y)
        assert _deleted_anywhere(str(plain.source(x, y))) == []
        assert with_del < 0.7 * peak(plain, x, y)
    finally:
        release.MIN_SIZE = saved
        srcgrad.autograd.engine.clear_cache()
    np.testing.assert_allclose(grad, plain_grad, rtol=1e-12)


def test_loop_variables_read_after_the_loop_or_carried_are_kept():
    src = (
        "def f(x):\n"
        "    y = x\n"
        "    for i in range(3):\n"
        "        a = y * 2\n"            # dropped after its last use in the body
        "        b = a + 1\n"            # read after the loop: kept
        "        c = y - 1\n"
        "        c += 1\n"
        "        y = b + c\n"            # carried: dropped after its last read, bound again here
        "    for i in range(2):\n"
        "        e = x + 1\n"
        "        a = e * 2\n"            # bound first in this loop too: dropped in both
        "    return b + y\n")
    out = release.insert_releases(src, {"a", "b", "c", "e", "y"}, ["x"])
    assert "        b = a + 1\n        del a\n" in out and "        y = b + c\n        del c\n" in out, out
    assert "        del a, e\n" in out, out
    assert "        c = y - 1\n        del y\n" in out, out
    assert "del b" not in out and out.count("del y") == 1, out
    scope = {}
    exec(out, scope)
    assert scope["f"](1.0) == 27.0 + 40.0  # (runs: no name is read after its del)


def test_many_small_values_are_dropped_a_batch_at_a_time(monkeypatch):
    """A long straight line of scalar code (a 6x6 determinant by minors) drops the numbers
    it no longer reads in `del` lines of up to BATCH names, each after the statement that
    read the last of them for the last time: its peak falls; the code stays short."""
    A = np.random.default_rng(2).standard_normal((6, 6))
    vg = srcgrad.value_and_grad(det_by_minors)
    value, grad = vg(A)
    np.testing.assert_allclose(grad, np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-9)
    src = vg.source(A)
    fn = ast.parse(src).body[0]
    dels = [s for s in fn.body if isinstance(s, ast.Delete)]
    assert dels and all(len(s.targets) <= release.BATCH for s in dels), src
    assert len(dels) < len(fn.body) / 10, src
    assigned = set()
    for k, stmt in enumerate(fn.body):
        if isinstance(stmt, ast.Delete):
            names = {t.id for t in stmt.targets}
            assert names <= assigned, stmt.lineno
            later = {n.id for s in fn.body[k + 1:] for n in ast.walk(s) if isinstance(n, ast.Name)}
            assert not names & later, stmt.lineno
        assigned |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    with_del = peak(vg, A)
    monkeypatch.setattr(release, "MANY_SMALL", 1 << 40)
    monkeypatch.setattr(srcgrad.config, "cache_dir", False)  # (compiled again, not loaded)
    plain = srcgrad.value_and_grad(det_by_minors)
    plain(A)
    assert deleted(plain.source(A)) == []
    assert with_del < 0.6 * peak(plain, A)


def test_a_carried_variable_is_dropped_in_its_body_and_after_its_loop():
    """Between its last read and the binding that carries it on, a loop's variable holds
    an array nothing reads; after the loop, one nothing reads any more is dropped too."""
    src = (
        "def f(x):\n"
        "    w = x + 0\n"
        "    total = x * 0\n"
        "    for i in range(3):\n"
        "        a = w * 2\n"            # w's last read in the body
        "        total = total + a\n"
        "        w = a - 1\n"            # bound again: from here to the next read, w is new
        "    out = total * 1\n"
        "    return out\n")
    out = release.insert_releases(src, {"w", "a", "total"}, ["x"])
    assert "        a = w * 2\n        del w\n" in out, out
    assert "\n    del w\n" in out, out  # (after the loop: nothing reads the last w)
    scope, plain = {}, {}
    exec(out, scope)
    exec(src, plain)
    assert scope["f"](1.5) == plain["f"](1.5) == 13.0
