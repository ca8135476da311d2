"""What a running server needs to know, as one plain value.

The core of the server (``_server``, ``_sessions``, ``_dispatch``) runs from a
:class:`ServerSettings`; where the values come from -- the command line, the environment, the
configuration file -- is the business of ``cli``, whose ``ServerOptions`` extends this class with
the settings of the program around the server (logging).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wstp_jupyter.server._config import ServerConfig

DEFAULT_PORT = 31415
DEFAULT_INTERFACE = "127.0.0.1"


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    """The listening address, the key, DNS-SD advertising and the configuration file's content.

    Attributes:
        port: the TCP port (0 picks a free one).
        interface: the address to listen on; beyond loopback ``key`` is required.
        key: the link authentication key every client must prove, or ``None``.
        advertise: ``None``: not advertised; ``""``: as ``WSTPServer-Instance``; else the
            suffix of ``WSTPServer-Instance-<suffix>``.
        config: the pools and server switches (``ServerConfig``).
    """

    port: int = DEFAULT_PORT
    interface: str = DEFAULT_INTERFACE
    key: bytes | None = None
    advertise: str | None = None
    config: ServerConfig = field(default_factory=ServerConfig)
