"""``python -m wstp_jupyter.server``: the same as the ``wstpserver`` command."""

from __future__ import annotations

import sys

from wstp_jupyter.server.cli import main

if __name__ == "__main__":
    sys.exit(main())
