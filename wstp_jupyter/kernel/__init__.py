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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wstp_jupyter.kernel._errors import (
        KernelDied,
        KernelError,
        KernelStartError,
        OptionsError,
    )
    from wstp_jupyter.kernel._kernel import WolframKernel
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

# Every public name is loaded on first use: ``python -m wstp_jupyter.kernel`` imports this
# package before it can start anything, and the kernel's start-up is on the clock (the WXF
# codec pulls in numpy, the installer pillow; ipykernel is needed only by the kernel class).
_LAZY = {
    "KernelDied": "_errors",
    "KernelError": "_errors",
    "KernelStartError": "_errors",
    "OptionsError": "_errors",
    "WolframKernel": "_kernel",
    "CellTranslator": "_mapping",
    "KernelOptions": "_options",
    "parse_options": "_options",
    "KERNELSPEC_NAMES": "_spec",
    "LANGUAGE_INFO": "_spec",
    "LOCAL_KERNELSPEC": "_spec",
    "SERVER_KERNELSPEC": "_spec",
    "kernel_json": "_spec",
    "install_kernelspecs": "install",
}

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
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
