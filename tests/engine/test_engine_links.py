"""Links from inside the language, on both engines: the WSTP tech note's sessions A and B as two
kernels (Mathics3 with Mathics3, Woxi with Woxi, and across), errors, a stop during LinkRead."""

from __future__ import annotations

import shlex
import socket
import sys
from collections.abc import Iterator
from fractions import Fraction

import pytest

from wstp_jupyter.engine import launch
from wstp_jupyter.link import Link, UrgentMessage
from wstp_jupyter.wxf import BigReal, Symbol, wl

from .helpers import Session, head, read_until_end, start_session

ENGINES = ("mathics3", "woxi")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def result(session: Session, text: str) -> str:
    """The OutputForm text of the one result of ``text`` (no Print, no message)."""
    packets = session.enter(text)
    assert len(packets) == 3, packets
    return str(packets[1].args[0])


def start(engine: str) -> Session:
    if engine == "mathics3":
        return start_session()
    pytest.importorskip("woxi")
    session = Session(launch(extra_args=("--engine", "woxi")))
    assert [head(p) for p in read_until_end(session.link)] == ["InputNamePacket"]
    return session


@pytest.fixture(scope="module")
def woxi_kernel() -> Iterator[Session]:
    """One warm Woxi kernel for the tests that leave it intact."""
    session = start("woxi")
    yield session
    session.kernel.close()


def warm(request: pytest.FixtureRequest, engine: str) -> Session:
    """The shared kernel of ``engine`` (Mathics3: the directory's ``kernel``)."""
    name = "kernel" if engine == "mathics3" else "woxi_kernel"
    session: Session = request.getfixturevalue(name)
    return session


@pytest.fixture(params=ENGINES)
def one(request: pytest.FixtureRequest) -> Session:
    """A warm kernel of each engine."""
    return warm(request, str(request.param))


@pytest.fixture(
    params=[("mathics3", "mathics3"), ("woxi", "woxi"), ("mathics3", "woxi")],
    ids=["mathics3", "woxi", "mathics3-woxi"],
)
def two(request: pytest.FixtureRequest) -> Iterator[tuple[Session, Session]]:
    """Session A (a warm kernel) and session B (a fresh one), engines as the id says."""
    first, second = request.param
    a = warm(request, first)
    b = start(second)
    yield a, b
    b.kernel.close()


def test_two_kernels_exchange_15_factorial_and_held_code(two: tuple[Session, Session]) -> None:
    a, b = two
    port = free_port()
    made = result(a, f'link = LinkCreate["{port}", LinkProtocol -> "TCPIP"]')
    assert made.startswith(f"LinkObject[{port}@127.0.0.1, ")
    assert result(b, f'link = LinkConnect["{port}", LinkProtocol -> "TCPIP"]').startswith(
        "LinkObject["
    )
    # Completes once B's end is active: here B's first LinkRead activates it.
    a.link.put(wl.EnterTextPacket("LinkWrite[link, 15!]"))
    assert result(b, "LinkRead[link]") == "1307674368000"
    assert a.link.get(timeout=30) == wl.InputNamePacket(f"In[{a.line() + 1}]:= ")
    # Exact both ways: a 96-digit integer, and held code that stays unevaluated.
    assert head(a.enter("LinkWrite[link, 3^200]")[0]) == "InputNamePacket"
    assert result(b, "LinkRead[link] == 3^200") == "True"
    assert head(b.enter("LinkWrite[link, Unevaluated[2 + 2]]")[0]) == "InputNamePacket"
    assert result(a, "LinkReadyQ[link, 5]") == "True"
    assert result(a, "{LinkReadyQ[{link}, 0], held = LinkRead[link, Hold]}") == (
        "{{True}, Hold[2 + 2]}"
    )
    assert result(a, "ReleaseHold[held]") == "4"
    assert result(a, "LinkReadyQ[link]") == "False"
    assert result(a, "MemberQ[Links[], link]") == "True"
    assert head(a.enter("LinkClose[link]")[0]) == "InputNamePacket"
    assert result(a, "MemberQ[Links[], link]") == "False"
    packets = b.enter("LinkRead[link]")
    assert packets[0] == wl.MessagePacket(Symbol("LinkRead"), "linkd")
    assert packets[3] == wl.ReturnTextPacket("$Failed")
    b.enter("LinkClose[link]")


def test_linkwrite_on_a_created_link_waits_for_the_peer_to_activate(
    two: tuple[Session, Session],
) -> None:
    # WSTP: LinkConnect returns at once; activation is a rendezvous of both ends, so A's write
    # (which activates A) returns when B activates -- LinkActivate, or B's first read or write.
    a, b = two
    port = free_port()
    result(a, f'link = LinkCreate["{port}", LinkProtocol -> "TCPIP"]')
    result(b, f'link = LinkConnect["{port}", LinkProtocol -> "TCPIP"]')
    a.link.put(wl.EnterTextPacket("LinkWrite[link, 15!]"))
    assert not a.link.ready(timeout=1.0)  # B has connected but not activated
    assert head(b.enter("LinkActivate[link];")[0]) == "InputNamePacket"
    assert head(a.link.get(timeout=30)) == "InputNamePacket"  # the write has returned
    assert result(b, "LinkRead[link]") == "1307674368000"
    b.enter("LinkClose[link]")
    a.enter("LinkClose[link]")


