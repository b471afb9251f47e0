"""Benchmarks: ``python -m bench <name> [--quick] [--database-url URL]``, each printing
one JSON object per line: ``{"metric": ..., "value": ..., "unit": ...}``."""
