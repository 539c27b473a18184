"""``python -m simulators``."""

from simulators.cli import main

raise SystemExit(main())
