"""``General::stop``: a message is shown three times per evaluation, then suppressed.

Through a real kernel process's main link, as a front end sees it: each message is a
``MessagePacket`` followed by a ``TextPacket``.
"""

from __future__ import annotations

from typing import Any

from wstp_jupyter.wxf import Symbol, wl

from .helpers import Session, head

INFY = [
    wl.MessagePacket(Symbol("Power"), "infy"),
    wl.TextPacket("Power::infy: Infinite expression 1/0 encountered."),
]
STOP = [
    wl.MessagePacket(Symbol("General"), "stop"),
    wl.TextPacket(
        "General::stop: Further output of Power::infy will be suppressed during this calculation."
    ),
]


def messages(packets: list[Any]) -> list[Any]:
    return [p for p in packets if head(p) in ("MessagePacket", "TextPacket")]


def test_fourth_message_is_replaced_by_general_stop(kernel: Session) -> None:
    packets = kernel.enter("Do[1/0, {25}]")
    assert messages(packets) == INFY * 3 + STOP
    assert head(packets[-1]) == "InputNamePacket"


def test_each_evaluation_starts_afresh(kernel: Session) -> None:
    assert messages(kernel.enter("Do[1/0, {5}]")) == INFY * 3 + STOP
    assert messages(kernel.enter("1/0; 1/0")) == INFY * 2
    # EvaluatePacket is an evaluation of its own as well.
    assert messages(kernel.evaluate(wl.Do(wl.Power(0, -1), [4]))) == INFY * 3 + STOP


def test_fewer_than_three_messages_need_no_stop(kernel: Session) -> None:
    assert messages(kernel.enter("Do[1/0, {2}]")) == INFY * 2


def test_off_and_on_still_work(kernel: Session) -> None:
    assert messages(kernel.enter("Off[Power::infy]; Do[1/0, {5}]")) == []
    assert messages(kernel.enter("On[Power::infy]; Do[1/0, {4}]")) == INFY * 3 + STOP
    # Off[General::stop] lifts the limit.
    packets = kernel.enter("Off[General::stop]; Do[1/0, {5}]; On[General::stop]")
    assert messages(packets) == INFY * 5


def test_return_text_is_output_form(kernel: Session) -> None:
    assert kernel.enter("N[Pi]")[1] == wl.ReturnTextPacket("3.14159")
    assert kernel.enter('"no quotes"')[1] == wl.ReturnTextPacket("no quotes")
    # EvaluatePacket keeps returning the exact expression.
    assert kernel.evaluate(wl.N(Symbol("Pi")))[-1] == wl.ReturnPacket(3.141592653589793)
