"""Code generation: IR → Python ast → source (through astor) → code object."""
