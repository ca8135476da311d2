"""The server package's errors.

:class:`ServerError` is the one root; everything :mod:`wstp_jupyter.server` raises on purpose
derives from it. Configuration problems carry the file, line and key they were found at so that
``wstpserver`` can refuse to start with a message that points at the exact place to fix.
"""

from __future__ import annotations

from pathlib import Path

from wstp_jupyter._errors import WSTPJupyterError


class ServerError(WSTPJupyterError):
    """Root of every error raised deliberately by :mod:`wstp_jupyter.server`."""


class ConfigError(ServerError, ValueError):
    """An invalid configuration file or option value.

    Attributes:
        path: the configuration file, or ``None`` for a value that came from elsewhere.
        line: 1-based line of the offending key or value, or ``None`` when unknown.
        key: the dotted key path (``Pools.Default.MinimumKernelNumber``), or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.reason = message
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if key is not None:
            where.append(f"key {key!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class ServerCommandError(ServerError):
    """A ``WSTPServer``` command failed; the text becomes the ``Failure``'s ``"Message"``."""


class AttachError(ServerError):
    """The client side could not attach to a server kernel (no server, refused, a Failure)."""
