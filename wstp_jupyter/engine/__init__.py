"""The kernel process: a Wolfram-style main loop over a WSTP-model link, backed by Mathics3.

Start one with ``python -m wstp_jupyter.engine -wstp -linkmode connect -linkprotocol TCPIP
-linkname PORT@HOST`` or, from Python, with :func:`launch`, which returns a
:class:`KernelProcess` holding the main link. Packet sequences, request forms and parallel links
are described in docs/engine.md.

Importing this package does not import Mathics3; the kernel process does, once, at start.
"""

from __future__ import annotations

from wstp_jupyter.engine._errors import EngineError, StartupError, UsageError
from wstp_jupyter.engine._process import KernelProcess, kernel_command, launch
from wstp_jupyter.engine._sidelinks import open_parallel_links

__all__ = [
    "EngineError",
    "KernelProcess",
    "StartupError",
    "UsageError",
    "kernel_command",
    "launch",
    "open_parallel_links",
]
