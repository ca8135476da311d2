"""DNS-SD: advertising a wstpserver and finding servers on the network.

A server started with ``--advertise [service]`` registers the instance
``WSTPServer-Instance[-service]`` of the service type :data:`SERVICE_TYPE` (``_wstp._tcp.local.``)
through python-zeroconf, with TXT records

* ``pools``: the pool names, comma separated, the default pool first;
* ``default_pool``: the default pool's name;
* ``protocol``: the link protocol (``TCPIP``), ``options``: ``4`` (WSTP's UUID-TCPIP option);
* ``protocol_version``: the link framing version this server speaks;
* ``auth``: ``1`` when the server requires an authentication key, else ``0``;
* ``server``: ``wstp-jupyter <version>``.

The registration uses the interface the server listens on: a server on ``127.0.0.1`` is
announced on loopback only (the tests rely on this), a server on ``0.0.0.0`` on every interface.
It is withdrawn when the server shuts down.

:func:`find_servers` browses for a while and resolves what it saw into :class:`ServerInfo`
values; ``wstp-jupyter discover`` (:func:`cli_main`) prints them.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from zeroconf import InterfaceChoice, IPVersion, ServiceBrowser, ServiceInfo, Zeroconf
from zeroconf.asyncio import AsyncZeroconf

from wstp_jupyter import __version__
from wstp_jupyter.server._errors import ServerError
from wstp_jupyter.server._logging import logger

#: The DNS-SD service type (Wolfram's own is not public; this project defines this one).
SERVICE_TYPE = "_wstp._tcp.local."
INSTANCE_PREFIX = "WSTPServer-Instance"
#: Version of the project's link framing, announced in the ``protocol_version`` TXT record.
PROTOCOL_VERSION = "1"


def instance_name(service: str | None) -> str:
    """``WSTPServer-Instance`` or ``WSTPServer-Instance-<service>``."""
    return f"{INSTANCE_PREFIX}-{service}" if service else INSTANCE_PREFIX


@dataclass(frozen=True)
class ServerInfo:
    """One discovered server.

    ``link_name`` (``"port@address"``) is what a client connects to; ``pools`` lists the pool
    names with the default first.
    """

    name: str
    host: str
    addresses: tuple[str, ...]
    port: int
    pools: tuple[str, ...] = ()
    default_pool: str | None = None
    protocol: str = "TCPIP"
    protocol_version: str = ""
    auth: bool = False
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def link_name(self) -> str:
        address = self.addresses[0] if self.addresses else self.host.rstrip(".")
        return f"{self.port}@{address}"


def _interfaces_for(interface: str) -> tuple[InterfaceChoice | list[str], IPVersion]:
    try:
        ip = ipaddress.ip_address(interface)
    except ValueError:
        return InterfaceChoice.All, IPVersion.V4Only
    if ip.is_unspecified:
        return InterfaceChoice.All, IPVersion.All if ip.version == 6 else IPVersion.V4Only
    return [interface], IPVersion.V6Only if ip.version == 6 else IPVersion.V4Only


def _addresses_for(interface: str) -> list[str]:
    try:
        ip = ipaddress.ip_address(interface)
    except ValueError:
        return [socket.gethostbyname(interface)]
    if not ip.is_unspecified:
        return [interface]
    import ifaddr

    found = [
        str(a.ip) for adapter in ifaddr.get_adapters() for a in adapter.ips
        if isinstance(a.ip, str) and not ipaddress.ip_address(a.ip).is_loopback
    ]
    return found or ["127.0.0.1"]


class Advertiser:
    """Registers one server with DNS-SD for as long as it runs (asyncio side)."""

    def __init__(self, *, service: str | None, port: int, interface: str, pools: Sequence[str],
                 auth: bool) -> None:
        self.name = instance_name(service)
        self._port = port
        self._interface = interface
        self._pools = list(pools)
        self._auth = auth
        self._zc: AsyncZeroconf | None = None
        self._info: ServiceInfo | None = None

    async def start(self) -> str:
        """Register the service; returns the instance name actually registered.

        Raises:
            ServerError: zeroconf could not register (the message says why).
        """
        interfaces, version = _interfaces_for(self._interface)
        props = {
            "pools": ",".join(self._pools),
            "default_pool": self._pools[0] if self._pools else "",
            "protocol": "TCPIP",
            "options": "4",
            "protocol_version": PROTOCOL_VERSION,
            "auth": "1" if self._auth else "0",
            "server": f"wstp-jupyter {__version__}",
        }
        host = socket.gethostname().split(".")[0] or "localhost"
        self._info = ServiceInfo(
            SERVICE_TYPE,
            f"{self.name}.{SERVICE_TYPE}",
            port=self._port,
            properties=props,
            server=f"{host}.local.",
            parsed_addresses=_addresses_for(self._interface),
        )
        try:
            self._zc = AsyncZeroconf(interfaces=interfaces, ip_version=version)
            await self._zc.async_register_service(self._info, allow_name_change=True)
        except Exception as exc:
            await self.close()
            raise ServerError(f"cannot advertise {self.name!r} with DNS-SD: {exc}") from exc
        registered = self._info.name.removesuffix("." + SERVICE_TYPE)
        return registered

    async def close(self) -> None:
        """Withdraw the registration and close zeroconf (idempotent)."""
        zc, self._zc = self._zc, None
        if zc is None:
            return
        try:
            if self._info is not None:
                await asyncio.wait_for(zc.async_unregister_service(self._info), 5)
        except Exception as exc:  # shutting down: report, never raise
            logger.debug("unregistering %s failed: %s", self.name, exc)
        finally:
            await zc.async_close()


def _decode(props: dict[bytes, bytes | None]) -> dict[str, str]:
    return {k.decode(errors="replace"): (v or b"").decode(errors="replace")
            for k, v in props.items()}


def find_servers(
    timeout: float = 2.0,
    interfaces: Sequence[str] | None = None,
    *,
    service: str | None = None,
) -> list[ServerInfo]:
    """Browse DNS-SD for wstpservers.

    Args:
        timeout: seconds to listen for announcements (resolving each adds at most 2 s).
        interfaces: addresses of the interfaces to use (e.g. ``["127.0.0.1"]``); ``None`` means
            all interfaces.
        service: only return ``WSTPServer-Instance-<service>`` (``""`` for the plain instance).

    Returns:
        The servers found, sorted by name.
    """
    names: set[str] = set()

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: object) -> None:
        names.add(name)

    zc = Zeroconf(interfaces=list(interfaces) if interfaces else InterfaceChoice.All)
    try:
        browser = ServiceBrowser(zc, SERVICE_TYPE, handlers=[on_change])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.05)
        browser.cancel()
        found: list[ServerInfo] = []
        for full in sorted(names):
            short = full.removesuffix("." + SERVICE_TYPE)
            if not short.startswith(INSTANCE_PREFIX):
                continue
            if service is not None and short != instance_name(service):
                continue
            info = zc.get_service_info(SERVICE_TYPE, full, timeout=2000)
            if info is None or info.port is None:
                continue
            props = _decode(info.properties)
            found.append(ServerInfo(
                name=short,
                host=info.server or "",
                addresses=tuple(info.parsed_addresses()),
                port=info.port,
                pools=tuple(p for p in props.get("pools", "").split(",") if p),
                default_pool=props.get("default_pool") or None,
                protocol=props.get("protocol", "TCPIP"),
                protocol_version=props.get("protocol_version", ""),
                auth=props.get("auth") == "1",
                properties=props,
            ))
        return found
    finally:
        zc.close()


def cli_main(argv: Sequence[str] | None = None) -> int:
    """``wstp-jupyter discover``: list the wstpservers DNS-SD finds; 1 when none is found."""
    parser = argparse.ArgumentParser(prog="wstp-jupyter discover",
                                     description="List wstpservers advertised with DNS-SD.")
    parser.add_argument("service", nargs="?", default=None,
                        help="only WSTPServer-Instance-SERVICE")
    parser.add_argument("-t", "--timeout", type=float, default=2.0, help="seconds to browse")
    parser.add_argument("-i", "--interface", action="append", dest="interfaces",
                        help="interface address to browse on (repeatable; default all)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    servers = find_servers(args.timeout, args.interfaces, service=args.service)
    if args.json:
        print(json.dumps([{**asdict(s), "link_name": s.link_name} for s in servers], indent=2))
    elif not servers:
        print("no wstpserver found", file=sys.stderr)
    else:
        for s in servers:
            print(f"{s.name}\t{s.link_name}\tpools={','.join(s.pools)}\t"
                  f"protocol={s.protocol}/{s.protocol_version}\tauth={'yes' if s.auth else 'no'}")
    return 0 if servers else 1
