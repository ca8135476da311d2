"""Regenerate the kernelspec logos and kernel.json files under ``kernelspec/``.

The drawing and the kernel.json contents live in ``wstp_jupyter.kernel`` (so that
``wstp-jupyter install`` can produce them from a plain wheel); this script writes them into the
repository's ``kernelspec/`` directories, which pip installs as shared data.

Run from the repository root: ``python scripts/make_logos.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wstp_jupyter.kernel._logos import write_logos
from wstp_jupyter.kernel._spec import KERNELSPEC_NAMES, kernel_json


def main(argv: list[str]) -> int:
    """Write every kernelspec into ``<root>/kernelspec/<name>/`` (root defaults to the repo)."""
    root = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent
    for name in KERNELSPEC_NAMES:
        target = root / "kernelspec" / name
        write_logos(name, target)
        text = json.dumps(kernel_json(name), indent=2) + "\n"
        (target / "kernel.json").write_text(text, encoding="utf-8")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
