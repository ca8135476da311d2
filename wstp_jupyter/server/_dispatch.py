"""The ``WSTPServer``` functions: arguments, effects and results.

Each handler takes the :class:`~._sessions.Sessions`, the client connection and the parsed
:class:`~._commands.Command` and returns ``(result, after)``: the result expression, and
packets to send after the reply (the kernel's ``InputNamePacket`` and buffered output when a
kernel was just bridged). Bad
arguments and refused operations raise :class:`ServerCommandError`, which the connection turns
into ``Failure["WSTPServer", <|"Message" -> ...|>]``; nothing a client sends here can disturb
another client.

Bridging happens as the last, ``await``-free step of a handler, so nothing from the kernel can
reach the client between the bridge and the reply that announces it. Handlers never change a
connection or a kernel themselves: they ask the sessions, which own every bridge.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from wstp_jupyter.server._commands import Command
from wstp_jupyter.server._errors import ServerCommandError, ServerError
from wstp_jupyter.server._kernel import ManagedKernel
from wstp_jupyter.server._model import AVAILABLE, KernelState
from wstp_jupyter.server._sessions import MAIN, PREEMPTIVE, SERVICE, Client, Sessions
from wstp_jupyter.wxf import Symbol

Result = tuple[object, list[object]]
Handler = Callable[[Sessions, Client, Command], Awaitable[Result]]
_HANDLERS: dict[str, Handler] = {}
_OPTIONS = {
    "StartKernel": {"Pool"},
    "ConnectKernel": {"Shared", "SendInputNamePacket", "Link", "Session"},
    "ConnectPool": {"SendInputNamePacket", "Session", "Parallel"},
}


def _handler(fn: Handler) -> Handler:
    _HANDLERS[fn.__name__.lstrip("_")] = fn
    return fn


def _check(cmd: Command, nargs: tuple[int, int], types: tuple[type, ...] = ()) -> None:
    low, high = nargs
    if not low <= len(cmd.args) <= high:
        want = str(low) if low == high else f"{low} to {high}"
        raise ServerCommandError(
            f"WSTPServer`{cmd.name} takes {want} argument(s), got {len(cmd.args)}")
    for arg, kind in zip(cmd.args, types, strict=False):
        if not isinstance(arg, kind):
            raise ServerCommandError(
                f"WSTPServer`{cmd.name}: expected {'True or False' if kind is bool else 'a string'}"
                f", got {arg!r}")
    unknown = set(cmd.options) - _OPTIONS.get(cmd.name, set())
    if unknown:
        raise ServerCommandError(
            f"WSTPServer`{cmd.name}: unknown option(s) {', '.join(sorted(unknown))}")


def _flag(cmd: Command, name: str) -> bool | None:
    value = cmd.options.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise ServerCommandError(f"WSTPServer`{cmd.name}: option {name} must be True or False")


def _bridged(conn: Client, cmd: Command) -> ManagedKernel:
    if conn.kernel is None or not conn.kernel.alive:
        raise ServerCommandError(f"WSTPServer`{cmd.name}: no kernel is bridged to this link")
    return conn.kernel


async def execute(sessions: Sessions, conn: Client, cmd: Command) -> Result:
    """Run ``cmd`` for ``conn``.

    Raises:
        ServerCommandError: bad arguments or a refused operation.
    """
    return await _HANDLERS[cmd.name](sessions, conn, cmd)


@_handler
async def _StartKernel(sessions: Sessions, conn: Client, cmd: Command) -> Result:
    _check(cmd, (0, 0))
    pool_name = cmd.options.get("Pool")
    if pool_name is not None and not isinstance(pool_name, str):
        raise ServerCommandError("WSTPServer`StartKernel: option Pool must be a pool name")
    config = sessions.pool_for(pool_name).config
    outside = [k for k in sessions.kernels.values() if k.pool is None and k.alive]
    limit = sessions.config.default_pool.maximum_kernel_number
    if len(outside) >= limit:
        raise ServerCommandError(
            f"WSTPServer`StartKernel: {limit} kernels outside pools are already running")
    kernel = ManagedKernel(
        command=config.kernel_command, pool=None, keep_alive=True,
        allow_silent_replacement=False, initialization_code=config.initialization_code,
        initialization_file=config.initialization_file, on_exit=sessions.kernel_exited)
    sessions.kernel_new(kernel)
    try:
        await kernel.launch()
    except ServerError as exc:
        sessions.kernels.pop(kernel.id, None)
        raise ServerCommandError(f"WSTPServer`StartKernel: {exc}") from None
    return kernel.id, []


@_handler
async def _CloseKernel(sessions: Sessions, conn: Client, cmd: Command) -> Result:
    _check(cmd, (0, 1), (str,))
    if cmd.args:
        kernel = sessions.kernels.get(str(cmd.args[0]))
        if kernel is None or not kernel.alive:
            raise ServerCommandError(f"WSTPServer`CloseKernel: no kernel with ID {cmd.args[0]}")
        others = [c for c in kernel.clients if c is not conn]
        if others and not sessions.config.allow_stealing_kernels:
            raise ServerCommandError(
                f"WSTPServer`CloseKernel: kernel {kernel.id} is bridged to another client")
    else:
        kernel = _bridged(conn, cmd)
    sessions.close_kernel(kernel)
    return None, []


@_handler
async def _ConnectKernel(sessions: Sessions, conn: Client, cmd: Command) -> Result:
    _check(cmd, (1, 1), (str,))
    kernel_id = str(cmd.args[0])
    kernel = sessions.kernels.get(kernel_id)
    if kernel is None or not kernel.alive:
        raise ServerCommandError(f"WSTPServer`ConnectKernel: no kernel with ID {kernel_id}")
    if kernel.state not in AVAILABLE and kernel.state is not KernelState.ATTACHED:
        raise ServerCommandError(
            f"WSTPServer`ConnectKernel: kernel {kernel_id} is {kernel.state.value.lower()}")
    link = cmd.options.get("Link", MAIN)
    if link not in (MAIN, PREEMPTIVE, SERVICE):
        raise ServerCommandError(
            "WSTPServer`ConnectKernel: option Link must be \"Main\", \"Preemptive\" or \"Service\"")
    if link != MAIN:
        session = cmd.options.get("Session")
        if session is not None and not isinstance(session, str):
            raise ServerCommandError("WSTPServer`ConnectKernel: option Session must be a string")
        return kernel.id, sessions.bridge_parallel(conn, kernel, str(link), session)
    shared = _flag(cmd, "Shared")
    others = [c for c in kernel.clients if c is not conn]
    if others and not shared:
        if not sessions.config.allow_stealing_kernels:
            raise ServerCommandError(
                f"WSTPServer`ConnectKernel: kernel {kernel_id} is bridged to another client; "
                "use \"Shared\" -> True to share it")
        sessions.take_over(kernel, conn)  # AllowStealingKernels: the previous clients lose it
    _session(sessions, conn, cmd)
    return kernel.id, sessions.bridge(conn, kernel, input_name=_flag(cmd, "SendInputNamePacket"))


def _session(sessions: Sessions, conn: Client, cmd: Command) -> None:
    session = cmd.options.get("Session")
    if session is not None:
        if not isinstance(session, str):
            raise ServerCommandError(f"WSTPServer`{cmd.name}: option Session must be a string")
        sessions.set_session(conn, session)


@_handler
async def _ConnectPool(sessions: Sessions, conn: Client, cmd: Command) -> Result:
    _check(cmd, (0, 1), (str,))
    _session(sessions, conn, cmd)
    name = str(cmd.args[0]) if cmd.args else None
    parallel = _flag(cmd, "Parallel")
    if parallel:  # a master's LaunchKernels["wstp://..."] (see _subkernels)
        from wstp_jupyter.server._subkernels import parallel_pool

        name = parallel_pool(sessions.config, name).name
        conn.preferences["keep_alive"] = False
    after = await sessions.attach_pool(conn, name, input_name=_flag(cmd, "SendInputNamePacket"))
    if conn.kernel is None:
        raise ServerCommandError("WSTPServer`ConnectPool: the link closed")
    conn.kernel.subkernel = bool(parallel)
    return conn.kernel.id, after


@_handler
async def _DisconnectKernel(sessions: Sessions, conn: Client, cmd: Command) -> Result:
    _check(cmd, (0, 0))
    _bridged(conn, cmd)
    sessions.release(conn)
    return None, []


async def _set(sessions: Sessions, conn: Client, cmd: Command, preference: str) -> Result:
    _check(cmd, (1, 1), (bool,))
    sessions.set_preference(conn, preference, bool(cmd.args[0]))
    return None, []


@_handler
async def _SetKeepAlive(sessions: Sessions, conn: Client, cmd: Command) -> Result:
    return await _set(sessions, conn, cmd, "keep_alive")


@_handler
async def _SetAllowSilentKernelReplacement(sessions: Sessions, conn: Client,
                                           cmd: Command) -> Result:
    return await _set(sessions, conn, cmd, "allow_silent_replacement")


@_handler
async def _SetReserveKernel(sessions: Sessions, conn: Client, cmd: Command) -> Result:
    return await _set(sessions, conn, cmd, "reserve")


@_handler
async def _GetKernelID(sessions: Sessions, conn: Client, cmd: Command) -> Result:
    _check(cmd, (0, 0))
    return _bridged(conn, cmd).id, []


@_handler
async def _GetPoolName(sessions: Sessions, conn: Client, cmd: Command) -> Result:
    _check(cmd, (0, 0))
    pool = _bridged(conn, cmd).pool
    return (Symbol("None") if pool is None else pool), []


@_handler
async def _GetServerInformation(sessions: Sessions, conn: Client,
                                cmd: Command) -> Result:
    _check(cmd, (0, 0))
    return sessions.information(), []
