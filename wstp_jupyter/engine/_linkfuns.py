"""``LinkCreate``, ``LinkConnect``, ``LinkWrite``, ``LinkRead``... as Mathics3 builtins.

Each open link lives in a process-wide table under a serial number and is shown to the language
as ``LinkObject["name", n, n]``. Expressions cross with the engine's converters (``_convert``),
so two kernel processes exchange exact values (big integers, held code) as WXF.

Names: ``"8000"`` means port 8000 on 127.0.0.1, ``"8000@host"`` names the host; Wolfram's
two-port form ``"8000@host,8001@host"`` is accepted and its first part used. ``LinkProtocol``
is ``"TCPIP"`` (default) or ``"Local"`` (a Unix socket path; ``"SharedMemory"`` maps to it).
Blocking calls (``LinkRead``, ``LinkActivate``, ``LinkReadyQ[link, t]``) wait in short slices,
so an abort reaches them within milliseconds.
"""

from __future__ import annotations

import itertools
import shlex
import threading
import time
from typing import Any

from mathics.core.atoms import Integer, Real, String
from mathics.core.attributes import A_PROTECTED
from mathics.core.builtin import Builtin
from mathics.core.expression import Expression
from mathics.core.list import ListExpression
from mathics.core.symbols import Symbol, SymbolFalse, SymbolNull, SymbolTrue

from wstp_jupyter._process import stop
from wstp_jupyter.link import Link, LinkError, LinkTimeout, UrgentMessage

SymbolFailed = Symbol("System`$Failed")
SymbolLinkObject = Symbol("System`LinkObject")
_SLICE = 0.05

_links: dict[int, Link] = {}
_serial = itertools.count(1)
_lock = threading.Lock()


def _register(link: Link) -> Expression:
    with _lock:
        n = next(_serial)
        _links[n] = link
    return Expression(SymbolLinkObject, String(link.name), Integer(n), Integer(n))


def _lookup(obj: Any) -> tuple[int, Link] | None:
    if not (isinstance(obj, Expression) and obj.get_head_name() == "System`LinkObject"):
        return None
    els = obj.elements
    if len(els) < 2 or not isinstance(els[1], Integer):
        return None
    n = int(els[1].value)
    link = _links.get(n)
    return (n, link) if link is not None else None


def _protocol(options: dict[str, Any]) -> str:
    value = options.get("System`LinkProtocol")
    text = value.value if isinstance(value, String) else "TCPIP"
    if text in ("SharedMemory", "Local", "Pipes"):
        return "Local"
    return "TCPIP" if text in ("Automatic", "TCPIP", "TCP") else text


def _tcp_name(name: str, protocol: str) -> str:
    if protocol != "TCPIP":
        return name
    first = name.split(",", maxsplit=1)[0].strip()
    return first if "@" in first else f"{first}@127.0.0.1"


def _seconds(value: Any) -> float | None:
    if isinstance(value, Integer | Real):
        return max(0.0, float(value.value))
    return None


class _LinkBuiltin(Builtin):
    context = "System`"
    attributes = A_PROTECTED
    messages = {
        "linkn": "Argument `1` is not an open LinkObject.",
        "linkc": "Unable to create or connect the link `1`: `2`.",
        "linkd": "Unable to communicate with closed link `1`.",
    }

    def fail(self, evaluation: Any, tag: str, *args: Any) -> Any:
        evaluation.message(self.get_name(), tag, *args)
        return SymbolFailed

    def find(self, obj: Any, evaluation: Any) -> tuple[int, Link] | None:
        found = _lookup(obj)
        if found is None:
            evaluation.message(self.get_name(), "linkn", obj)
        return found


class LinkProtocol(Builtin):
    """<dl><dt>'LinkProtocol'</dt><dd>is an option giving the link protocol.</dd></dl>"""

    context = "System`"
    summary_text = "option: the protocol of a link"


