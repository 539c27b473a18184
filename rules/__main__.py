"""``python -m rules check FILE``."""

import sys

from rules.cli import main

sys.exit(main())
