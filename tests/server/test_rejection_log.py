"""A connection the server turns away is reported once, by the server, in its own log format:
the link library adds no warning of its own (which would reach stderr unformatted, bypass the log
file and show at the default level, where docs/server.md says rejections stay out)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from wstp_jupyter.link import AuthenticationError, Link, Protocol

from .helpers import Client, ServerProcess

KEY = "server-test-key"
CONFIG = {"Pools": {"Default": {"MinimumKernelNumber": 0, "MaximumKernelNumber": 1}}}


def _turn_away(server: ServerProcess) -> None:
    """A wrong-key client and a non-client; then a round trip by the right client, after which
    the server has handled both rejections (one event loop serves them all in order)."""
    intruder = Link.connect(Protocol.TCPIP, server.address, key="not-the-key")
    with pytest.raises(AuthenticationError):
        intruder.activate(timeout=30)
    intruder.close()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n" + b"x" * 64)
        sock.settimeout(30)
        while sock.recv(4096):  # until the server has dropped it
            pass
    c = Client(server.address, key=KEY)
    assert "Default" in c.command("GetServerInformation")["Pools"]
    c.close()


@pytest.mark.parametrize("level", ["error", "debug"])
def test_a_rejected_connection_is_reported_once_in_the_server_format(
    tmp_path: Path, level: str
) -> None:
    server = ServerProcess(CONFIG, tmp_path, "-l", level, env={"WSTPSERVER_KEY": KEY},
                           separate_stderr=True)
    try:
        _turn_away(server)
    finally:
        assert server.stop() == 0, server.log[-3000:]
    stderr = "".join(server.err_lines)
    assert "authentication failed" not in stderr and "disconnected" not in stderr, stderr
    rejected = server.log.count("Rejected a connection")
    if level == "error":
        assert rejected == 0 and "authentication failed" not in server.log, server.log
    else:
        assert rejected == 2, server.log
        assert server.log.count("authentication failed") == 1, server.log
    for line in server.log.splitlines():  # every line is in WSTPServer's format
        assert line.startswith(("WSTPServer: Logger (0, ", "    ")), line
