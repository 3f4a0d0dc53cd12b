"""The persistent cache: a second process reuses compiled code; tampering is refused."""
import json
import os
import stat
import subprocess
import sys
import textwrap

import numpy as np


SCRIPT = textwrap.dedent("""
    import sys, time
    import numpy as np
    import srcgrad

    weights = np.array([0.1, 1.0, 1e-4])

    @srcgrad.value_and_grad
    def seed_loop(x):
        y = x * 2
        while np.linalg.norm(y) < 1000:
            y = y * 2
        return np.sum(y * weights)

    t0 = time.perf_counter()
    value, g = seed_loop(np.array([1.0, 2.0, 3.0]))
    first = time.perf_counter() - t0
    (v,) = [v for vs in seed_loop._variants.values() for v in vs]
    print("traced" if v.program is not None else "loaded", repr(list(g)), first)
""")


def run(tmp_path, env_extra=None):
    script = tmp_path / "user_code.py"
    if not script.exists():
        script.write_text(SCRIPT)
    env = dict(os.environ, SRCGRAD_CACHE_DIR=str(tmp_path / "cache"), **(env_extra or {}))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    how, grad, first = out.stdout.split(" ", 1)[0], out.stdout.split("[")[1].split("]")[0], \
        float(out.stdout.split()[-1])
    return how, grad, first, out.stderr


def test_second_process_loads_instead_of_recording(tmp_path):
    how1, grad1, _, _ = run(tmp_path)
    how2, grad2, first2, _ = run(tmp_path)
    assert (how1, how2) == ("traced", "loaded")
    assert grad1 == grad2
    cache = tmp_path / "cache"
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    for f in cache.iterdir():
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600


def test_tampered_entries_are_refused(tmp_path):
    run(tmp_path)
    (entry,) = [f for f in (tmp_path / "cache").iterdir() if f.suffix == ".json"]
    data = json.loads(entry.read_text())
    data["variants"][0]["source"] = data["variants"][0]["source"].replace("return (", "return (0 * ")
    entry.write_text(json.dumps(data))
    how, _, _, err = run(tmp_path)
    assert how == "traced"
    assert "does not verify" in err


def test_cache_can_be_turned_off(tmp_path):
    run(tmp_path, {"SRCGRAD_CACHE": "0"})
    assert not (tmp_path / "cache").exists()
    how, _, _, _ = run(tmp_path, {"SRCGRAD_CACHE": "0"})
    assert how == "traced"


def test_edited_source_is_not_reused(tmp_path):
    run(tmp_path)
    script = tmp_path / "user_code.py"
    script.write_text(SCRIPT.replace("y * weights", "y * weights * 2"))
    how, grad, _, _ = run(tmp_path)
    assert how == "traced"


def test_a_shared_directory_is_refused(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o777)
    os.chmod(cache, 0o777)
    how, _, _, err = run(tmp_path)
    assert how == "traced" and "accessible to other users" in err


