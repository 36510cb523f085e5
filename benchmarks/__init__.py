"""fxad's comparison suite: ``python -m benchmarks --help``.

Each workload (``benchmarks/workloads/``) computes one derivative with every
installed library and with hand-written NumPy; the runner checks each
library's answer against NumPy's before timing it, and reports medians and
ratios to NumPy (see ``benchmarks/README.md``).

This file imports nothing on purpose: ``python -m benchmarks`` imports it
before ``__main__``, which must set the BLAS thread variables before NumPy
loads.
"""
