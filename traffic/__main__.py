"""``python -m traffic``: see ``traffic.cli``."""

from __future__ import annotations

import sys

from traffic.cli import main

sys.exit(main())
