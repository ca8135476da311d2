"""Command-line entry points: ``wstp-jupyter`` and ``wstpserver``.

This module only dispatches; each subcommand lives with the package that owns it and is imported
lazily so that ``wstp-jupyter --help`` stays fast and a missing optional piece breaks only its own
subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

# subcommand -> ("module:function", one-line help). Each function takes the remaining argv.
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "tour": ("wstp_jupyter.kernel.tour:main", "run the tour notebook headless and save it"),
    "install": ("wstp_jupyter.kernel.install:main", "install the Jupyter kernelspecs"),
    "kernel": ("wstp_jupyter.kernel.__main__:main", "run the Jupyter kernel (used by kernelspecs)"),
    "engine": ("wstp_jupyter.engine.__main__:main", "run a kernel process on a WSTP link"),
    "discover": ("wstp_jupyter.server.discovery:cli_main", "list wstpservers found by DNS-SD"),
    "server": ("wstp_jupyter.server.cli:main", "run a wstpserver (same as the wstpserver command)"),
}


def _load(target: str) -> Callable[[Sequence[str]], int | None]:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    func: Callable[[Sequence[str]], int | None] = getattr(module, attr)
    return func


def main(argv: Sequence[str] | None = None) -> int:
    """``wstp-jupyter SUBCOMMAND [args...]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="wstp-jupyter",
        description="The Wolfram Language in Jupyter over WSTP links.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="subcommands:\n"
        + "\n".join(f"  {name:<10} {text}" for name, (_, text) in _SUBCOMMANDS.items()),
    )
    parser.add_argument("subcommand", choices=sorted(_SUBCOMMANDS), metavar="SUBCOMMAND")
    if not args or args[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if args else 2
    if args[0] not in _SUBCOMMANDS:
        parser.parse_args(args[:1])  # prints the usage error and exits with status 2
    result = _load(_SUBCOMMANDS[args[0]][0])(args[1:])
    return int(result or 0)


def wstpserver_main(argv: Sequence[str] | None = None) -> int:
    """The ``wstpserver`` command (WSTPServer's command-line interface)."""
    args = list(sys.argv[1:] if argv is None else argv)
    return int(_load(_SUBCOMMANDS["server"][0])(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
