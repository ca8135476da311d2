"""Reattaching by kernel ID to a kept-alive kernel whose evaluation is still running."""

from __future__ import annotations

from wstp_jupyter.server import attach
from wstp_jupyter.wxf import Expr, Symbol

from .helpers import ServerProcess

TIMEOUT = 60


def test_reattach_to_a_busy_kernel_sees_the_rest_then_the_real_prompt_once(
    main_server: ServerProcess,
) -> None:
    first = attach(main_server.address)
    kid = first.kernel_id
    prompt = first.link.get(timeout=TIMEOUT)
    assert prompt.head == Symbol("InputNamePacket")
    n = int(prompt.args[0].removeprefix("In[").removesuffix("]:= "))
    first.link.put(Expr(Symbol("EnterTextPacket"),
                        'Print["a"]; Pause[2]; Print["b"]; 43'))
    assert first.link.get(timeout=TIMEOUT) == Expr(Symbol("TextPacket"), "a\n")
    first.close()  # the pool keeps its kernels alive: In[n] goes on running
    again = attach(main_server.address, kernel_id=kid)
    try:
        packets = []
        while not packets or packets[-1].head != Symbol("InputNamePacket"):
            packets.append(again.link.get(timeout=TIMEOUT))
        # Whether In[n] was still running at the reattach or had just ended (its output
        # buffered), the client sees the rest of it and then the kernel's own prompt, once.
        assert packets[-1] == Expr(Symbol("InputNamePacket"), f"In[{n + 1}]:= ")
        assert [p for p in packets if p.head == Symbol("InputNamePacket")] == packets[-1:]
        assert Expr(Symbol("TextPacket"), "b\n") in packets
        assert Expr(Symbol("OutputNamePacket"), f"Out[{n}]= ") in packets
        assert not again.link.ready(0.5)
        # The session goes on at In[n+1].
        again.link.put(Expr(Symbol("EnterTextPacket"), "1+1"))
        assert again.link.get(timeout=TIMEOUT) == Expr(Symbol("OutputNamePacket"),
                                                       f"Out[{n + 1}]= ")
    finally:
        again.close(shutdown=True)
