"""The ``Link*`` functions on wire values, for every engine: the link table and its operations.

Each open link lives in one process-wide table under a serial number and is shown to the
language as ``LinkObject["name", n, n]``. Everything here speaks ``wstp_jupyter.wxf`` values
(``Expr``, ``Symbol``, ``int``, ``str``...); an engine adapter converts its own expressions to
and from them (Mathics3: ``_linkfuns``; Woxi: ``_woxi_links``) and turns the two exceptions
into its own means: :class:`LinkCallError` into a message ``Function::tag`` and ``$Failed``,
:class:`LinkAborted` into an abort.

:func:`call` takes a function name and its arguments as the language wrote them and checks
them; the operations below it take checked values. Names: ``"8000"`` means port 8000 on
127.0.0.1, ``"8000@host"`` names the host; Wolfram's two-port form ``"8000@host,8001@host"`` is
accepted and its first part used. ``LinkProtocol`` is ``"TCPIP"`` (default) or ``"Local"`` (a
Unix socket path; ``"SharedMemory"`` and ``"Pipes"`` map to it). Blocking calls (``LinkRead``,
``LinkActivate``, ``LinkReadyQ[link, t]``, a ``LinkWrite`` that waits for the peer) wait in
short slices and ask ``aborted()`` between them, so a stop reaches them within milliseconds.
"""

from __future__ import annotations

import itertools
import shlex
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from wstp_jupyter._process import stop
from wstp_jupyter.link import (
    LimitExceeded,
    Link,
    LinkError,
    LinkTimeout,
    LocalProtocolError,
    UrgentMessage,
)
from wstp_jupyter.wxf import Expr, Symbol

LINK_OBJECT = Symbol("LinkObject")
SLICE = 0.05  # seconds a blocking call waits between two looks at aborted()

#: Message texts, by tag; each Link function has all of them.
MESSAGES: dict[str, str] = {
    "linkn": "Argument `1` is not an open LinkObject.",
    "linkc": "Unable to create or connect the link `1`: `2`.",
    "linkd": "Unable to communicate with closed link `1`.",
    "linkx": "Cannot send over the link: `1`.",
    "linkr": "The expression that came next on `1` was dropped: `2`.",
    "linka": "Wrong arguments: use `1`.",
    "optx": "Unknown option `1`; the only option is LinkProtocol.",
}

#: The Link functions and the forms they accept (the text of the ``linka`` message).
USAGE: dict[str, str] = {
    "LinkCreate": "LinkCreate[] or LinkCreate[\"name\"]",
    "LinkConnect": "LinkConnect[\"name\"]",
    "LinkLaunch": "LinkLaunch[\"command\"]",
    "LinkClose": "LinkClose[link]",
    "LinkActivate": "LinkActivate[link]",
    "LinkWrite": "LinkWrite[link, expr]",
    "LinkRead": "LinkRead[link] or LinkRead[link, head]",
    "LinkReadyQ": "LinkReadyQ[link], LinkReadyQ[link, t] or LinkReadyQ[{link, ...}, t]",
    "LinkInterrupt": "LinkInterrupt[link] or LinkInterrupt[link, code]",
    "Links": "Links[]",
}
#: The functions that take the option ``LinkProtocol`` (default ``"TCPIP"``).
WITH_PROTOCOL = ("LinkCreate", "LinkConnect", "LinkLaunch")

#: WSTP packet heads: inert symbols in the language, so link traffic can be written with them.
PACKET_HEADS = (
    "InputPacket",
    "TextPacket",
    "ReturnPacket",
    "ReturnTextPacket",
    "MessagePacket",
    "MenuPacket",
    "CallPacket",
    "InputNamePacket",
    "OutputNamePacket",
    "SyntaxPacket",
    "DisplayPacket",
    "DisplayEndPacket",
    "EvaluatePacket",
    "EnterTextPacket",
    "EnterExpressionPacket",
    "ReturnExpressionPacket",
    "SuspendPacket",
    "ResumePacket",
    "BeginDialogPacket",
    "EndDialogPacket",
    "InputStringPacket",
    "ExpressionPacket",
)

_RULES = (Symbol("Rule"), Symbol("RuleDelayed"))


class LinkCallError(Exception):
    """A Link function fails: the engine shows message ``Function::tag`` and gives ``$Failed``.

    ``message_args`` are the message's arguments as wire values.
    """

    def __init__(self, tag: str, *message_args: Any) -> None:
        super().__init__(tag, *message_args)
        self.tag = tag
        self.message_args = message_args


class LinkAborted(Exception):
    """A blocking Link function ended because its ``aborted()`` became true."""


def never() -> bool:
    """The ``aborted`` of a caller that cannot be stopped."""
    return False


@dataclass(frozen=True, slots=True)
class _Entry:
    link: Link
    listening: bool  # made by LinkCreate: a write must wait (in slices) for the peer


_links: dict[int, _Entry] = {}
_serial = itertools.count(1)
_lock = threading.Lock()


# -- the table -----------------------------------------------------------------------------
def link_object(n: int, link: Link) -> Expr:
    return Expr(LINK_OBJECT, link.name, n, n)


