"""``python -m benchmarks``: one BLAS thread everywhere, then run the suite.

The thread variables must be set before NumPy (or any other library) loads
its BLAS, so this module sets them first and imports the runner after.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# XLA's CPU backend runs its own Eigen thread pool; keep it to one thread too.
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

from benchmarks.run import main  # noqa: E402

raise SystemExit(main())
