"""``wstpserver``: the command line, the environment variables and the startup sequence.

Options follow WSTPServer (``--port``, ``--interface``, ``--log-level``, ``--log-file``,
``--advertise``, ``--configuration-file``) plus ``--key-file`` for the link authentication key.
Every setting is resolved as command line > environment (``WSTPSERVER_PORT``,
``WSTPSERVER_INTERFACE``, ``WSTPSERVER_CONFIGURATION_FILE``, ``WSTPSERVER_DISABLE_ADVERTISING``,
``WSTPSERVER_KEY``) > built-in default. Everything is validated before a single kernel starts, so
a bad option or configuration file ends the program with status 2 and a message naming the
problem. ``--check`` stops after validation and prints the resolved settings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from wstp_jupyter.link import is_loopback_host
from wstp_jupyter.server._config import resolve_config
from wstp_jupyter.server._errors import ConfigError, ServerError
from wstp_jupyter.server._logging import configure_logging, logger, parse_log_level
from wstp_jupyter.server._server import WSTPServer
from wstp_jupyter.server._settings import DEFAULT_INTERFACE, DEFAULT_PORT, ServerSettings


@dataclass(frozen=True, kw_only=True)
class ServerOptions(ServerSettings):
    """Everything ``wstpserver`` runs with, after command line, environment and file: the
    server's own settings plus the program's logging."""

    log_level: int = 35
    log_file: str | None = None


def is_loopback(interface: str) -> bool:
    """Whether every address ``interface`` names is a loopback address (the link's rule:
    ``wstp_jupyter.link.is_loopback_host``)."""
    return is_loopback_host(interface)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wstpserver",
        description="Keep pools of warm Wolfram Language kernels and route WSTP links to them.",
        epilog="environment: WSTPSERVER_PORT, WSTPSERVER_INTERFACE, WSTPSERVER_CONFIGURATION_FILE,"
        " WSTPSERVER_DISABLE_ADVERTISING, WSTPSERVER_KEY (command line > environment > default)",
    )
    p.add_argument("-p", "--port", help=f"port to listen on (default {DEFAULT_PORT}; 0 picks one)")
    p.add_argument("-i", "--interface",
                   help=f"interface to listen on (default {DEFAULT_INTERFACE}); anything beyond "
                   "loopback requires an authentication key")
    p.add_argument("-l", "--log-level", default="error",
                   help="error|debug|trace or 1|2|3 (default error)")
    p.add_argument("-f", "--log-file", nargs="?", const="", default=None, metavar="FILE",
                   help="write the log to FILE (default stdout)")
    p.add_argument("-a", "--advertise", nargs="?", const="", default=None, metavar="SERVICE",
                   help="advertise with DNS-SD as WSTPServer-Instance[-SERVICE]")
    p.add_argument("-c", "--configuration-file", metavar="FILE",
                   help="configuration file (default: search, see docs/server.md)")
    p.add_argument("-k", "--key-file", metavar="FILE",
                   help="file holding the link authentication key (or set WSTPSERVER_KEY)")
    p.add_argument("--check", action="store_true",
                   help="validate the options and configuration, print them and exit")
    return p


def resolve_options(argv: Sequence[str], env: Mapping[str, str] | None = None) -> ServerOptions:
    """Combine the command line, the environment and the configuration file.

    Raises:
        ConfigError: a bad port, log level, key file, interface without a key, or an invalid
            configuration file (with its line and key).
        SystemExit: from argparse for unknown options or ``--help``.
    """
    env = os.environ if env is None else env
    args = _parser().parse_args(list(argv))
    port_text = args.port if args.port is not None else env.get("WSTPSERVER_PORT") or None
    port = DEFAULT_PORT
    if port_text is not None:
        try:
            port = int(port_text)
        except ValueError:
            port = -1
        if not 0 <= port <= 65535:
            raise ConfigError(f"bad port {port_text!r}: use a number from 0 to 65535",
                              key="--port")
    interface = args.interface or env.get("WSTPSERVER_INTERFACE") or DEFAULT_INTERFACE
    if interface == "localhost":
        interface = DEFAULT_INTERFACE
    key: bytes | None = None
    if args.key_file:
        try:
            key = Path(args.key_file).expanduser().read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the key file: {exc}", key="--key-file") from None
    elif env.get("WSTPSERVER_KEY"):
        key = env["WSTPSERVER_KEY"].encode()
    if key is not None and not key:
        raise ConfigError("the authentication key is empty", key="--key-file")
    if key is None and not is_loopback(interface):
        raise ConfigError(
            f"interface {interface!r} is reachable beyond this machine; an authentication key is "
            "required (--key-file FILE or WSTPSERVER_KEY)", key="--interface")
    advertise = args.advertise
    if env.get("WSTPSERVER_DISABLE_ADVERTISING"):
        advertise = None
    return ServerOptions(
        port=port,
        interface=interface,
        key=key,
        log_level=parse_log_level(args.log_level),
        log_file=args.log_file or None,
        advertise=advertise,
        config=resolve_config(args.configuration_file, env),
    )


def describe(options: ServerOptions) -> str:
    """A human-readable summary of the resolved settings (used by ``--check``)."""
    cfg = options.config
    lines = [
        f"port: {options.port}",
        f"interface: {options.interface}",
        f"authentication key: {'yes' if options.key else 'no'}",
        f"configuration file: {cfg.source or '(built-in defaults)'}",
        f"advertise: {'no' if options.advertise is None else options.advertise or '(default)'}",
    ]
    for pool in cfg.pools:
        lines.append(
            f"pool {pool.name!r}{' (default)' if pool.default else ''}: "
            f"kernels {pool.minimum_kernel_number}..{pool.maximum_kernel_number}, "
            f"keep-alive {pool.keep_alive}, command {' '.join(pool.kernel_command)}"
        )
    return "\n".join(lines)


async def _serve(options: ServerOptions) -> None:
    server = WSTPServer(options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-POSIX
            pass
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``wstpserver``; returns the exit status (2 for a bad option or configuration)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        options = resolve_options(args)
        if "--check" in args:
            print(describe(options))
            return 0
        configure_logging(options.log_level, options.log_file)
    except ConfigError as exc:
        print(f"wstpserver: error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(options))
    except ServerError as exc:
        logger.error("WSTPServer could not start: %s", exc)
        print(f"wstpserver: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
