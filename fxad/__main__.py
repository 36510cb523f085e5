"""``python -m fxad [--at X1 X2]``: the tutorial's worked example, computed by
fxad (see ``fxad/_tutorial.py`` and ``docs/tutorial.md``)."""

import sys

from fxad._tutorial import main

if __name__ == "__main__":
    sys.exit(main())
