"""Test configuration shared by tests/ and the doctests in fxad/.

Hypothesis runs derandomized with a bounded number of examples and no
deadline, so CI is deterministic and its time is bounded.  Set
HYPOTHESIS_PROFILE=dev locally for more (random) examples.
"""

import os

import numpy as np

try:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci",
        max_examples=25,
        deadline=None,
        derandomize=True,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    settings.register_profile("dev", max_examples=200, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass

np.set_printoptions(legacy=False)

import fxad.core  # noqa: E402

# Every jaxpr a transformation stages during the tests is type-checked.
fxad.core.config.check_jaxprs = True
