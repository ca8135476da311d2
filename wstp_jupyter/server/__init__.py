"""wstpserver: pools of warm kernels, routing, reconnect by kernel ID, shared kernels, DNS-SD.

The server (``wstpserver`` / ``python -m wstp_jupyter.server``) listens on one port; every
client link is routed to a kernel process it manages, so the link behaves as a direct link to a
kernel, while ``WSTPServer``` commands are answered by the server itself. See docs/server.md.

Public surface:

* :func:`load_config`, :func:`resolve_config`, :class:`ServerConfig`, :class:`PoolConfig` --
  WSTPServer's configuration file;
* :class:`ServerOptions`, :func:`resolve_options` -- the command line and environment;
* :func:`find_servers`, :class:`ServerInfo`, :data:`SERVICE_TYPE` -- DNS-SD discovery;
* :func:`attach`, :class:`ServerSession` (in :mod:`.client`) -- the client side used by the
  Jupyter kernel;
* :class:`ServerError` (root), :class:`ConfigError`, :class:`ServerCommandError`,
  :class:`AttachError`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from wstp_jupyter.server._config import PoolConfig, ServerConfig, load_config, resolve_config
from wstp_jupyter.server._errors import AttachError, ConfigError, ServerCommandError, ServerError
from wstp_jupyter.server.client import ServerSession, attach

if TYPE_CHECKING:
    from wstp_jupyter.server.cli import ServerOptions, resolve_options
    from wstp_jupyter.server.discovery import SERVICE_TYPE, ServerInfo, find_servers

# zeroconf and the server's command line load on first use: a Jupyter kernel that only attaches
# to a server should not pay for them at startup.
_LAZY = {
    "ServerOptions": "wstp_jupyter.server.cli",
    "resolve_options": "wstp_jupyter.server.cli",
    "SERVICE_TYPE": "wstp_jupyter.server.discovery",
    "ServerInfo": "wstp_jupyter.server.discovery",
    "find_servers": "wstp_jupyter.server.discovery",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "SERVICE_TYPE",
    "AttachError",
    "ConfigError",
    "PoolConfig",
    "ServerCommandError",
    "ServerConfig",
    "ServerError",
    "ServerInfo",
    "ServerOptions",
    "ServerSession",
    "attach",
    "find_servers",
    "load_config",
    "resolve_config",
    "resolve_options",
]