def test_closures_with_different_values_get_different_entries(tmp_path):
    script = tmp_path / "closures.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import srcgrad

        def make(scale):
            def f(x):
                return np.sum(x * scale)
            return srcgrad.grad(f)

        print(make(2.0)(np.ones(2))[0], make(3.0)(np.ones(2))[0])
    """))
    env = dict(os.environ, SRCGRAD_CACHE_DIR=str(tmp_path / "cache"))
    for _ in range(2):  # the second process reads what the first stored
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["2.0", "3.0"]


def test_compiler_thresholds_are_part_of_the_key(tmp_path):
    """Code compiled with other large-array thresholds (a test's reference, with no `del`s)
    is another entry: never loaded in place of this one's."""
    script = tmp_path / "thresholds.py"
    script.write_text(textwrap.dedent("""
        import sys
        import numpy as np
        import srcgrad
        from srcgrad.codegen import release

        def f(x):
            a = np.sin(x) * 2.0
            return np.sum(np.tanh(np.exp(a) @ np.ones((8, 8))))

        if sys.argv[1] == "plain":
            release.MIN_SIZE = 1 << 40
        g = srcgrad.value_and_grad(f)
        x = np.ones((2000, 8))
        g(x)
        print(any(line.strip().startswith("del ") for line in g.source(x).splitlines()))
    """))
    env = dict(os.environ, SRCGRAD_CACHE_DIR=str(tmp_path / "cache"))
    outs = [subprocess.run([sys.executable, str(script), how], capture_output=True, text=True, env=env)
            for how in ("dropping", "plain", "dropping")]
    assert [o.stdout.strip() for o in outs] == ["True", "False", "True"], [o.stderr for o in outs]
    entries = [name for _, _, files in os.walk(tmp_path / "cache") for name in files if name.endswith(".json")]
    assert len(entries) == 2, entries  # (the third process loaded the first one's)


def test_lambdas_on_one_line_get_different_entries(tmp_path):
    """Two lambdas on one line share their name, line and file: their code tells them
    apart (the second used to load the first's gradient)."""
    script = tmp_path / "lambdas.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import srcgrad

        x = np.array([1.0, 2.0])
        print([srcgrad.grad(f)(x).tolist() for f in (lambda a: np.sum(a ** 2), lambda a: np.sum(a ** 3))])
    """))
    env = dict(os.environ, SRCGRAD_CACHE_DIR=str(tmp_path / "cache"))
    for _ in range(2):  # (and a second process, reading what the first stored)
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path)
        assert out.stdout.strip() == "[[2.0, 4.0], [3.0, 12.0]]", out.stderr


def test_arrays_made_inside_the_function_are_kept_by_value(tmp_path):
    """A literal array inside the function (captured as a constant, not reachable by name)
    is stored in the entry by value, so a second process loads instead of recording."""
    script = tmp_path / "user_code.py"
    script.write_text(SCRIPT.replace("np.sum(y * weights)", "np.sum(y * np.array([0.1, 1.0, 1e-4]))"))
    how1, grad1, _, _ = run(tmp_path)
    how2, grad2, _, _ = run(tmp_path)
    assert (how1, how2) == ("traced", "loaded")
    assert grad1 == grad2
    (entry,) = [f for f in (tmp_path / "cache").iterdir() if f.suffix == ".json"]
    data = json.loads(entry.read_text())
    data["variants"][0]["constants"][0][1]["dtype"] = "|O"  # never anything but numbers
    entry.write_text(json.dumps(data))
    how3, grad3, _, stderr = run(tmp_path)
    assert how3 == "traced" and grad3 == grad1


def test_entries_keep_the_compiled_code_for_this_python(tmp_path):
    """An entry holds the module's bytecode (as a .pyc would), tagged with the Python that
    made it; another tag means compiling the stored source instead."""
    run(tmp_path)
    (entry,) = [f for f in (tmp_path / "cache").iterdir() if f.suffix == ".json"]
    data = json.loads(entry.read_text())
    assert data["variants"][0]["code"]["tag"] == sys.implementation.cache_tag
    how, grad, _, _ = run(tmp_path)
    assert how == "loaded"


def test_a_constant_result_is_loaded_with_its_name_and_shape(tmp_path):
    """`return float(x[0]) ** 2` returns a constant (detached, as float() is): a second
    process binds it under the name the code reads, as a 0-d array."""
    script = tmp_path / "const_out.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, srcgrad
        def f(x):
            return float(x[0]) ** 2
        g = srcgrad.value_and_grad(f)
        value, grad = g(np.array([3.0, 1.0]))
        (v,) = [v for vs in g._variants.values() for v in vs]
        print("traced" if v.program is not None else "loaded", repr(value), grad.tolist())
    """))
    env = dict(os.environ, SRCGRAD_CACHE_DIR=str(tmp_path / "cache"))
    outs = [subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=120) for _ in range(2)]
    assert [o.returncode for o in outs] == [0, 0], outs[1].stderr
    assert [o.stdout.split()[0] for o in outs] == ["traced", "loaded"]
    assert outs[0].stdout.split(" ", 1)[1] == outs[1].stdout.split(" ", 1)[1] == "9.0 [0.0, 0.0]\n"


FUNCTIONS_BY_NAME = textwrap.dedent("""
    import numpy as np
    import srcgrad

    x = np.array([1.0, 2.0])
    FS = [lambda v: np.sum(v * v), lambda v: np.sum(v * v * v)]
    out = []
    for f in FS:                      # a global rebound to another function
        def loss(v):
            return f(v)
        out.append(srcgrad.grad(loss)(x).tolist())

    def check(h):                     # a closure over a function
        return srcgrad.grad(lambda v: np.sum(h(v)) * 2.0)(x).tolist()
    out += [check(np.sin), check(FS[1])]

    class Model:
        def __init__(self, w):
            self.w = w

        def loss(self, v):
            return np.sum(self.w * v ** 2)
    out += [srcgrad.grad(Model(np.array([1.0, 1.0])).loss)(x).tolist(),
            srcgrad.grad(Model(np.array([2.0, 3.0])).loss)(x).tolist()]
    for g in [np.sin, np.cos]:        # a global rebound to another numpy function
        def loss2(v):
            return np.sum(g(v))
        out.append(srcgrad.grad(loss2)(x).tolist())
    print(out)
""")


