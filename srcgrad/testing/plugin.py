"""srcgrad's pytest plugin (registered through the `pytest11` entry point; active once
srcgrad is installed; turn it off with `-p no:srcgrad`).

- the `gradcheck` fixture: srcgrad.testing.gradcheck;
- `--srcgrad-dump DIR`: the generated source of every function srcgrad compiles (or loads
  from its disk cache) while a test runs is written to DIR, one file per function, in a
  directory named after the test: `DIR/<test node id>/<n>_<name>.py` (names that pytest
  does not collect);
- a failing test's report gets a section "srcgrad generated code" with the source of the
  functions compiled while it ran, and of any generated function in its traceback (also
  dumped).

A function compiled by an earlier test and reused from srcgrad's in-memory cache is not
compiled again, so it shows with the test that compiled it (unless it is in the
traceback). Does not import hypothesis.
"""
import hashlib
import linecache
import os
import re

import pytest

#: a failure report shows the source of at most this many functions (the latest ones)
REPORT_LIMIT = 8
_NOT_FAILURES = (pytest.skip.Exception, pytest.xfail.Exception)


def pytest_addoption(parser):
    group = parser.getgroup("srcgrad", "srcgrad generated code")
    group.addoption("--srcgrad-dump", metavar="DIR", default=None,
                    help="write the code srcgrad generates during each test to DIR, one file per "
                         "compiled function, named after the test")


def pytest_configure(config):
    config.pluginmanager.register(_Recorder(config), "srcgrad-recorder")


@pytest.fixture(scope="session")
def gradcheck():
    """srcgrad.testing.gradcheck: assert that srcgrad's gradient of f matches finite
    differences, e.g. `gradcheck(lambda x: np.tanh(x).sum(), x)`. Session-scoped (it is a
    plain function), so hypothesis tests may use it too."""
    from .gradcheck import gradcheck as check
    return check


class _Recorder:
    """Listens to srcgrad's code loader; state lives here (per pytest config), never in
    module globals, so nested pytest runs (pytester) keep their own records."""

    def __init__(self, config):
        from srcgrad.codegen import loader
        self._loader = loader
        self.config = config
        d = config.getoption("srcgrad_dump")
        self.dump_dir = os.path.abspath(d) if d else None
        self.current = None       # [(label, source, filename)] while a test runs
        self._names = {}          # file stem -> node id, to keep stems unique
        loader.listeners.append(self._on_load)

    def _on_load(self, label, source, filename):
        if self.current is not None:
            self.current.append((label, source, filename))

    def pytest_unconfigure(self, config):
        try:
            self._loader.listeners.remove(self._on_load)
        except ValueError:
            pass

    def pytest_runtest_logstart(self, nodeid, location):
        self.current = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        # tryfirst: sections added here are part of the report built after us
        if call.excinfo is None or call.excinfo.errisinstance(_NOT_FAILURES):
            return
        records = list(self.current or [])
        seen = {fn for _, _, fn in records}
        tb = call.excinfo.tb
        while tb is not None:  # generated functions the failure went through
            fn = tb.tb_frame.f_code.co_filename
            if fn.startswith("<srcgrad:") and fn not in seen:
                lines = linecache.getlines(fn)
                if lines:
                    seen.add(fn)
                    label = fn[len("<srcgrad:"):].split("#")[0]
                    rec = (label, "".join(lines), fn + " (compiled earlier; in the traceback)")
                    records.append(rec)
                    if self.current is not None:
                        self.current.append(rec)  # dumped with this test too
            tb = tb.tb_next
        if records:
            item.add_report_section(call.when, "srcgrad generated code", _section(records))

    def pytest_runtest_logfinish(self, nodeid, location):
        records, self.current = self.current or [], None
        if self.dump_dir and records:
            self._dump(nodeid, records)

    def _dump(self, nodeid, records):
        stem = _safe(nodeid.replace("::", "__"))
        if self._names.setdefault(stem, nodeid) != nodeid:
            stem = f"{stem}-{hashlib.sha1(nodeid.encode()).hexdigest()[:8]}"
        d = os.path.join(self.dump_dir, stem)
        os.makedirs(d, exist_ok=True)
        for old in os.listdir(d):  # an earlier run's files for this test
            if re.fullmatch(r"\d+_[A-Za-z0-9_.-]*\.py", old):
                os.remove(os.path.join(d, old))
        width = max(2, len(str(len(records))))
        for n, (label, source, filename) in enumerate(records, 1):
            path = os.path.join(d, f"{n:0{width}d}_{_safe(label)}.py")
            with open(path, "w", encoding="utf-8") as f:
                f.write(f"# test: {nodeid}\n# generated by srcgrad as {filename}\n{source}")


def _safe(text, limit=150):
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.") or "_"
    if len(s) > limit:
        s = s[:limit] + "-" + hashlib.sha1(text.encode()).hexdigest()[:8]
    return s


def _section(records):
    shown = records[-REPORT_LIMIT:]
    parts = []
    if len(records) > len(shown):
        parts.append(f"# ({len(records) - len(shown)} earlier generated functions not shown; "
                     f"--srcgrad-dump DIR writes them all)\n")
    for label, source, filename in shown:
        parts.append(f"# ---- {filename} ----\n{source.rstrip()}\n")
    return "\n".join(parts)
