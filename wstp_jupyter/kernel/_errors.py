"""Errors of the Jupyter kernel package.

:class:`KernelError` is the package's root. The kernel turns these into Jupyter ``error``
replies with the class name as ``ename``, so the names are part of what users see.
"""

from __future__ import annotations

from wstp_jupyter._errors import WSTPJupyterError


class KernelError(WSTPJupyterError):
    """Root of everything :mod:`wstp_jupyter.kernel` raises on purpose."""


class KernelStartError(KernelError):
    """The kernel process (local or from a wstpserver) could not be started or attached."""


class KernelDied(KernelError):
    """The kernel process went away while it was in use (crash, kill, closed link)."""


class OptionsError(KernelError):
    """A kernel option (command line, environment or profile file) is invalid."""
