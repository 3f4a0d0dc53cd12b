"""Programs several test files compile: the benchmarks' own (benchmarks/workloads)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.workloads.det import det_by_minors  # noqa: E402,F401  (expansion in minors)
