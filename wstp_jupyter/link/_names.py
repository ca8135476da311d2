"""Link protocols and link names (no I/O).

``Protocol`` names the transports. Names follow WSTP: a TCPIP name is ``"port@host"`` (WSTP's
two-port form ``"p1@h,p2@h"`` is accepted and its first port used, since one connection carries
both directions here); a ``Local`` name is a Unix socket path; an ``IntraProcess`` name is any
string unique within the process. ``Loopback`` links have no name.
"""

from __future__ import annotations

from enum import StrEnum

from wstp_jupyter.link._constants import ErrorCode
from wstp_jupyter.link._errors import LocalProtocolError

DEFAULT_HOST = "127.0.0.1"


class Protocol(StrEnum):
    """Link protocols (``LinkProtocol``).

    ``Local`` is a Unix-domain socket and stands in for WSTP's ``SharedMemory`` (the name
    ``"SharedMemory"`` is accepted as an alias); ``IntraProcess`` links live inside one process;
    ``Loopback`` is one object holding both ends (``WSLoopbackOpen``).
    """

    TCPIP = "TCPIP"
    Local = "Local"
    IntraProcess = "IntraProcess"
    Loopback = "Loopback"

    @classmethod
    def parse(cls, value: Protocol | str) -> Protocol:
        """The protocol for a name such as ``"tcpip"`` or ``"SharedMemory"`` (case-insensitive).

        Raises:
            LocalProtocolError: (``WSEBADPARAM``) an unknown protocol name.
        """
        if isinstance(value, Protocol):
            return value
        key = str(value).strip().lower()
        aliases = {
            "tcpip": cls.TCPIP,
            "tcp": cls.TCPIP,
            "local": cls.Local,
            "sharedmemory": cls.Local,
            "unix": cls.Local,
            "intraprocess": cls.IntraProcess,
            "loopback": cls.Loopback,
        }
        try:
            return aliases[key]
        except KeyError:
            raise LocalProtocolError(
                f"unknown link protocol {value!r} (use TCPIP, Local, IntraProcess or Loopback)",
                ErrorCode.WSEBADPARAM,
            ) from None


def parse_tcpip_name(name: str | int | None, default_host: str = DEFAULT_HOST) -> tuple[str, int]:
    """``(host, port)`` for a TCPIP link name; port 0 means "any free port".

    Accepts ``"31415@127.0.0.1"``, ``"31415"``, ``31415``, ``"8000@h,8001@h"`` and
    ``"31415@[::1]"``.

    Raises:
        LocalProtocolError: (``WSEBADNAME``) the name is not of that form.
    """
    if name is None or name == "":
        return default_host, 0
    text = str(name).strip().split(",", 1)[0]
    port_text, _, host = text.partition("@")
    host = host.strip().strip("[]") or default_host
    try:
        port = int(port_text)
    except ValueError:
        raise LocalProtocolError(
            f"bad TCPIP link name {name!r}: expected 'port@host'", ErrorCode.WSEBADNAME
        ) from None
    if not 0 <= port <= 65535:
        raise LocalProtocolError(f"port {port} out of range in {name!r}", ErrorCode.WSEBADNAME)
    return host, port


def format_tcpip_name(host: str, port: int) -> str:
    """``"port@host"``."""
    return f"{port}@{host}"
