"""The engine package's root error and its few specialisations."""

from __future__ import annotations

from wstp_jupyter._errors import WSTPJupyterError


class EngineError(WSTPJupyterError):
    """Root of every error the kernel process (``wstp_jupyter.engine``) raises on purpose."""


class StartupError(EngineError):
    """A kernel process did not start; the message carries the process's stderr."""


class UsageError(EngineError):
    """Bad command-line arguments for ``python -m wstp_jupyter.engine``."""
