"""Suite-wide settings.

hypothesis profiles: "dev" (the default) and "ci", with fewer examples, loaded when the
environment variable CI is set (as CI services do). `--hypothesis-profile NAME` picks
one by hand. A test's own `@settings(max_examples=...)` takes precedence over both.

srcgrad's disk cache: unless SRCGRAD_CACHE_DIR or SRCGRAD_CACHE is set, the suite uses a
fresh cache directory of its own, removed at the end, so that tests never see entries
written by another run (entries are also keyed by a hash of srcgrad's own source).

The repository root is on sys.path (however pytest is started): tests read the
benchmarks' workloads (`from benchmarks.workloads.ode import runge_kutta`).
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hypothesis import HealthCheck, settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", max_examples=10, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI", "").lower() not in ("", "0", "false", "no") else "dev")

_CACHE = None
if "SRCGRAD_CACHE_DIR" not in os.environ and "SRCGRAD_CACHE" not in os.environ:
    _CACHE = tempfile.mkdtemp(prefix="srcgrad-test-cache-")
    os.environ["SRCGRAD_CACHE_DIR"] = _CACHE


def pytest_sessionfinish(session, exitstatus):
    if _CACHE is not None:
        shutil.rmtree(_CACHE, ignore_errors=True)
