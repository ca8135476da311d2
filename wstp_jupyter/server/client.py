"""The client side of a wstpserver, as the Jupyter kernel uses it.

:func:`attach` connects to a server, has it bridge a kernel (from a pool, or an existing one by
ID) and returns a :class:`ServerSession` with the surface of the engine's ``KernelProcess``:
``.link`` (the main link; its first packet is the kernel's ``InputNamePacket``),
``.open_parallel_links()`` (``.service`` and ``.preemptive``, routed by the server),
``.interrupt()``, ``.abort()``, ``.close()``, plus ``.kernel_id`` and ``.pool``.

It speaks only the server's command language over ordinary links:

1. ``SetKeepAlive[True]`` when the kernel must outlive this session (a profile, an explicit
   kernel ID, or ``keep_alive=True``);
2. ``ConnectKernel[id, "Shared" -> True, "SendInputNamePacket" -> True, "Session" -> token]`` or
   ``ConnectPool[pool, "SendInputNamePacket" -> True, "Session" -> token]``;
3. for the parallel links, two more connections send ``ConnectKernel[id, "Link" ->
   "Preemptive" | "Service", "Session" -> token]``.

Profiles remember the kernel ID in ``<jupyter data dir>/wstp_jupyter/profiles/<name>.json``
(``{"kernel_id": ..., "server": ..., "pool": ...}``, written atomically), so that reopening a
notebook with the same profile reattaches to the same long-lived kernel. With
``autostart=True`` and no server answering at the default local address, a default server is
started in the background (``python -m wstp_jupyter.server``, its log in the Jupyter runtime
directory) and attached to once it is ready.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from wstp_jupyter.link import Link, LinkError, Protocol, UrgentMessage, is_loopback_host
from wstp_jupyter.server._errors import AttachError
from wstp_jupyter.wxf import Expr, Symbol

DEFAULT_ADDRESS = "31415@127.0.0.1"
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def normalize_address(address: str) -> str:
    """``port@host`` from ``port@host``, ``host:port``, ``port`` or ``wstp://host:port``.

    Raises:
        AttachError: not an address.
    """
    text = address.strip().removeprefix("wstp://").rstrip("/")
    if "@" in text:
        port, _, host = text.partition("@")
    elif text.isdigit():
        port, host = text, "127.0.0.1"
    else:
        host, _, port = text.rpartition(":")
        host = host.strip("[]")
    if not port.isdigit() or not host:
        raise AttachError(f"not a server address: {address!r} (use PORT@HOST)")
    return f"{int(port)}@{host}"


def profiles_dir() -> Path:
    """Where profiles are kept (shared with the Jupyter kernel's options)."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "wstp_jupyter" / "profiles"


def _profile_path(name: str) -> Path:
    if not _PROFILE_NAME.match(name):
        raise AttachError(f"bad profile name {name!r}: use letters, digits, '.', '_', '-'")
    return profiles_dir() / f"{name}.json"


def load_profile(name: str) -> dict[str, Any]:
    """The saved state of a profile (empty when never saved or unreadable)."""
    try:
        data = json.loads(_profile_path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_profile(name: str, data: dict[str, Any]) -> Path:
    """Atomically write a profile; returns its path."""
    path = _profile_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _command(name: str, *args: object, **options: object) -> Expr:
    rules = [Expr(Symbol("Rule"), k, v) for k, v in options.items() if v is not None]
    return Expr(Symbol("EvaluatePacket"), Expr(Symbol(f"WSTPServer`{name}"), *args, *rules))


def _failure_text(value: object) -> str | None:
    if isinstance(value, Expr) and value.head == Symbol("Failure"):
        details = value.args[1] if len(value.args) > 1 else None
        if isinstance(details, dict):
            return str(details.get("Message", value))
        return str(value)
    return None


def call(link: Link, name: str, *args: object, timeout: float = 60.0, **options: object) -> object:
    """Send ``WSTPServer`name[args, options]`` in an ``EvaluatePacket`` and return the result.

    Other packets that arrive first are skipped. Raises :class:`AttachError` for a ``Failure``.
    """
    link.put(_command(name, *args, **options))
    deadline = time.monotonic() + timeout
    while True:
        expr = link.get(timeout=max(0.0, deadline - time.monotonic()))
        if isinstance(expr, Expr) and expr.head == Symbol("ReturnPacket"):
            result = expr.args[0] if expr.args else None
            message = _failure_text(result)
            if message is not None:
                raise AttachError(message)
            return result


class ServerSession:
    """A kernel of a wstpserver, seen from one client (same surface as ``KernelProcess``)."""

    def __init__(self, link: Link, *, address: str, kernel_id: str, pool: str | None,
                 key: str | bytes | None, session: str) -> None:
        self.link = link
        self.address = address
        self.kernel_id = kernel_id
        self.pool = pool
        self.key = key
        self.session = session
        self.service: Link | None = None
        self.preemptive: Link | None = None
        self.process = None  # the kernel runs under the server, not as our child
        self.pid: int | None = None

    def __repr__(self) -> str:
        return f"<ServerSession kernel={self.kernel_id} server={self.address}>"

    def _side_link(self, role: str, timeout: float) -> Link:
        link = Link.connect(Protocol.TCPIP, self.address, key=self.key)
        try:
            link.activate(timeout=timeout)
            call(link, "ConnectKernel", self.kernel_id, timeout=timeout, Link=role,
                 Session=self.session)
        except BaseException:
            link.close()
            raise
        return link

    def open_parallel_links(self, timeout: float = 30.0) -> tuple[Link, Link]:
        """Open the service and preemptive links through the server.

        Returns:
            ``(service, preemptive)``, also kept as ``.service`` / ``.preemptive``.

        Raises:
            AttachError: the kernel offers no parallel links.
            LinkError: the server could not be reached.
        """
        if self.service is None or self.preemptive is None:
            service = self._side_link("Service", timeout)
            try:
                preemptive = self._side_link("Preemptive", timeout)
            except BaseException:
                service.close()
                raise
            self.service, self.preemptive = service, preemptive
        return self.service, self.preemptive

    def interrupt(self) -> None:
        """Send the interrupt urgent message (forwarded to the kernel by the server)."""
        self.link.put_message(UrgentMessage.INTERRUPT)

    def abort(self) -> None:
        """Send the abort urgent message (forwarded to the kernel by the server)."""
        self.link.put_message(UrgentMessage.ABORT)

    def close(self, *, shutdown: bool = False, timeout: float = 5.0) -> None:
        """Close the links; the server keeps or closes the kernel by its keep-alive rules.

        Args:
            shutdown: close the kernel itself as well (``WSTPServer`CloseKernel[]``); a running
                evaluation is aborted first.
            timeout: seconds to wait for the server's answer when shutting down.
        """
        if shutdown:
            try:
                self.link.put_message(UrgentMessage.ABORT)
                call(self.link, "CloseKernel", timeout=timeout)
            except (LinkError, AttachError, TimeoutError):
                pass
        for link in (self.service, self.preemptive, self.link):
            if link is not None:
                try:
                    link.close()
                except LinkError:
                    pass


def _runtime_log() -> Path:
    from jupyter_core.paths import jupyter_runtime_dir

    folder = Path(jupyter_runtime_dir())
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "wstpserver-autostart.log"


def _start_local_server(address: str, timeout: float) -> None:
    port, _, host = address.partition("@")
    log = _runtime_log()
    with open(log, "ab") as out:
        subprocess.Popen(
            [sys.executable, "-m", "wstp_jupyter.server", "--port", port, "--interface",
             host, "--log-file", str(log)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)


def _listening(address: str, timeout: float) -> bool:
    # A link in connect mode waits for its listener (WSTP's semantics); probing the port first
    # turns "nothing listens here" into an immediate answer.
    port, _, host = address.partition("@")
    try:
        with socket.create_connection((host, int(port)), timeout=min(timeout, 5.0)):
            return True
    except OSError:
        return False


def _connect(address: str, key: str | bytes | None, timeout: float, autostart: bool) -> Link:
    deadline = time.monotonic() + timeout
    if not _listening(address, timeout):
        if not (autostart and is_loopback_host(address.partition("@")[2])):
            raise AttachError(f"no wstpserver answers at {address}")
        _start_local_server(address, timeout)
        while not _listening(address, 1.0):
            if time.monotonic() >= deadline:
                raise AttachError(f"the wstpserver started at {address} did not answer in "
                                  f"{timeout:.0f} s (see {_runtime_log()})")
            time.sleep(0.1)
    link = Link.connect(Protocol.TCPIP, address, key=key)
    try:
        link.activate(timeout=max(0.1, deadline - time.monotonic()))
    except LinkError as exc:
        link.close()
        raise AttachError(f"cannot open a link to the wstpserver at {address}: {exc}") from exc
    return link


def attach(
    address: str | None = None,
    *,
    pool: str | None = None,
    kernel_id: str | None = None,
    discover: str | None = None,
    key: str | bytes | None = None,
    profile: str | None = None,
    autostart: bool = False,
    shared: bool = True,
    keep_alive: bool | None = None,
    timeout: float = 120.0,
) -> ServerSession:
    """Attach to a kernel of a wstpserver.

    Args:
        address: ``PORT@HOST`` (also ``HOST:PORT``); default ``31415@127.0.0.1``, or the first
            server DNS-SD finds when ``discover`` is given.
        pool: the pool to take a kernel from (the server's default pool when ``None``).
        kernel_id: reattach to this kernel (shared with its other clients when ``shared``).
        discover: ``""`` for any advertised server, a name for ``WSTPServer-Instance-<name>``.
        key: the server's authentication key.
        profile: remember the kernel ID under this name and reattach to it next time; when the
            remembered kernel is gone, a new one is taken from the pool.
        autostart: start a default local server in the background if none answers at the
            default local address.
        shared: join a kernel that other clients hold instead of failing.
        keep_alive: make the kernel survive this session (implied by ``profile`` and
            ``kernel_id``).
        timeout: seconds for connecting and for the server to provide a kernel.

    Returns:
        The :class:`ServerSession`; the first packet on ``.link`` is the kernel's
        ``InputNamePacket``, any output it produced while detached follows.

    Raises:
        AttachError: no server, unknown kernel or pool, pool exhausted, authentication failed.
    """
    if address is None and discover is not None:
        from wstp_jupyter.server.discovery import find_servers

        found = find_servers(timeout=2.0, service=discover or None)
        if not found:
            raise AttachError(f"no wstpserver found by DNS-SD"
                              f"{f' named WSTPServer-Instance-{discover}' if discover else ''}")
        address = found[0].link_name
    address = normalize_address(address or DEFAULT_ADDRESS)
    saved: dict[str, Any] = load_profile(profile) if profile else {}
    from_profile = kernel_id is None and bool(saved.get("kernel_id"))
    wanted = kernel_id or saved.get("kernel_id")
    keep = keep_alive if keep_alive is not None else (bool(profile) or kernel_id is not None)
    link = _connect(address, key, timeout, autostart)
    session = str(uuid.uuid4())
    try:
        if keep:
            call(link, "SetKeepAlive", True, timeout=timeout)
        got: object = None
        if wanted:
            try:
                got = call(link, "ConnectKernel", str(wanted), timeout=timeout,
                           Shared=shared, SendInputNamePacket=True, Session=session)
            except AttachError:
                if not from_profile:
                    raise
        if got is None:
            args = (pool,) if pool else ()
            got = call(link, "ConnectPool", *args, timeout=timeout, SendInputNamePacket=True,
                       Session=session)
        kid = str(got)
        pool_name = pool
    except (LinkError, TimeoutError) as exc:
        link.close()
        raise AttachError(f"the server at {address} did not attach a kernel: {exc}") from exc
    except BaseException:
        link.close()
        raise
    if profile:
        save_profile(profile, {**saved, "kernel_id": kid, "server": address, "pool": pool})
    return ServerSession(link, address=address, kernel_id=kid, pool=pool_name, key=key,
                         session=session)
