"""``python -m optml``: the same program as the ``optml`` console script."""

import sys

from optml.cli import main

if __name__ == "__main__":
    sys.exit(main())