def test_link_functions_reject_bad_input(one: Session) -> None:
    packets = one.enter('LinkRead[LinkObject["nope", 999, 999]]')
    assert packets[0] == wl.MessagePacket(Symbol("LinkRead"), "linkn")
    assert "is not an open LinkObject" in packets[1].args[0]
    assert packets[3] == wl.ReturnTextPacket("$Failed")
    packets = one.enter("gone = LinkCreate[]; LinkClose[gone]; LinkWrite[gone, 1]")
    assert packets[0] == wl.MessagePacket(Symbol("LinkWrite"), "linkn")
    packets = one.enter('LinkCreate["x", LinkProtocol -> "Carrier pigeon"]')
    assert packets[0] == wl.MessagePacket(Symbol("LinkCreate"), "linkc")
    assert "Carrier pigeon" in packets[1].args[0]
    packets = one.enter("LinkRead[1, 2, 3]")
    assert packets[0] == wl.MessagePacket(Symbol("LinkRead"), "linka")
    assert "LinkRead[link] or LinkRead[link, head]" in packets[1].args[0]
    assert packets[3] == wl.ReturnTextPacket("$Failed")
    packets = one.enter("LinkCreate[8000]")
    assert packets[0] == wl.MessagePacket(Symbol("LinkCreate"), "linka")
    packets = one.enter('LinkConnect["8000", Speed -> 3]')
    assert packets[0] == wl.MessagePacket(Symbol("LinkConnect"), "optx")
    assert result(one, "1 + 1") == "2"


def test_a_stop_ends_a_blocking_linkread_and_the_link_stays(one: Session) -> None:
    name = result(one, "link = LinkCreate[]; First[link]")
    peer = Link.connect("TCPIP", name)
    try:
        one.link.put(wl.EnterTextPacket("LinkRead[link]"))
        peer.activate(timeout=30)  # the kernel's LinkRead activated its end: it is waiting
        one.link.put_message(UrgentMessage.ABORT)
        packets = read_until_end(one.link, timeout=60)
        assert wl.ReturnTextPacket("$Aborted") in packets
        # The link outlives the stop (on Woxi, the worker that ran LinkRead was replaced), and
        # the stopped read took nothing: the next one gets the next value.
        assert result(one, "MemberQ[Links[], link]") == "True"
        peer.put(wl.f(2**100))
        assert result(one, "LinkRead[link, Hold]") == "Hold[f[1267650600228229401496703205376]]"
    finally:
        peer.close()
        one.enter("LinkClose[link]")


def test_linklaunch_talks_packets_to_a_woxi_kernel(one: Session) -> None:
    pytest.importorskip("woxi")
    command = shlex.join([sys.executable, "-m", "wstp_jupyter.engine", "-wstp", "--engine",
                          "woxi"])
    assert result(one, f"sub = LinkLaunch[{_wl_string(command)}]; LinkRead[sub]") == (
        "InputNamePacket[In[1]:= ]"
    )
    # EvaluatePacket must reach the subkernel as the System symbol it knows.
    assert result(one, "LinkWrite[sub, EvaluatePacket[6*7]]; LinkRead[sub]") == (
        "ReturnPacket[42]"
    )
    assert head(one.enter("LinkClose[sub]")[0]) == "InputNamePacket"
    assert result(one, "MemberQ[Links[], sub]") == "False"


def test_woxi_values_cross_whole_in_both_directions(woxi_kernel: Session) -> None:
    """Large values (a request of many printed chunks, an answer of many kilobytes),
    arbitrary-precision reals and held code, which Woxi cannot always serialize itself."""
    s = woxi_kernel
    name = result(s, "link = LinkCreate[]; First[link]")
    peer = Link.connect("TCPIP", name)
    try:
        s.link.put(wl.EnterTextPacket(
            'LinkWrite[link, {Range[5000], N[Pi, 30], 2^500, "t\\"ext", x -> 1/3}]'
        ))
        value = peer.get(timeout=30)  # activates the peer's end, so the write completes
        assert head(read_until_end(s.link)[-1]) == "InputNamePacket"
        assert isinstance(value, list) and value[0] == list(range(1, 5001))
        pi = value[1]
        assert isinstance(pi, BigReal) and pi.text.startswith("3.14159265358979323846264338327")
        assert value[2:] == [2**500, 't"ext', wl.Rule(Symbol("Global`x"), Fraction(1, 3))]
        # Held code Woxi's BinarySerialize refuses travels as text, parsed by the engine.
        assert result(s, "LinkWrite[link, Unevaluated[x = 1; f[y_] := y^2; g /@ {#1 &, $Line}]]"
                      "; 0") == "0"
        assert peer.get(timeout=30) == wl.CompoundExpression(
            wl.Set(wl.Global.x, 1),
            wl.SetDelayed(wl.Global.f(wl.Pattern(wl.Global.y, wl.Blank())),
                          wl.Power(wl.Global.y, 2)),
            wl.Map(wl.Global.g, [wl.Function(wl.Slot(1)), Symbol("$Line")]),
        )
        peer.put([list(range(7000)), BigReal("2.5`40"), 7**300])
        assert result(s, "v = LinkRead[link]; {Total[v[[1]]], Precision[v[[2]]] > 39, "
                         "v[[3]] == 7^300}") == "{24496500, True, True}"
    finally:
        peer.close()
        s.enter("LinkClose[link]")


def _wl_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_link_objects_are_inert_on_woxi(woxi_kernel: Session) -> None:
    """No note that a built-in is not implemented: LinkObject and packet heads stay as written."""
    packets = woxi_kernel.enter('{LinkObject["x", 1, 1], EvaluatePacket[1 + 1], Links[]}')
    assert [head(p) for p in packets] == ["OutputNamePacket", "ReturnTextPacket",
                                          "InputNamePacket"]
    assert packets[1].args[0].startswith("{LinkObject[x, 1, 1], EvaluatePacket[2], {")