def test_functions_reached_by_name_and_bound_objects_are_part_of_the_key(tmp_path):
    """The same code calling another function, or a method of another object, must not
    find the code compiled for the first (it was found: a silently wrong gradient)."""
    script = tmp_path / "by_name.py"
    script.write_text(FUNCTIONS_BY_NAME)
    env = dict(os.environ, SRCGRAD_CACHE_DIR=str(tmp_path / "cache"))
    expected = str([[2.0, 4.0], [3.0, 12.0], [2 * 0.5403023058681398, 2 * -0.4161468365471424],
                    [6.0, 24.0], [2.0, 4.0], [4.0, 12.0], [0.5403023058681398, -0.4161468365471424],
                    [-0.8414709848078965, -0.9092974268256817]])
    for _ in range(2):  # the second process reads what the first wrote
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                             cwd=tmp_path, timeout=120)
        assert out.returncode == 0, out.stderr
        got = eval(out.stdout)
        exp = eval(expected)
        assert all(abs(a - b) < 1e-12 for ga, ea in zip(got, exp) for a, b in zip(ga, ea)), got


CONFIG_MODEL = textwrap.dedent("""
    import os, sys
    import numpy as np
    import srcgrad
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import settings, shapes

    CONFIG = {"scale": float(os.environ["SCALE"])}

    def loss_dict(x):
        return np.sum(x ** 2) * CONFIG["scale"]

    def loss_module_attr(x):
        return np.sum(x ** 2) * settings.SCALE

    def loss_helper_module(x):
        return np.sum(shapes.basis(x))

    x = np.array([1.0, 2.0])
    print([srcgrad.grad(f)(x).tolist() for f in (loss_dict, loss_module_attr, loss_helper_module)])
""")


def test_values_read_through_dicts_and_modules_are_part_of_the_key(tmp_path):
    """A config dict, a module's attribute and a helper module's function, changed between
    processes: the second process must not find the first one's code (it did: stale)."""
    (tmp_path / "model.py").write_text(CONFIG_MODEL)
    (tmp_path / "settings.py").write_text("import os\nSCALE = float(os.environ['SCALE'])\n")
    (tmp_path / "shapes.py").write_text("import numpy as np\ndef basis(x):\n    return np.sin(x)\n")
    env = dict(os.environ, SRCGRAD_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("SRCGRAD_CACHE", None)

    def run_with(scale):
        out = subprocess.run([sys.executable, str(tmp_path / "model.py")], capture_output=True, text=True,
                             env=dict(env, SCALE=str(scale)), cwd=tmp_path, timeout=120)
        assert out.returncode == 0, out.stderr
        return eval(out.stdout)
    first = run_with(1.0)
    assert first[0] == [2.0, 4.0] and first[1] == [2.0, 4.0]
    (tmp_path / "shapes.py").write_text("import numpy as np\ndef basis(x):\n    return np.cos(x)\n")
    second = run_with(3.0)
    assert second[0] == [6.0, 12.0] and second[1] == [6.0, 12.0]
    assert abs(second[2][0] - (-0.8414709848078965)) < 1e-12


THREE_PATHS = textwrap.dedent("""
    import numpy as np, srcgrad
    from srcgrad import transforms
    n = [0]
    traced = transforms.Transformed._trace
    def counting(self, *a, **k):
        n[0] += 1
        return traced(self, *a, **k)
    transforms.Transformed._trace = counting
    def f(x):
        if x.sum() > 0:
            return np.sum(x ** 2)
        if x.sum() > -5:
            return np.sum(np.sin(x))
        return np.sum(np.exp(x))
    vg = srcgrad.value_and_grad(f)
    for s in (1.0, -1.0, -10.0, 1.0, -1.0, -10.0):
        vg(np.array([s, s]))
    print(n[0])
""")


def test_a_second_process_compiles_none_of_the_variants_on_disk(tmp_path):
    # (it kept only the first stored variant whose guards passed, and compiled the others again)
    script = tmp_path / "three_paths.py"
    script.write_text(THREE_PATHS)
    env = dict(os.environ, SRCGRAD_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("SRCGRAD_CACHE", None)
    counts = []
    for _ in range(2):
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                             cwd=tmp_path, timeout=120)
        assert out.returncode == 0, out.stderr
        counts.append(int(out.stdout))
    assert counts == [3, 0]


def _labelled_sum(x):
    label = str(len(x))  # (`str` is also a name numpy answers with a FutureWarning)
    return np.sum(x) if label else 0.0


def test_the_key_reads_a_librarys_module_attributes_without_its_deprecation_warnings():
    import warnings
    from srcgrad.codegen.diskcache import function_identity
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert function_identity(_labelled_sum, "grad", 0, False, ()) is not None
    assert [str(w.message) for w in record] == []
