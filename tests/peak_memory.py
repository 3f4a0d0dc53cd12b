"""The peak memory of one call, for tests of what the compiler keeps (a count of bytes,
deterministic: not a timing)."""
import tracemalloc


def peak(fn, *args):
    """Peak bytes allocated (numpy's buffers included) while fn(*args) runs."""
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
