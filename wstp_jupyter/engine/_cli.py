"""``python -m wstp_jupyter.engine``: start a kernel process the way a Wolfram kernel starts.

Arguments follow ``WSOpenArgcArgv``: case-insensitive, unknown ones ignored (with a warning on
stderr). The backend is loaded *before* the link is opened, so a launcher that sees the link
activate knows the kernel is ready, and a kernel that fails to start exits with its error on
stderr instead of leaving the front end waiting.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

from wstp_jupyter.engine import _stack
from wstp_jupyter.engine._errors import StartupError, UsageError
from wstp_jupyter.link import KEY_ENV, AuthenticationError, Link, LinkError, Protocol

USAGE = """\
usage: python -m wstp_jupyter.engine -wstp -linkmode connect|listen -linkprotocol TCPIP|Local
                                     -linkname NAME [-linkhost HOST] [-linkkey-env VAR]
                                     [--engine mathics3|woxi] [-noinit]
  -linkconnect / -linkcreate are short for -linkmode connect / listen.
  The link key is read from the environment variable WSTP_JUPYTER_LINK_KEY (or VAR).
  In listen mode the link name is printed on stdout."""


ENGINES = ("mathics3", "woxi")
ENGINE_ALIASES = {"mathics3": "mathics3", "mathics": "mathics3", "woxi": "woxi"}


@dataclass
class EngineOptions:
    """Parsed command line."""

    wstp: bool = False
    mode: str = "connect"
    protocol: str = "TCPIP"
    name: str | None = None
    host: str = "127.0.0.1"
    key_env: str = KEY_ENV
    backend: str = "mathics3"
    noinit: bool = False


_VALUED = {
    "-linkmode": "mode",
    "-linkprotocol": "protocol",
    "-linkname": "name",
    "-linkhost": "host",
    "-linkkey-env": "key_env",
    "-backend": "backend",
    "-engine": "backend",
    "--engine": "backend",
    "-linkoptions": None,
}


def parse_args(argv: list[str]) -> EngineOptions:
    """Parse kernel arguments.

    Raises:
        UsageError: a value is missing or not one of the accepted choices.
    """
    opts = EngineOptions()
    i = 0
    while i < len(argv):
        arg = argv[i]
        low = arg.lower()
        if low in ("-wstp", "-mathlink"):
            opts.wstp = True
        elif low == "-linkconnect":
            opts.mode = "connect"
        elif low in ("-linkcreate", "-linklisten"):
            opts.mode = "listen"
        elif low in ("-noinit", "-noprompt"):
            opts.noinit = True
        elif low in _VALUED:
            if i + 1 >= len(argv):
                raise UsageError(f"{arg} needs a value")
            field = _VALUED[low]
            if field is not None:
                setattr(opts, field, argv[i + 1])
            i += 1
        else:
            print(f"wstp_jupyter.engine: ignoring unknown argument {arg!r}", file=sys.stderr)
        i += 1
    opts.mode = opts.mode.lower()
    if opts.mode not in ("connect", "listen"):
        raise UsageError(f"-linkmode must be connect or listen, not {opts.mode!r}")
    if opts.protocol.lower() not in ("tcpip", "local"):
        raise UsageError(f"-linkprotocol must be TCPIP or Local, not {opts.protocol!r}")
    opts.protocol = "TCPIP" if opts.protocol.lower() == "tcpip" else "Local"
    engine = ENGINE_ALIASES.get(opts.backend.lower())
    if engine is None:
        raise UsageError(f"unknown engine {opts.backend!r} (available: mathics3, woxi)")
    opts.backend = engine
    if opts.mode == "connect" and not opts.name:
        raise UsageError("-linkmode connect needs -linkname")
    return opts


def main(argv: list[str] | None = None) -> int:
    """Run a kernel process; returns (and exits with) its exit code."""
    level = os.environ.get("WSTP_JUPYTER_ENGINE_LOG", "WARNING").upper()
    logging.basicConfig(level=level, stream=sys.stderr, format="engine %(levelname)s %(message)s")
    try:
        opts = parse_args(list(sys.argv[1:] if argv is None else argv))
    except UsageError as exc:
        print(f"wstp_jupyter.engine: {exc}\n{USAGE}", file=sys.stderr)
        return 2
    code = serve(opts)
    sys.stdout.flush()
    sys.stderr.flush()
    # Daemon threads may still sit in a blocked evaluation; leave without waiting for them.
    os._exit(code)


def _report_rejected(peer: str, error: LinkError) -> None:
    """Say on stderr why a connection to the listening kernel was dropped (wrong key, garbage,
    silence, or another peer was first)."""
    print(f"wstp_jupyter.engine: refused a client ({peer}): {error}", file=sys.stderr, flush=True)


def _activate_listener(link: Link) -> None:
    """Wait for the one peer that knows the key.

    The link runs the handshakes of all connecting clients at once and tells
    ``_report_rejected`` of every one it drops. ``Link.activate`` raises a wrong key and keeps
    listening; any local process could otherwise end a listening kernel by connecting with a
    bad key, so it is only waited past here (it has been reported already).
    """
    while True:
        try:
            link.activate()
            return
        except AuthenticationError:
            continue


def make_backend(engine: str) -> Any:
    """Create and start the backend of ``engine`` (``"mathics3"`` or ``"woxi"``).

    Raises:
        StartupError: the engine's package is missing (the message names the extra to install).
    """
    if engine == "woxi":
        from wstp_jupyter.engine._woxi import WoxiBackend

        woxi_backend = WoxiBackend()
        woxi_backend.start()
        return woxi_backend
    from wstp_jupyter.engine._mathics import MathicsBackend

    backend = MathicsBackend()
    backend.start()
    return backend


def serve(opts: EngineOptions) -> int:
    """Load the backend, open the link, run the main loop; the exit code."""
    from wstp_jupyter.engine._mainloop import MainLoop
    from wstp_jupyter.engine._sidelinks import KernelSideLinks

    try:
        backend = make_backend(opts.backend)
    except StartupError as exc:
        print(f"wstp_jupyter.engine: {exc}", file=sys.stderr)
        return 1
    _stack.set_limit(sys.getrecursionlimit())  # what the backend set, at least the engine's
    key = os.environ.get(opts.key_env) or None
    protocol = Protocol.parse(opts.protocol)
    try:
        if opts.mode == "listen":
            link = Link.listen(protocol, opts.name, key=key, on_reject=_report_rejected)
            print(link.name, flush=True)
            _activate_listener(link)
        else:
            assert opts.name is not None
            link = Link.connect(protocol, opts.name, key=key)
            link.activate(timeout=30)
    except LinkError as exc:
        print(f"wstp_jupyter.engine: cannot open the link: {exc}", file=sys.stderr)
        return 1
    loop = MainLoop(backend, link, side_links=KernelSideLinks(protocol, key, opts.host))
    try:
        # The loop thread answers preemptive requests itself: it needs the large stack too.
        return _stack.run(loop.run, "engine-loop")
    finally:
        for writer in (loop.service, loop.preemptive, loop.main):
            if writer is not None:
                writer.link.close()
