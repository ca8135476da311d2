"""``wstp-jupyter install``: register the kernelspecs with Jupyter.

``pip install .`` already installs both kernelspecs as shared data; this command does it
explicitly (for editable installs, other prefixes, or a renamed copy). It writes each kernelspec
into a temporary directory -- kernel.json from :func:`~wstp_jupyter.kernel._spec.kernel_json`
and logos drawn by :mod:`~wstp_jupyter.kernel._logos` -- and hands it to jupyter_client's
``KernelSpecManager.install_kernel_spec``, which knows Jupyter's user, sys-prefix and system
locations. The kernel.json argv names this interpreter explicitly, so a kernel installed from a
virtual environment runs in that environment whatever Python starts Jupyter.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from wstp_jupyter.kernel._logos import write_logos
from wstp_jupyter.kernel._spec import KERNELSPEC_NAMES, LOCAL_KERNELSPEC, kernel_json


def install_kernelspecs(
    *,
    user: bool = False,
    prefix: str | None = None,
    names: Sequence[str] = KERNELSPEC_NAMES,
    rename: str | None = None,
    executable: str | None = None,
) -> list[str]:
    """Install kernelspecs and return the directories they were installed to.

    Args:
        user: install for the current user (``~/.local/share/jupyter/kernels``).
        prefix: install under ``<prefix>/share/jupyter/kernels`` (``sys.prefix`` for a venv).
        names: which kernelspecs to install.
        rename: install the single kernelspec in ``names`` under this name instead.
        executable: argv[0] written into kernel.json (default: this interpreter).

    Returns:
        The installed kernelspec directories.

    Raises:
        ValueError: ``rename`` given with more than one name, or an unknown kernelspec name.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    unknown = [n for n in names if n not in KERNELSPEC_NAMES]
    if unknown:
        raise ValueError(f"unknown kernelspec {unknown[0]!r}; known: {', '.join(KERNELSPEC_NAMES)}")
    if rename is not None and len(names) != 1:
        raise ValueError("--name renames one kernelspec; choose it with --only")
    manager = KernelSpecManager()
    installed = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix="wstp-jupyter-spec-") as tmp:
            source = Path(tmp) / (rename or name)
            write_logos(name, source)
            spec = kernel_json(name, executable=executable or sys.executable)
            if rename is not None:
                spec["display_name"] += f" [{rename}]"
            (source / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n", "utf-8")
            installed.append(
                manager.install_kernel_spec(
                    str(source), kernel_name=rename or name, user=user, prefix=prefix
                )
            )
    return installed


def main(argv: Sequence[str] | None = None) -> int:
    """``wstp-jupyter install [--user | --sys-prefix | --prefix P] [--only NAME] [--name N]``."""
    parser = argparse.ArgumentParser(
        prog="wstp-jupyter install",
        description="Install the Wolfram Language kernelspecs for Jupyter.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for the current user")
    where.add_argument(
        "--sys-prefix", action="store_true", help=f"install into sys.prefix ({sys.prefix})"
    )
    where.add_argument("--prefix", default=None, help="install under this prefix")
    parser.add_argument(
        "--only",
        choices=KERNELSPEC_NAMES,
        action="append",
        default=None,
        help="install only this kernelspec (repeatable; default: all)",
    )
    parser.add_argument(
        "--name", default=None, help=f"install one kernelspec (default {LOCAL_KERNELSPEC}) as NAME"
    )
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    names: list[str] = args.only or (list(KERNELSPEC_NAMES) if args.name is None else [])
    if args.name is not None and not names:
        names = [LOCAL_KERNELSPEC]
    prefix = sys.prefix if args.sys_prefix else args.prefix
    try:
        paths = install_kernelspecs(user=args.user, prefix=prefix, names=names, rename=args.name)
    except (ValueError, OSError) as exc:
        print(f"wstp-jupyter install: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"installed kernelspec {Path(path).name} in {path}")
    return 0
