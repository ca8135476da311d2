"""The Jupyter kernel: a front end of a Wolfram kernel process over WSTP links.

:class:`WolframKernel` is an ipykernel ``Kernel`` subclass. Each ``execute_request`` becomes
packets on the main link of a kernel process (launched locally by :mod:`wstp_jupyter.engine`, or
served by a wstpserver); the packets coming back become Jupyter messages
(:mod:`~wstp_jupyter.kernel._mapping`). Completion, inspection and completeness checks use the
preemptive link, so they answer while a cell runs. See docs/jupyter.md.

Entry points: ``python -m wstp_jupyter.kernel`` (the kernelspecs' argv), ``wstp-jupyter
install`` (:func:`install_kernelspecs`) and ``wstp-jupyter tour``.
"""

from __future__ import annotations

from typing import Any

from wstp_jupyter.kernel._errors import KernelDied, KernelError, KernelStartError, OptionsError
from wstp_jupyter.kernel._mapping import CellTranslator
from wstp_jupyter.kernel._options import KernelOptions, parse_options
from wstp_jupyter.kernel._spec import (
    KERNELSPEC_NAMES,
    LANGUAGE_INFO,
    LOCAL_KERNELSPEC,
    SERVER_KERNELSPEC,
    kernel_json,
)
from wstp_jupyter.kernel.install import install_kernelspecs

__all__ = [
    "KERNELSPEC_NAMES",
    "LANGUAGE_INFO",
    "LOCAL_KERNELSPEC",
    "SERVER_KERNELSPEC",
    "CellTranslator",
    "KernelDied",
    "KernelError",
    "KernelOptions",
    "KernelStartError",
    "OptionsError",
    "WolframKernel",
    "install_kernelspecs",
    "kernel_json",
    "parse_options",
]


def __getattr__(name: str) -> Any:
    # ipykernel is imported only when the kernel class is needed, so `wstp-jupyter install`
    # and the mapping tests stay light.
    if name == "WolframKernel":
        from wstp_jupyter.kernel._kernel import WolframKernel

        return WolframKernel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
