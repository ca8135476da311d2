"""Links from inside the language: the WSTP tech note's sessions A and B, as two kernels."""

from __future__ import annotations

import socket

import pytest

from wstp_jupyter.wxf import Symbol, wl

from .helpers import Session, head


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def result(session: Session, text: str) -> str:
    packets = session.enter(text)
    assert len(packets) == 3, packets
    return str(packets[1].args[0])


@pytest.mark.kernels(1)
def test_two_kernels_exchange_15_factorial_and_held_code(
    kernel: Session, fresh_kernels: list[Session]
) -> None:
    a, b = kernel, fresh_kernels[0]
    port = free_port()
    made = result(a, f'link = LinkCreate["{port}", LinkProtocol -> "TCPIP"]')
    assert made.startswith(f"LinkObject[{port}@127.0.0.1, ")
    assert result(b, f'link = LinkConnect["{port}", LinkProtocol -> "TCPIP"]').startswith(
        "LinkObject["
    )
    # Completes once B's end is active: here B's first LinkRead activates it.
    a.link.put(wl.EnterTextPacket("LinkWrite[link, 15!]"))
    assert result(b, "LinkRead[link]") == "1307674368000"
    assert a.link.get(timeout=10) == wl.InputNamePacket(f"In[{a.line() + 1}]:= ")
    assert head(b.enter("LinkWrite[link, Unevaluated[2 + 2]]")[0]) == "InputNamePacket"
    assert result(a, "LinkReadyQ[link, 5]") == "True"
    assert result(a, "{LinkReadyQ[{link}, 0], held = LinkRead[link, Hold]}") == (
        "{{True}, Hold[2 + 2]}"
    )
    assert result(a, "ReleaseHold[held]") == "4"
    assert result(a, "LinkReadyQ[link]") == "False"
    assert result(a, "Length[Links[]] >= 1") == "True"
    assert head(a.enter("LinkClose[link]")[0]) == "InputNamePacket"
    packets = b.enter("LinkRead[link]")
    assert packets[0] == wl.MessagePacket(Symbol("LinkRead"), "linkd")
    assert packets[3] == wl.ReturnTextPacket("$Failed")
    b.enter("LinkClose[link]")


@pytest.mark.kernels(1)
def test_linkwrite_on_a_created_link_waits_for_the_peer_to_activate(
    kernel: Session, fresh_kernels: list[Session]
) -> None:
    # WSTP: LinkConnect returns at once; activation is a rendezvous of both ends, so A's write
    # (which activates A) returns when B activates -- LinkActivate, or B's first read or write.
    a, b = kernel, fresh_kernels[0]
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


def test_link_functions_reject_bad_input(kernel: Session) -> None:
    packets = kernel.enter('LinkRead[LinkObject["nope", 999, 999]]')
    assert packets[0] == wl.MessagePacket(Symbol("LinkRead"), "linkn")
    assert packets[3] == wl.ReturnTextPacket("$Failed")
    packets = kernel.enter("gone = LinkCreate[]; LinkClose[gone]; LinkWrite[gone, 1]")
    assert packets[0] == wl.MessagePacket(Symbol("LinkWrite"), "linkn")
    packets = kernel.enter('LinkCreate["x", LinkProtocol -> "Carrier pigeon"]')
    assert packets[0] == wl.MessagePacket(Symbol("LinkCreate"), "linkc")
    assert result(kernel, "1 + 1") == "2"
