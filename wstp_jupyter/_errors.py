"""The project's root exception.

Every package has one root error of its own (``WXFError``, ``LinkError``, ``EngineError``,
``ServerError``, ``KernelError``) and each of those derives from :class:`WSTPJupyterError`, so
``except WSTPJupyterError`` catches anything this project raises on purpose.
"""

from __future__ import annotations


class WSTPJupyterError(Exception):
    """Root of every exception raised deliberately by wstp-jupyter."""