def register(link: Link, *, listening: bool = False) -> Expr:
    """Put ``link`` in the table; its ``LinkObject``."""
    with _lock:
        n = next(_serial)
        _links[n] = _Entry(link, listening)
    return link_object(n, link)


def _find(obj: Any) -> tuple[int, _Entry]:
    """The table entry ``obj`` (a ``LinkObject``) names; :class:`LinkCallError` ``linkn``."""
    if isinstance(obj, Expr) and obj.head == LINK_OBJECT and len(obj.args) >= 2:
        n = obj.args[1]
        if type(n) is int:
            entry = _links.get(n)
            if entry is not None:
                return n, entry
    raise LinkCallError("linkn", obj)


def lookup(obj: Any) -> Link:
    """The open link ``obj`` names. Raises :class:`LinkCallError` (``linkn``)."""
    return _find(obj)[1].link


def open_links() -> list[Expr]:
    """``Links[]``: the ``LinkObject`` of every open link, oldest first."""
    with _lock:
        items = sorted(_links.items())
    return [link_object(n, e.link) for n, e in items if not e.link.closed]


# -- names and arguments -------------------------------------------------------------------
def protocol_name(value: Any) -> str:
    """The link protocol an option value asks for (anything but a string means TCPIP)."""
    text = value if isinstance(value, str) else "TCPIP"
    if text in ("SharedMemory", "Local", "Pipes"):
        return "Local"
    return "TCPIP" if text in ("Automatic", "TCPIP", "TCP") else text


def tcp_name(name: str, protocol: str) -> str:
    """``"8000"`` -> ``"8000@127.0.0.1"``; the first part of ``"p1@h,p2@h"``."""
    if protocol != "TCPIP":
        return name
    first = name.split(",", maxsplit=1)[0].strip()
    return first if "@" in first else f"{first}@127.0.0.1"


def seconds(value: Any) -> float:
    """A timeout argument in seconds (anything but a real number means 0)."""
    if type(value) in (int, float):
        return max(0.0, float(value))
    return 0.0


def _split_options(args: Sequence[Any]) -> tuple[list[Any], dict[str, Any]]:
    """Positional arguments and the trailing options (rules, or lists of rules)."""
    rest = list(args)
    options: dict[str, Any] = {}
    trailing: list[Any] = []
    while rest and _is_option(rest[-1]):
        trailing.insert(0, rest.pop())
    for item in trailing:
        for rule in item if isinstance(item, list) else [item]:
            key = rule.args[0]
            name = key.short_name if isinstance(key, Symbol) else key
            if name != "LinkProtocol":
                raise LinkCallError("optx", rule)
            options[name] = rule.args[1]
    return rest, options


def _is_option(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_is_option(v) for v in value)
    return (
        isinstance(value, Expr)
        and value.head in _RULES
        and len(value.args) == 2
        and isinstance(value.args[0], Symbol | str)
    )


# -- the operations ------------------------------------------------------------------------
def create(name: str | None, protocol: str) -> Expr:
    """``LinkCreate``: a listening link (a free port when ``name`` is ``None``)."""
    where = tcp_name(name, protocol) if name else None
    try:
        return register(Link.listen(protocol, where), listening=True)
    except (LinkError, ValueError) as exc:
        raise LinkCallError("linkc", name or "", str(exc)) from None


def connect(name: str, protocol: str) -> Expr:
    """``LinkConnect``: returns at once; the link activates with its first use."""
    try:
        return register(Link.connect(protocol, tcp_name(name, protocol)))
    except (LinkError, ValueError) as exc:
        raise LinkCallError("linkc", name, str(exc)) from None


def launch(command: str, protocol: str) -> Expr:
    """``LinkLaunch``: start ``command`` and return the active link to it."""
    try:
        link = Link.launch(shlex.split(command), protocol=protocol)
    except (LinkError, ValueError, OSError) as exc:
        raise LinkCallError("linkc", command, str(exc)) from None
    return register(link)


def close(obj: Any) -> None:
    """``LinkClose``: close the link and end the program ``LinkLaunch`` started, if any."""
    n, entry = _find(obj)
    with _lock:
        _links.pop(n, None)
    link = entry.link
    link.close()
    if link.process is not None:
        # The link is closed, which ends a well-behaved peer; the rest of the stages if not.
        stop(link.process, grace=5.0)


def activate(obj: Any, aborted: Callable[[], bool] = never) -> Any:
    """``LinkActivate``: wait until both ends are active; returns ``obj``."""
    _activate(lookup(obj), obj, aborted)
    return obj


def _activate(link: Link, obj: Any, aborted: Callable[[], bool]) -> None:
    while True:
        if aborted():
            raise LinkAborted
        try:
            link.activate(timeout=SLICE)
            return
        except LinkTimeout:
            continue
        except LinkError:
            raise LinkCallError("linkd", obj) from None


def write(obj: Any, value: Any, aborted: Callable[[], bool] = never) -> None:
    """``LinkWrite``. A created link's first write waits (in slices) for the peer to activate;
    a connecting link's is queued while it activates in the background (see ``Link.put``)."""
    _send(obj, aborted, lambda link: link.put(value))


