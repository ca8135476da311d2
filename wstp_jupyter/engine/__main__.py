"""``python -m wstp_jupyter.engine``: see ``_cli``."""

from __future__ import annotations

import sys

from wstp_jupyter.engine._cli import main

if __name__ == "__main__":
    sys.exit(main())
