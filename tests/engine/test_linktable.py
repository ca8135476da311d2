"""The engine-neutral Link functions (``_linktable``) and the Woxi glue's engine side
(``_woxi_links``), in this process over real loopback links; no kernel is started."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from wstp_jupyter.engine import _linktable
from wstp_jupyter.engine._linktable import LinkAborted, LinkCallError, call
from wstp_jupyter.engine._wl_parse import ParseError, parse_wire
from wstp_jupyter.engine._woxi import WoxiBackend
from wstp_jupyter.engine._woxi_links import CHUNK, definitions, for_woxi, on_marker
from wstp_jupyter.link import Link
from wstp_jupyter.wxf import BigReal, Expr, Symbol, dumps, loads, wl


@pytest.fixture
def created() -> Iterator[tuple[Expr, Link]]:
    """A link made by ``LinkCreate[]`` and a peer connected to it from Python."""
    obj = call("LinkCreate", [])
    peer = Link.connect("TCPIP", obj.args[0])
    yield obj, peer
    peer.close()
    if obj in _linktable.open_links():
        call("LinkClose", [obj])


def test_exchange_ready_hold_and_close(created: tuple[Expr, Link]) -> None:
    obj, peer = created
    assert obj.head == Symbol("LinkObject") and str(obj.args[0]).endswith("@127.0.0.1")
    assert obj in call("Links", [])
    peer.put(wl.Plus(2, 2))
    assert call("LinkReadyQ", [obj, 10]) is True
    assert call("LinkReadyQ", [[obj], 0]) == [True]
    assert call("LinkRead", [obj, Symbol("Hold")]) == wl.Hold(wl.Plus(2, 2))
    assert call("LinkReadyQ", [obj]) is False
    assert call("LinkWrite", [obj, 3**200]) is None
    assert peer.get(timeout=10) == 3**200
    assert call("LinkClose", [obj]) is None
    assert obj not in call("Links", [])
    with pytest.raises(LinkCallError) as failed:
        call("LinkRead", [obj])
    assert failed.value.tag == "linkn" and failed.value.message_args == (obj,)


@pytest.mark.parametrize(
    ("name", "args", "tag"),
    [
        ("LinkRead", [], "linka"),
        ("LinkRead", [1, 2, 3], "linka"),
        ("LinkCreate", [8000], "linka"),
        ("LinkInterrupt", [wl.LinkObject("x", 1, 1), Symbol("x")], "linka"),
        ("Links", [1], "linka"),
        ("LinkConnect", ["8000", wl.Rule(Symbol("Speed"), 3)], "optx"),
        ("LinkCreate", ["x", wl.Rule(Symbol("LinkProtocol"), "Carrier pigeon")], "linkc"),
        ("LinkWrite", [wl.LinkObject("nope", 999, 999), 1], "linkn"),
        ("LinkReadyQ", [[wl.LinkObject("nope", 999, 999)], 0], "linkn"),
    ],
)
def test_wrong_calls_name_the_problem(name: str, args: list[object], tag: str) -> None:
    with pytest.raises(LinkCallError) as failed:
        call(name, args)
    assert failed.value.tag == tag
    if tag == "linka":
        assert failed.value.message_args == (_linktable.USAGE[name],)


def test_options_come_as_rules_or_lists_of_rules(tmp_path: Path) -> None:
    where = str(tmp_path / "sock")
    local = wl.Rule(Symbol("Global`LinkProtocol"), "SharedMemory")
    obj = call("LinkCreate", [where, [local]])
    try:
        assert obj.args[0] == where
    finally:
        call("LinkClose", [obj])


def test_aborted_ends_a_waiting_read_and_takes_nothing(created: tuple[Expr, Link]) -> None:
    obj, peer = created
    stop = threading.Event()
    outcome: list[BaseException] = []

    def reader() -> None:
        try:
            call("LinkRead", [obj], stop.is_set)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    peer.activate(timeout=30)  # the read activated the created end: it is waiting
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive() and isinstance(outcome[0], LinkAborted)
    peer.put("next")
    assert call("LinkRead", [obj]) == "next"


def _link_call_fix(system_names: set[str]) -> Callable[[Any], Any]:
    """What the Woxi backend hands ``on_marker``: its ``_fix`` for link calls (no worker)."""
    backend = WoxiBackend()
    backend.system_names = frozenset(system_names)
    return lambda value: backend._fix(value, link_call=True)


def _request(call_expr: Expr) -> str:
    return base64.b64encode(dumps(call_expr)).decode("ascii")


def test_woxi_request_in_chunks_stale_ones_dropped(created: tuple[Expr, Link]) -> None:
    obj, peer = created
    peer.put(list(range(3000)))
    payload = _request(wl.Hold(Symbol("Global`LinkRead"), obj))
    answers: list[str] = []

    def feed(kind: str, text: str) -> None:
        on_marker(kind, text, answers.append, aborted=lambda: False,
                  fix=_link_call_fix({"LinkRead"}), system_names={"LinkRead"})

    feed("M", "stale")  # the end of a call whose start was lost: ignored
    feed("L", "3,abc")  # a call a killed worker did not finish: dropped by the next "L"
    chunks = [payload[i : i + 40] for i in range(0, len(payload), 40)]
    feed("L", f"{len(chunks)},{chunks[0]}")
    for chunk in chunks[1:]:
        assert not answers
        feed("M", chunk)
    assert [loads(base64.b64decode(a)) for a in answers] == [list(range(3000))]


def test_woxi_failures_answer_a_message_call() -> None:
    answers: list[str] = []
    bad = wl.Hold(Symbol("Global`LinkRead"), wl.LinkObject("nope", 999, 999))
    on_marker("L", "1," + _request(bad), answers.append, aborted=lambda: False,
              fix=_link_call_fix({"LinkRead"}), system_names={"LinkRead"})
    answer = loads(base64.b64decode(answers[0]))
    assert answer == Expr(Symbol("WSTPJupyter`Private`linkfail"), Symbol("LinkRead"), "linkn",
                          [wl.LinkObject("nope", 999, 999)])


def test_woxi_conversions() -> None:
    names = {"EvaluatePacket"}
    held = wl.Hold(wl.Global.EvaluatePacket(wl.Global.x, Symbol("Global`$ProcessID")))
    assert _link_call_fix(names)(held) == wl.Hold(
        wl.EvaluatePacket(wl.Global.x, Symbol("$ProcessID"))
    )
    big = BigReal("2.5`40")
    assert for_woxi([big, {"k": big}]) == [
        Expr(Symbol("WSTPJupyter`Private`bigreal"), big.text),
        {"k": Expr(Symbol("WSTPJupyter`Private`bigreal"), big.text)},
    ]
    code = definitions("MARK", "/tmp/fifo")
    assert f"StringPartition[s, {CHUNK}, {CHUNK}]" in code
    assert "LinkObject[a___] /; !TrueQ[" in code


def test_inputform_text_parses_to_wire_values() -> None:
    names = {"Hold", "Set", "EvaluatePacket"}
    text = 'Hold[EvaluatePacket[a = 1; b`c], {2^^101, -3, 1.5, 1.5`30., 2*^-3, "q\\"q", x_}]'
    assert parse_wire(text, names) == wl.Hold(
        wl.EvaluatePacket(wl.CompoundExpression(wl.Set(wl.Global.a, 1), Symbol("b`c"))),
        [5, -3, 1.5, BigReal("1.5`30."), Fraction(1, 500), 'q"q',
         wl.Pattern(wl.Global.x, wl.Blank())],
    )
    with pytest.raises(ParseError):
        parse_wire("f[")
