"""``python -m wstp_jupyter.kernel -f CONNECTION_FILE [--server ADDR] [--pool NAME] ...``.

Splits the kernel options (see :mod:`wstp_jupyter.kernel._options`) from ipykernel's own
arguments and runs ipykernel's application (``WolframKernelApp``, no subshells) with
:class:`WolframKernel`. Kernel-option errors are printed and give exit status 2 before any
Jupyter socket is opened, so a bad kernelspec fails fast with a readable message in the Jupyter
server's log.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the Jupyter kernel until it is shut down; returns the exit status."""
    from wstp_jupyter.kernel._errors import OptionsError
    from wstp_jupyter.kernel._options import parse_options

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        options, rest = parse_options(args)
    except OptionsError as exc:
        print(f"wstp_jupyter.kernel: {exc}", file=sys.stderr)
        return 2

    from wstp_jupyter.kernel._connection import prestart

    # A local kernel process needs seconds (Mathics3) to start: it is launched before ipykernel
    # loads, so both start-ups overlap.
    prestarted = None if options.uses_server else prestart(options)

    from wstp_jupyter.kernel._app import WolframKernelApp
    from wstp_jupyter.kernel._kernel import WolframKernel

    if prestarted is None:
        # Attaching to a server is mostly waiting, but its imports (link, WXF codec, numpy) cost
        # a tenth of a second of CPU. Begun only now, that work no longer delays ipykernel from
        # binding its sockets; it runs while the front end connects and asks for kernel_info.
        prestarted = prestart(options)

    WolframKernel.kernel_options = options
    WolframKernel.prestarted = prestarted
    WolframKernelApp.launch_instance(
        argv=rest,
        kernel_class=WolframKernel,
        outstream_class="wstp_jupyter.kernel._iostream.QuietOutStream",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
