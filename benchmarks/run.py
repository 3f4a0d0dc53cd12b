#!/usr/bin/env python
"""srcgrad's benchmark suite.

    python benchmarks/run.py [--only NAME[,NAME...]] [--size tiny|small|full] [--json FILE]
                             [--timeout SECONDS] [--tools srcgrad,torch,autograd,jax]
                             [--profile DIR]

Per workload: the numpy forward time F, srcgrad's gradient time G (median of warm calls
over at least 0.5 s), G/F, srcgrad's first call (recording + sympy + codegen + one run),
the first call of a second process whose disk cache the first one filled, the generated
source's length, peak memory of a gradient call over the forward's (and, in parentheses,
the same with the arguments counted in both: the process's footprint), and
the per-call time of each peer that is importable (PyTorch eager, HIPS autograd, JAX
jit). Every gradient is checked against central finite differences before it is timed.

Each (workload, tool) pair runs in its own subprocess under a time limit, so a trace too
big to compile is reported as "timeout" (with whatever was measured before it) instead
of hanging the run. BLAS is single-threaded everywhere.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("SRCGRAD_CACHE", "0")  # the first call is timed for real (a warm-cache run sets 1)
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from benchmarks.harness import TOOLS, first_call, measure, tool_available  # noqa: E402
from benchmarks.workloads import NAMES  # noqa: E402

MARK = "@@bench "


# -- the child: one workload with one tool -------------------------------------------------
def run_cell(name, tool, size, min_time, profile_dir):
    def emit(key, value):
        print(MARK + json.dumps({key: value}), flush=True)
    profile = None
    if profile_dir and tool == "srcgrad":
        import cProfile
        profile = cProfile.Profile()
    prepared = measure(name, tool, size, emit, min_time=min_time, profile=profile)
    if profile is not None:
        import cProfile
        import pstats
        os.makedirs(profile_dir, exist_ok=True)
        base = os.path.join(profile_dir, f"{name}-{size}")
        with open(base + "-first-call.txt", "w") as f:
            pstats.Stats(profile, stream=f).sort_stats("cumulative").print_stats(40)
            pstats.Stats(profile, stream=f).sort_stats("tottime").print_stats(25)
        warm = cProfile.Profile()
        t0 = time.perf_counter()
        calls = 0
        while time.perf_counter() - t0 < max(min_time, 0.5):
            warm.runcall(prepared.gradient)
            calls += 1
        with open(base + "-warm.txt", "w") as f:
            f.write(f"{calls} warm gradient calls\n")
            pstats.Stats(warm, stream=f).sort_stats("tottime").print_stats(30)
        from benchmarks.harness import objective_args
        args = objective_args(prepared.mod, prepared.native)
        with open(base + "-source.py", "w") as f:
            f.write("\n\n".join(prepared.tool.sources(args)))


# -- the parent: cells in subprocesses, the table ----------------------------------------------
def spawn(name, tool, size, timeout, min_time, profile_dir, cache_dir=None):
    """One cell in a subprocess. With cache_dir: only srcgrad's first call, with the disk
    cache on in that directory."""
    if cache_dir is None:
        cmd = [sys.executable, os.path.abspath(__file__), "--cell", name, tool, "--size", size,
               "--min-time", str(min_time)]
        env = os.environ.copy()
    else:
        cmd = [sys.executable, os.path.abspath(__file__), "--first-call", name, "--size", size]
        env = dict(os.environ, SRCGRAD_CACHE="1", SRCGRAD_CACHE_DIR=cache_dir)
    if profile_dir:
        cmd += ["--profile", profile_dir]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    status = "ok"
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        status = "timeout"
    cell = {}
    for line in out.splitlines():
        if line.startswith(MARK):
            cell.update(json.loads(line[len(MARK):]))
    if status == "timeout":
        cell["status"] = f"timeout (> {timeout:g} s)"
    elif proc.returncode != 0:
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        cell["status"] = "error: " + (lines[-1] if lines else f"exit code {proc.returncode}")
        cell["stderr"] = "\n".join(lines[-30:])
    elif "check_error" in cell:
        cell["status"] = "wrong gradient: " + cell["check_error"]
    else:
        cell["status"] = "ok"
    return cell


def fmt_time(s):
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def short(status, width=60):
    return status if len(status) <= width else status[:width - 1] + "…"


def memory_ratio(c):
    """Peak memory of a gradient call over the forward's, and (with the arguments)."""
    if c is None or not (c.get("mem_F") and c.get("mem_G")):
        return "skipped" if c is not None and c.get("mem_skipped") else "—"
    mem = f"{c['mem_G'] / c['mem_F']:.2f}"
    if c.get("mem_args") is not None:
        a = c["mem_args"]
        mem += f" ({(c['mem_G'] + a) / (c['mem_F'] + a):.2f})"
    return mem


def srcgrad_columns(c):
    F, G = c.get("F"), c.get("G")
    ratio = f"{G / F:.2f}" if F and G else "—"
    mem = memory_ratio(c)
    if c["status"] == "ok":
        check = f"ok ({c['check']:.1e})"
    else:
        check = short(c["status"])
    return [fmt_time(F), fmt_time(G), ratio, fmt_time(c.get("first_call")),
            fmt_time(c.get("cached_first_call")), str(c.get("lines", "—")), mem, check]