class LinkCreate(_LinkBuiltin):
    """
    <dl>
      <dt>'LinkCreate'[]</dt><dd>creates a listening link on a free port.</dd>
      <dt>'LinkCreate'["$name$"]</dt><dd>creates a listening link named $name$ ("8000").</dd>
    </dl>
    """

    options = {"LinkProtocol": '"TCPIP"'}
    summary_text = "create a link for another program to connect to"

    def eval(self, evaluation: Any, options: Any) -> Any:
        "LinkCreate[OptionsPattern[LinkCreate]]"
        return self._create(None, evaluation, options)

    def eval_name(self, name: Any, evaluation: Any, options: Any) -> Any:
        "LinkCreate[name_String, OptionsPattern[LinkCreate]]"
        return self._create(name.value, evaluation, options)

    def _create(self, name: str | None, evaluation: Any, options: Any) -> Any:
        protocol = _protocol(options)
        where = _tcp_name(name, protocol) if name else None
        try:
            return _register(Link.listen(protocol, where))
        except (LinkError, ValueError) as exc:
            return self.fail(evaluation, "linkc", String(name or ""), String(str(exc)))


class LinkConnect(_LinkBuiltin):
    """
    <dl>
      <dt>'LinkConnect'["$name$"]</dt><dd>connects to the link named $name$.</dd>
    </dl>
    """

    options = {"LinkProtocol": '"TCPIP"'}
    summary_text = "connect to a link created by another program"

    def eval(self, name: Any, evaluation: Any, options: Any) -> Any:
        "LinkConnect[name_String, OptionsPattern[LinkConnect]]"
        protocol = _protocol(options)
        try:
            return _register(Link.connect(protocol, _tcp_name(name.value, protocol)))
        except (LinkError, ValueError) as exc:
            return self.fail(evaluation, "linkc", name, String(str(exc)))


class LinkLaunch(_LinkBuiltin):
    """
    <dl>
      <dt>'LinkLaunch'["$prog$"]</dt><dd>starts $prog$ and connects a link to it.</dd>
    </dl>
    """

    options = {"LinkProtocol": '"TCPIP"'}
    summary_text = "start a program and open a link to it"

    def eval(self, prog: Any, evaluation: Any, options: Any) -> Any:
        "LinkLaunch[prog_String, OptionsPattern[LinkLaunch]]"
        try:
            link = Link.launch(shlex.split(prog.value), protocol=_protocol(options))
        except (LinkError, ValueError, OSError) as exc:
            return self.fail(evaluation, "linkc", prog, String(str(exc)))
        return _register(link)


class LinkClose(_LinkBuiltin):
    """<dl><dt>'LinkClose'[$link$]</dt><dd>closes the link.</dd></dl>"""

    summary_text = "close a link"

    def eval(self, link: Any, evaluation: Any) -> Any:
        "LinkClose[link_]"
        found = self.find(link, evaluation)
        if found is None:
            return SymbolFailed
        n, obj = found
        with _lock:
            _links.pop(n, None)
        obj.close()
        if obj.process is not None:
            # The link is closed, which ends a well-behaved peer; the rest of the stages if not.
            stop(obj.process, grace=5.0)
        return SymbolNull


class LinkActivate(_LinkBuiltin):
    """<dl><dt>'LinkActivate'[$link$]</dt><dd>waits for the other side to connect.</dd></dl>"""

    summary_text = "wait until a link is connected"

    def eval(self, link: Any, evaluation: Any) -> Any:
        "LinkActivate[link_]"
        found = self.find(link, evaluation)
        if found is None:
            return SymbolFailed
        while True:
            try:
                found[1].activate(timeout=_SLICE)
                return link
            except LinkTimeout:
                continue
            except LinkError:
                return self.fail(evaluation, "linkd", link)


class LinkWrite(_LinkBuiltin):
    """<dl><dt>'LinkWrite'[$link$, $expr$]</dt><dd>writes $expr$ to the link.</dd></dl>"""

    summary_text = "write an expression to a link"

    def eval(self, link: Any, expr: Any, evaluation: Any) -> Any:
        "LinkWrite[link_, expr_]"
        from wstp_jupyter.engine._convert import to_wire

        found = self.find(link, evaluation)
        if found is None:
            return SymbolFailed
        try:
            found[1].put(to_wire(expr))
        except LinkError:
            return self.fail(evaluation, "linkd", link)
        return SymbolNull


