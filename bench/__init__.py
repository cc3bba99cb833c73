"""Benchmarks for lotgraph. Run each one as a module from the repository root, e.g. ``python -m bench.transport``."""