def peer_column(c):
    if c is None:
        return "—"
    if c["status"] != "ok":
        if "G" in c:  # timed, but the check failed
            return f"{fmt_time(c['G'])} ({short(c['status'], 30)})"
        return short(c["status"], 40)
    text = fmt_time(c.get("G"))
    if c.get("note"):
        text += " (no jit)"
    return text


HEADER = ["workload", "size", "F numpy", "G srcgrad", "G/F", "first call", "cached first call", "lines",
          "mem G/F (with args)", "check"]


def table(rows, peers):
    head = HEADER + [{"torch": "PyTorch eager", "autograd": "HIPS autograd", "jax": "JAX jit"}[p]
                     for p in peers]
    if "autograd" in peers:
        head.append("HIPS autograd mem G/F (with args)")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["workload"], r["size"]] + srcgrad_columns(r["tools"]["srcgrad"])
        cells += [peer_column(r["tools"].get(p)) for p in peers]
        if "autograd" in peers:
            cells.append(memory_ratio(r["tools"].get("autograd")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine():
    info = {"nproc": os.cpu_count(), "cpu": platform.processor() or "?",
            "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numpy
    info["numpy"] = numpy.__version__
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = ", ".join(f"{p.get('internal_api')} {p.get('version')} "
                                 f"({p.get('architecture')}, {p.get('num_threads')} thread)"
                                 for p in threadpool_info() if p.get("user_api") == "blas")
    except ImportError:
        pass
    for mod in ("sympy", "torch", "autograd", "jax"):
        try:
            from importlib.metadata import version
            info[mod] = version(mod)
        except Exception:
            pass
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated workload names (default: all)")
    ap.add_argument("--size", default="full", choices=["tiny", "small", "full"])
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("--timeout", type=float, default=300.0,
                    help="time limit per workload and tool, in seconds (default 300)")
    ap.add_argument("--tools", default=",".join(TOOLS),
                    help="comma-separated tools (default: srcgrad and every importable peer)")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds of warm calls per timing")
    ap.add_argument("--profile", metavar="DIR",
                    help="write cProfile reports of srcgrad's first call and warm calls, and the "
                         "generated source, to DIR")
    ap.add_argument("--cell", nargs=2, metavar=("NAME", "TOOL"), help=argparse.SUPPRESS)
    ap.add_argument("--first-call", metavar="NAME", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.cell:
        run_cell(args.cell[0], args.cell[1], args.size, args.min_time, args.profile)
        return 0
    if args.first_call:
        first_call(args.first_call, args.size,
                   lambda key, value: print(MARK + json.dumps({key: value}), flush=True))
        return 0

    names = NAMES if not args.only else args.only.split(",")
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        ap.error(f"unknown workload(s) {unknown}; choose from {NAMES}")
    tools = [t for t in args.tools.split(",") if t]
    if "srcgrad" not in tools:
        tools.insert(0, "srcgrad")
    peers = [t for t in tools if t != "srcgrad" and tool_available(t)]
    info = machine()
    print(f"# machine: {info['nproc']} CPUs, {info['cpu']}; Python {info['python']}, numpy "
          f"{info['numpy']}" + (f"; BLAS {info['blas']}" if info.get("blas") else ""))
    listed = ", ".join(f"{p} {info.get(p, '?')}" for p in peers) or "none (not requested or not importable)"
    print(f"# peers: {listed}")
    print(f"# size: {args.size}; limit {args.timeout:g} s per workload and tool", flush=True)
    rows = []
    for name in names:
        row = {"workload": name, "size": args.size, "tools": {}}
        for tool in ["srcgrad"] + peers:
            t0 = time.perf_counter()
            cell = spawn(name, tool, args.size, args.timeout, args.min_time, args.profile)
            cell["wall"] = time.perf_counter() - t0
            row["tools"][tool] = cell
            print(f"#   {name:9s} {tool:8s} {cell['status'][:100]}  ({cell['wall']:.1f} s)",
                  file=sys.stderr, flush=True)
            if cell["status"].startswith("error") and cell.get("stderr"):
                print("\n".join("#     " + ln for ln in cell["stderr"].splitlines()[-8:]),
                      file=sys.stderr, flush=True)
            if tool == "srcgrad" and cell["status"] == "ok":
                # a second process, the disk cache warm: the first one fills it
                import tempfile
                with tempfile.TemporaryDirectory() as cache_dir:
                    fill = spawn(name, tool, args.size, args.timeout, 0, None, cache_dir)
                    warm = spawn(name, tool, args.size, args.timeout, 0, None, cache_dir)
                if fill["status"] == "ok" and warm["status"] == "ok":
                    cell["cached_first_call"] = warm.get("first_call")
        rows.append(row)
    print()
    print(table(rows, peers))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "size": args.size, "timeout": args.timeout,
                       "command": " ".join(["python", "benchmarks/run.py"] + (argv or sys.argv[1:])),
                       "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
