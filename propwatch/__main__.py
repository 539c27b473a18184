"""``python -m propwatch`` is the ``propwatch`` console script."""

import sys

from propwatch.cli import main

sys.exit(main())
