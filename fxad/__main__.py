"""``python -m fxad``: the command line (``fxad/_cli.py``).  Without a
subcommand it prints the tutorial's worked example (``fxad/_tutorial.py``);
``trace`` and ``jaxpr`` explain an expression."""

import sys

from fxad._cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m fxad"))