class LinkRead(_LinkBuiltin):
    """
    <dl>
      <dt>'LinkRead'[$link$]</dt><dd>reads one expression from the link and evaluates it.</dd>
      <dt>'LinkRead'[$link$, $h$]</dt>
      <dd>wraps $h$ around it first ('Hold' keeps it unevaluated).</dd>
    </dl>
    """

    summary_text = "read an expression from a link"

    def eval(self, link: Any, evaluation: Any) -> Any:
        "LinkRead[link_]"
        return self._read(link, None, evaluation)

    def eval_wrap(self, link: Any, head: Any, evaluation: Any) -> Any:
        "LinkRead[link_, head_]"
        return self._read(link, head, evaluation)

    def _read(self, link: Any, head: Any, evaluation: Any) -> Any:
        from wstp_jupyter.engine._convert import from_wire

        found = self.find(link, evaluation)
        if found is None:
            return SymbolFailed
        while True:
            try:
                value = found[1].get(timeout=_SLICE)
                break
            except LinkTimeout:
                continue
            except LinkError:
                return self.fail(evaluation, "linkd", link)
        element = from_wire(value, evaluation.definitions)
        return element if head is None else Expression(head, element)


class LinkReadyQ(_LinkBuiltin):
    """
    <dl>
      <dt>'LinkReadyQ'[$link$]</dt><dd>tests whether an expression is ready to be read.</dd>
      <dt>'LinkReadyQ'[$link$, $t$]</dt><dd>waits up to $t$ seconds for one.</dd>
      <dt>'LinkReadyQ'[{$link1$, ...}, $t$]</dt><dd>waits until any is ready; gives a list of
      'True'/'False'.</dd>
    </dl>
    """

    summary_text = "test whether a link has an expression to read"

    def eval(self, link: Any, evaluation: Any) -> Any:
        "LinkReadyQ[link_LinkObject]"
        return self._ready([link], 0.0, evaluation, single=True)

    def eval_time(self, link: Any, t: Any, evaluation: Any) -> Any:
        "LinkReadyQ[link_LinkObject, t_]"
        return self._ready([link], _seconds(t) or 0.0, evaluation, single=True)

    def eval_list(self, links: Any, t: Any, evaluation: Any) -> Any:
        "LinkReadyQ[links_List, t_]"
        return self._ready(list(links.elements), _seconds(t) or 0.0, evaluation, single=False)

    def _ready(self, objs: list[Any], timeout: float, evaluation: Any, *, single: bool) -> Any:
        found = [self.find(o, evaluation) for o in objs]
        if any(f is None for f in found):
            return SymbolFailed
        links = [f[1] for f in found if f is not None]
        deadline = time.monotonic() + timeout
        while True:
            flags = [_is_ready(link) for link in links]
            if any(flags) or time.monotonic() >= deadline:
                break
            time.sleep(0.005)
        if single:
            return SymbolTrue if flags[0] else SymbolFalse
        return ListExpression(*(SymbolTrue if f else SymbolFalse for f in flags))


def _is_ready(link: Link) -> bool:
    try:
        return bool(link.ready(0))
    except LinkError:
        return True


class LinkInterrupt(_LinkBuiltin):
    """
    <dl>
      <dt>'LinkInterrupt'[$link$]</dt><dd>sends an interrupt to the program on the link.</dd>
      <dt>'LinkInterrupt'[$link$, $code$]</dt><dd>sends urgent message $code$ (3 aborts).</dd>
    </dl>
    """

    summary_text = "send an interrupt to the other side of a link"

    def eval(self, link: Any, evaluation: Any) -> Any:
        "LinkInterrupt[link_]"
        return self._send(link, UrgentMessage.INTERRUPT, evaluation)

    def eval_code(self, link: Any, code: Any, evaluation: Any) -> Any:
        "LinkInterrupt[link_, code_Integer]"
        return self._send(link, int(code.value), evaluation)

    def _send(self, link: Any, code: int, evaluation: Any) -> Any:
        found = self.find(link, evaluation)
        if found is None:
            return SymbolFailed
        try:
            found[1].put_message(code)
        except LinkError:
            return self.fail(evaluation, "linkd", link)
        return SymbolNull


class Links(Builtin):
    """<dl><dt>'Links'[]</dt><dd>gives the list of open links.</dd></dl>"""

    context = "System`"
    attributes = A_PROTECTED
    summary_text = "list the open links"

    def eval(self, evaluation: Any) -> Any:
        "Links[]"
        with _lock:
            items = sorted(_links.items())
        return ListExpression(
            *(
                Expression(SymbolLinkObject, String(link.name), Integer(n), Integer(n))
                for n, link in items
                if not link.closed
            )
        )


LINK_BUILTINS: list[type[Builtin]] = [
    LinkProtocol,
    LinkCreate,
    LinkConnect,
    LinkLaunch,
    LinkClose,
    LinkActivate,
    LinkWrite,
    LinkRead,
    LinkReadyQ,
    LinkInterrupt,
    Links,
]
