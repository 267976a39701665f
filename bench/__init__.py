"""Tenantry's benchmark harness: ``python -m bench.run`` (see docs/benchmarks.md).

Nothing here is imported by the app or the tests; benchmarks never run as unit tests.
"""
