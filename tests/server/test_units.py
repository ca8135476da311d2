"""Pure parts: the kernel state table, the command language reader and its replies."""

from __future__ import annotations

import pytest

import wstp_jupyter.server as server_pkg
from wstp_jupyter import WSTPJupyterError
from wstp_jupyter.server._commands import (
    ENTER_EXPRESSION,
    ENTER_TEXT,
    EVALUATE,
    command_from_packet,
    failure,
    input_form,
    reply_packets,
)
from wstp_jupyter.server._model import (
    TRANSITIONS,
    KernelEvent,
    KernelState,
    KernelStateError,
    next_state,
)
from wstp_jupyter.wxf import Expr, Symbol, wl


def test_public_names_import() -> None:
    for name in server_pkg.__all__:
        assert getattr(server_pkg, name) is not None
    assert issubclass(server_pkg.ServerError, WSTPJupyterError)
    for err in (server_pkg.ConfigError, server_pkg.ServerCommandError, server_pkg.AttachError,
                KernelStateError):
        assert issubclass(err, server_pkg.ServerError)


def test_life_cycle_table() -> None:
    s = KernelState.STARTING
    for event in (KernelEvent.LAUNCHED, KernelEvent.INITIALIZED, KernelEvent.ATTACHED,
                  KernelEvent.ATTACHED, KernelEvent.RELEASED, KernelEvent.ATTACHED,
                  KernelEvent.CLOSING, KernelEvent.EXITED):
        s = next_state("k", s, event)
    assert s is KernelState.CLOSED
    assert next_state("k", KernelState.IDLE, KernelEvent.DIED) is KernelState.DEAD
    with pytest.raises(KernelStateError, match="kernel k in state Closed cannot handle event"):
        next_state("k", KernelState.CLOSED, KernelEvent.ATTACHED)
    with pytest.raises(KernelStateError):
        next_state("k", KernelState.STARTING, KernelEvent.ATTACHED)  # not before it is ready
    assert all(dst is not KernelState.STARTING for dst in TRANSITIONS.values())


def test_commands_in_three_forms() -> None:
    expr = wl.WSTPServer.ConnectKernel("id-1", Expr(Symbol("Rule"), "Shared", True))
    cmd = command_from_packet(wl.EvaluatePacket(expr))
    assert cmd is not None and cmd.name == "ConnectKernel" and cmd.args == ("id-1",)
    assert cmd.options == {"Shared": True} and cmd.form == EVALUATE
    cmd = command_from_packet(wl.EnterExpressionPacket(expr))
    assert cmd is not None and cmd.form == ENTER_EXPRESSION
    cmd = command_from_packet(wl.EnterTextPacket(
        ' WSTPServer`ConnectKernel["id-1", "Shared" -> True, "Note" -> "a\\"b"]; '))
    assert cmd is not None and cmd.form == ENTER_TEXT and cmd.error is None
    assert cmd.args == ("id-1",) and cmd.options == {"Shared": True, "Note": 'a"b'}
    bare = command_from_packet(wl.EnterTextPacket("WSTPServer`GetKernelID"))
    assert bare is not None and bare.name == "GetKernelID"
    # Not commands: they go to the kernel.
    assert command_from_packet(wl.EvaluatePacket(wl.Plus(1, 2))) is None
    assert command_from_packet(wl.EnterTextPacket("1+1")) is None
    assert command_from_packet(wl.TextPacket("WSTPServer`GetKernelID[]")) is None


@pytest.mark.parametrize("text", ["WSTPServer`SetKeepAlive[x]", "WSTPServer`SetKeepAlive[1+1]",
                                  'WSTPServer`ConnectKernel["a"', "WSTPServer`GetKernelID[] junk",
                                  "WSTPServer`Nope[]"])
def test_bad_command_text_is_an_error_not_an_evaluation(text: str) -> None:
    cmd = command_from_packet(wl.EnterTextPacket(text))
    assert cmd is not None and cmd.error


def test_replies() -> None:
    f = failure("gone", KernelID="k")
    assert f == Expr(Symbol("Failure"), "WSTPServer", {"Message": "gone", "KernelID": "k"})
    assert input_form(f) == 'Failure["WSTPServer", <|"Message" -> "gone", "KernelID" -> "k"|>]'
    assert input_form([1, "a", None, True, Symbol("None")]) == '{1, "a", Null, True, None}'
    assert reply_packets(EVALUATE, 3, None) == [wl.ReturnPacket(3)]
    assert reply_packets(ENTER_EXPRESSION, 3, "In[4]:= ") == [
        wl.ReturnExpressionPacket(3), wl.InputNamePacket("In[4]:= ")]
    assert reply_packets(ENTER_TEXT, "x", None) == [
        wl.ReturnTextPacket('"x"'), wl.InputNamePacket("In[1]:= ")]