def _send(obj: Any, aborted: Callable[[], bool], send: Callable[[Link], None]) -> None:
    """``send`` on the link of ``obj``, activated first if it was created (listening); what
    the link refuses is ``linkx``, a broken link ``linkd``."""
    _, entry = _find(obj)
    if entry.listening and not entry.link.active:
        _activate(entry.link, obj, aborted)
    try:
        send(entry.link)
    except LocalProtocolError as exc:
        raise LinkCallError("linkx", str(exc)) from None
    except LinkError:
        raise LinkCallError("linkd", obj) from None


def read(obj: Any, head: Any = None, aborted: Callable[[], bool] = never) -> Any:
    """``LinkRead``: the next expression, wrapped in ``head`` when one is given.

    A read that ``aborted()`` ends takes nothing: it waits until an expression is there, looks
    at ``aborted()`` once more and only then takes it, so the next ``LinkRead`` gets it.
    """
    link = lookup(obj)
    while True:
        if aborted():
            raise LinkAborted
        if not link.ready(SLICE):  # a closed link is "ready": get() raises at once
            continue
        if aborted():
            raise LinkAborted
        try:
            value = link.get(timeout=SLICE)
            break
        except LinkTimeout:
            continue  # another reader took it
        except LimitExceeded as exc:  # beyond the receiver limits: that one is lost, not the link
            raise LinkCallError("linkr", obj, str(exc.args[0])) from None
        except LinkError:
            raise LinkCallError("linkd", obj) from None
    return value if head is None else Expr(head, value)


def ready(objs: Sequence[Any], timeout: float, aborted: Callable[[], bool] = never) -> list[bool]:
    """``LinkReadyQ``: which links have an expression to read, waiting up to ``timeout`` s for
    any (a closed link is ready: reading it fails at once)."""
    links = [lookup(o) for o in objs]
    deadline = time.monotonic() + timeout
    while True:
        flags = [_is_ready(link) for link in links]
        if any(flags) or time.monotonic() >= deadline:
            return flags
        if aborted():
            raise LinkAborted
        time.sleep(0.005)


def _is_ready(link: Link) -> bool:
    try:
        return bool(link.ready(0))
    except LinkError:
        return True


def interrupt(obj: Any, code: int = UrgentMessage.INTERRUPT,
              aborted: Callable[[], bool] = never) -> None:
    """``LinkInterrupt``: send urgent message ``code`` (2 interrupts, 3 aborts)."""
    _send(obj, aborted, lambda link: link.put_message(code))


# -- the functions as the language calls them -----------------------------------------------
def call(name: str, args: Sequence[Any], aborted: Callable[[], bool] = never) -> Any:
    """Run Link function ``name`` on its arguments as written (wire values, options included).

    Returns:
        The result as a wire value (``None`` is ``Null``).

    Raises:
        LinkCallError: wrong arguments (``linka``, ``optx``) or a failed operation.
        LinkAborted: ``aborted()`` became true while the call waited.
    """
    if name not in USAGE:
        raise ValueError(f"{name} is not a Link function")
    options: dict[str, Any] = {}
    if name in WITH_PROTOCOL:
        positional, options = _split_options(args)
    else:
        positional = list(args)
    protocol = protocol_name(options.get("LinkProtocol", "TCPIP"))
    match name, positional:
        case "LinkCreate", []:
            return create(None, protocol)
        case "LinkCreate", [str(where)]:
            return create(where, protocol)
        case "LinkConnect", [str(where)]:
            return connect(where, protocol)
        case "LinkLaunch", [str(command)]:
            return launch(command, protocol)
        case "LinkClose", [obj]:
            close(obj)
            return None
        case "LinkActivate", [obj]:
            return activate(obj, aborted)
        case "LinkWrite", [obj, value]:
            write(obj, value, aborted)
            return None
        case "LinkRead", [obj]:
            return read(obj, None, aborted)
        case "LinkRead", [obj, head]:
            return read(obj, head, aborted)
        case "LinkReadyQ", [list(objs)]:
            return ready(objs, 0.0, aborted)
        case "LinkReadyQ", [list(objs), t]:
            return ready(objs, seconds(t), aborted)
        case "LinkReadyQ", [obj]:
            return ready([obj], 0.0, aborted)[0]
        case "LinkReadyQ", [obj, t]:
            return ready([obj], seconds(t), aborted)[0]
        case "LinkInterrupt", [obj]:
            interrupt(obj, UrgentMessage.INTERRUPT, aborted)
            return None
        case "LinkInterrupt", [obj, int(code)] if code is not True and code is not False:
            interrupt(obj, code, aborted)
            return None
        case "Links", []:
            return open_links()
    raise LinkCallError("linka", USAGE[name])


__all__ = [
    "LINK_OBJECT",
    "MESSAGES",
    "PACKET_HEADS",
    "USAGE",
    "LinkAborted",
    "LinkCallError",
    "call",
    "lookup",
    "never",
    "open_links",
    "register",
]
