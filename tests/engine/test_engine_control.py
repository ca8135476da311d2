"""Abort, interrupt menu, preemptive requests while busy, and the kernel's lifecycle."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from wstp_jupyter.engine import StartupError, launch
from wstp_jupyter.engine._requests import DisplayDataPacket
from wstp_jupyter.link import KEY_ENV, AuthenticationError, Link, Packet, UrgentMessage
from wstp_jupyter.wxf import Symbol, wl

from .helpers import Session, head, read_until_end


def test_abort_long_loop_returns_aborted_fast_and_keeps_definitions(kernel: Session) -> None:
    n = kernel.line()
    kernel.link.put(wl.EnterTextPacket("i = 0; While[True, i++]"))
    time.sleep(0.7)
    kernel.kernel.abort()
    # The loop never ends by itself, so any answer at all means the abort worked; its latency
    # (the 1 s goal) is measured in benchmarks/bench_kernel.py.
    packets = read_until_end(kernel.link)
    assert packets == [
        wl.OutputNamePacket(f"Out[{n + 1}]= "),
        wl.ReturnTextPacket("$Aborted"),
        wl.InputNamePacket(f"In[{n + 2}]:= "),
    ]
    value = kernel.evaluate(wl.Global.i)[-1].args[0]
    assert isinstance(value, int) and value > 0


def test_abort_evaluate_packet_in_pause(kernel: Session) -> None:
    kernel.link.put(wl.EvaluatePacket(wl.Pause(5)))
    time.sleep(0.3)
    kernel.kernel.abort()
    # A Pause that ran to its end would return Null, not $Aborted.
    assert kernel.link.get(timeout=10) == wl.ReturnPacket(Symbol("$Aborted"))


def test_abort_when_idle_does_nothing(kernel: Session) -> None:
    kernel.kernel.abort()
    assert kernel.enter("6*7")[1] == wl.ReturnTextPacket("42")


@pytest.mark.parametrize("kind", ["EnterTextPacket", "EvaluatePacket"])
def test_abort_sent_right_after_the_request_reaches_it(kernel: Session, kind: str) -> None:
    # No pause between the two: the abort arrives while the request is still queued or being
    # parsed, before any evaluation has started. It must still end that request (the loop
    # never ends by itself), and nothing of it may reach the next request.
    code = "k = 0; While[True, k++]"
    for _ in range(3):
        if kind == "EvaluatePacket":
            kernel.link.put(wl.EvaluatePacket(wl.ToExpression(code)))
            kernel.kernel.abort()
            assert kernel.link.get(timeout=30) == wl.ReturnPacket(Symbol("$Aborted"))
        else:
            kernel.link.put(wl.EnterTextPacket(code))
            kernel.kernel.abort()
            packets = read_until_end(kernel.link)
            assert packets[1:] == [wl.ReturnTextPacket("$Aborted"), packets[-1]]
            assert head(packets[-1]) == "InputNamePacket"
        assert kernel.enter("6*7")[1] == wl.ReturnTextPacket("42")


def test_an_abort_ends_the_whole_cell(kernel: Session) -> None:
    n = kernel.line()
    assert kernel.enter("Abort[]; 1\nsecondLine = 2") == [
        wl.OutputNamePacket(f"Out[{n + 1}]= "),
        wl.ReturnTextPacket("$Aborted"),
        wl.InputNamePacket(f"In[{n + 2}]:= "),
    ]
    assert kernel.enter("secondLine")[1] == wl.ReturnTextPacket("secondLine")
    # A line that merely evaluates to $Aborted is not an abort, nor is a line that a message
    # such as $IterationLimit::itlim ended (the Wolfram kernel goes on there too).
    assert kernel.enter("$Aborted\nthirdLine = 3")[-2] == wl.ReturnTextPacket("3")
    packets = kernel.enter("runaway[x_] := runaway[x + 1]\nrunaway[1]\nfourthLine = 4")
    assert head(packets[0]) == "MessagePacket" and packets[-2] == wl.ReturnTextPacket("4")


def test_abort_during_input_and_with_the_menu_open_leave_no_trace(kernel: Session) -> None:
    # The menu's "a" while Input[] waits: the next request is a request, not an answer.
    kernel.link.put(wl.EnterTextPacket('InputString["ask> "]'))
    assert read_until_end(kernel.link) == [wl.InputStringPacket("ask> ")]
    kernel.kernel.interrupt()
    assert read_until_end(kernel.link) == [wl.MenuPacket(1, "Interrupt> ")]
    kernel.link.put(wl.EnterTextPacket("a"))
    assert read_until_end(kernel.link)[1] == wl.ReturnTextPacket("$Aborted")
    assert kernel.enter("6*7")[1] == wl.ReturnTextPacket("42")
    # An abort message instead of a menu answer: the next Input[] gets its own answer.
    kernel.link.put(wl.EnterTextPacket('Print["go"]; While[True]'))
    assert kernel.link.get(timeout=30) == wl.TextPacket("go\n")
    kernel.kernel.interrupt()
    assert read_until_end(kernel.link) == [wl.MenuPacket(1, "Interrupt> ")]
    kernel.kernel.abort()
    assert read_until_end(kernel.link)[1] == wl.ReturnTextPacket("$Aborted")
    kernel.link.put(wl.EnterTextPacket('{InputString["ask> "]}'))
    assert read_until_end(kernel.link) == [wl.InputStringPacket("ask> ")]
    kernel.link.put(wl.EnterTextPacket("hello"))
    assert read_until_end(kernel.link)[1] == wl.ReturnTextPacket("{hello}")


def test_interrupt_sent_right_after_the_request_opens_the_menu(kernel: Session) -> None:
    kernel.link.put(wl.EnterTextPacket("m = 0; While[True, m++]"))
    kernel.kernel.interrupt()  # before the evaluation can have started
    assert read_until_end(kernel.link) == [wl.MenuPacket(1, "Interrupt> ")]
    kernel.link.put(wl.EnterTextPacket("a"))
    assert read_until_end(kernel.link)[1] == wl.ReturnTextPacket("$Aborted")
    assert kernel.enter("6*7")[1] == wl.ReturnTextPacket("42")


def test_interrupt_menu_show_continue_then_abort(kernel: Session) -> None:
    code = 'j = 0; Print["go"]; While[True, j++]'
    kernel.link.put(wl.EnterTextPacket(code))
    assert kernel.link.get(timeout=30) == wl.TextPacket("go\n")  # j is set, the loop runs
    kernel.kernel.interrupt()
    assert read_until_end(kernel.link) == [wl.MenuPacket(1, "Interrupt> ")]
    kernel.link.put(wl.EnterTextPacket("s"))
    assert read_until_end(kernel.link) == [
        wl.TextPacket(f"Evaluating: {code}"),
        wl.MenuPacket(1, "Interrupt> "),
    ]
    # Held while the menu is open: j does not move (read on the preemptive link).
    assert kernel.kernel.preemptive is not None
    pre = kernel.kernel.preemptive
    pre.put(wl.EvaluatePacket(wl.Global.j))
    j1 = pre.get(timeout=5).args[0]
    time.sleep(0.3)
    pre.put(wl.EvaluatePacket(wl.Global.j))
    assert pre.get(timeout=5).args[0] == j1
    kernel.link.put(wl.EnterTextPacket("c"))
    time.sleep(0.3)
    pre.put(wl.EvaluatePacket(wl.Global.j))
    assert pre.get(timeout=5).args[0] > j1  # continued
    kernel.kernel.interrupt()
    assert read_until_end(kernel.link) == [wl.MenuPacket(1, "Interrupt> ")]
    kernel.link.put(wl.EnterTextPacket("a"))
    packets = read_until_end(kernel.link)
    assert packets[1] == wl.ReturnTextPacket("$Aborted")


def test_preemptive_completion_while_main_link_pauses(kernel: Session) -> None:
    assert kernel.kernel.preemptive is not None
    pre = kernel.kernel.preemptive
    kernel.link.put(wl.EnterTextPacket("While[True, Pause[0.05]]"))
    time.sleep(0.3)
    for _ in range(5):
        pre.put(wl.EvaluatePacket(wl.WSTPJupyter.Complete("Plo")))
        assert "Plot" in pre.get(timeout=10).args[0]
    assert not kernel.link.ready(0)  # the main evaluation never ends by itself: still running
    pre.put(wl.EvaluatePacket(wl.WSTPJupyter.IsComplete("f[x")))
    assert pre.get(timeout=5) == wl.ReturnPacket("incomplete")
    pre.put(wl.EvaluatePacket(wl.WSTPJupyter.Inspect("Plus")))
    assert "Attributes[Plus] = {Flat" in pre.get(timeout=5).args[0]
    pre.put(wl.EvaluatePacket(wl.Names("Pau*")))
    assert "Pause" in pre.get(timeout=5).args[0]
    kernel.kernel.abort()
    assert read_until_end(kernel.link)[1] == wl.ReturnTextPacket("$Aborted")


def test_history_keeps_the_last_history_length_lines(kernel: Session) -> None:
    # In/Out bookkeeping has a fast path of its own; it must agree with Mathics' rules.
    n = kernel.line()
    try:
        kernel.enter("$HistoryLength = 2")
        for value in ("a1", "a2", "a3"):
            kernel.enter(value)
        packets = kernel.enter(f"{{Out[{n + 2}], Out[{n + 3}], Out[{n + 4}], In[{n + 4}]}}")
        # An unevaluated Out[k] prints as %k in OutputForm.
        assert packets[1] == wl.ReturnTextPacket(f"{{%{n + 2}, a2, a3, a3}}")
        assert kernel.enter("%%")[1] == wl.ReturnTextPacket("a3")
    finally:
        kernel.enter("$HistoryLength = 100")


@pytest.fixture
def bundles(kernel: Session) -> Iterator[Session]:
    """The shared kernel with MIME-bundle results (and so display packets), for one test."""
    kernel.evaluate(wl.WSTPJupyter.SetResultFormat("MIMEBundle"))
    try:
        yield kernel
    finally:
        kernel.evaluate(wl.WSTPJupyter.SetResultFormat("Text"))


def test_print_temporary_is_a_main_link_packet_cleared_before_the_prompt(bundles: Session) -> None:
    packets = bundles.enter('Print["a"]; PrintTemporary[Graphics[{Disk[]}]]; Print["b"]; 3')
    assert [head(p) for p in packets] == [
        "TextPacket", "WSTPJupyter`DisplayDataPacket", "TextPacket", "OutputNamePacket",
        "ReturnExpressionPacket", "WSTPJupyter`ClearDisplayPacket", "InputNamePacket",
    ]
    bundle, display_id, temporary = packets[1].args
    assert bundle["image/svg+xml"].startswith("<svg") and temporary is True
    assert packets[5].args == (display_id,)
    # The link reads them as the application packets they are (codes 128-255).
    assert Packet.from_expr(packets[1]).code == DisplayDataPacket.code == 128


def test_display_and_clear_output_keep_their_place_between_prints(bundles: Session) -> None:
    packets = bundles.enter('Print[1]; WSTPJupyter`ClearOutput[]; Print[2]; '
                            "WSTPJupyter`Display[x]; WSTPJupyter`ClearOutput[True]")
    assert [head(p) for p in packets] == [
        "TextPacket", "WSTPJupyter`ClearOutputPacket", "TextPacket",
        "WSTPJupyter`DisplayDataPacket", "WSTPJupyter`ClearOutputPacket", "InputNamePacket",
    ]
    assert (packets[1].args, packets[4].args) == ((False,), (True,))
    assert packets[3].args[2] is False  # Display is not temporary: nothing clears it


def test_displays_of_an_evaluate_packet_end_before_its_return_packet(bundles: Session) -> None:
    packets = bundles.evaluate(wl.PrintTemporary(1))
    assert [head(p) for p in packets] == [
        "WSTPJupyter`DisplayDataPacket", "WSTPJupyter`ClearDisplayPacket", "ReturnPacket",
    ]


def test_displays_are_text_for_a_plain_wstp_front_end(kernel: Session) -> None:
    # Text results: the front end reads no MIME bundles, so PrintTemporary prints its text
    # and ClearOutput sends nothing.
    packets = kernel.enter("PrintTemporary[1 + 1]; WSTPJupyter`ClearOutput[]; 3")
    assert packets[0] == wl.TextPacket("2\n")
    assert [head(p) for p in packets[1:]] == [
        "OutputNamePacket", "ReturnTextPacket", "InputNamePacket"]


@pytest.mark.kernels(3)
def test_quit_terminate_and_closed_link_end_the_process(fresh_kernels: list[Session]) -> None:
    quitter, terminated, orphan = fresh_kernels
    # A plain WSTP front end (no side links, text results): ClearOutput is Null, sends nothing.
    assert quitter.enter("WSTPJupyter`ClearOutput[]") == [wl.InputNamePacket("In[2]:= ")]
    quitter.link.put(wl.EnterTextPacket("Quit[]"))
    assert quitter.kernel.process.wait(timeout=10) == 0
    terminated.link.put_message(UrgentMessage.TERMINATE)
    assert terminated.kernel.process.wait(timeout=10) == 0
    orphan.link.put(wl.EnterTextPacket("While[True, 1]"))
    time.sleep(0.2)
    orphan.link.close()
    assert orphan.kernel.process.wait(timeout=10) == 0


def test_startup_failure_reports_stderr() -> None:
    with pytest.raises(StartupError, match="unknown engine 'nosuch'"):
        launch(extra_args=("-backend", "nosuch"), startup_timeout=30)


def test_listen_mode_prints_name_and_exits_when_link_closes() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wstp_jupyter.engine",
            "-WSTP",
            "-LinkMode",
            "Listen",
            "-LinkProtocol",
            "TCPIP",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        name = proc.stdout.readline().decode().strip()
        assert name.endswith("@127.0.0.1")
        link = Link.connect("TCPIP", name)
        link.activate(timeout=30)
        assert link.get(timeout=30) == wl.InputNamePacket("In[1]:= ")
        link.put(wl.EnterTextPacket("2^10"))
        assert read_until_end(link)[1] == wl.ReturnTextPacket("1024")
        link.close()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_listening_kernel_refuses_a_wrong_key_and_keeps_waiting() -> None:
    env = {**os.environ, KEY_ENV: "right-key"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wstp_jupyter.engine", "-wstp", "-linkmode", "listen",
         "-linkprotocol", "TCPIP"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    try:
        assert proc.stdout is not None
        name = proc.stdout.readline().decode().strip()
        port, host = name.split("@")
        # Connected first and never a word: the kernel must not wait on it (it would for its
        # handshake timeout if it handled one connection at a time).
        silent = socket.create_connection((host, int(port)), timeout=30)
        intruder = Link.connect("TCPIP", name, key="wrong-key")
        with pytest.raises(AuthenticationError):
            intruder.activate(timeout=30)
        intruder.close()
        assert proc.poll() is None  # still there, waiting for the right peer
        link = Link.connect("TCPIP", name, key="right-key")
        link.activate(timeout=30)
        assert link.get(timeout=30) == wl.InputNamePacket("In[1]:= ")
        link.put(wl.EnterTextPacket("6*7"))
        assert read_until_end(link)[1] == wl.ReturnTextPacket("42")
        silent.recv(4096)  # the kernel's HELLO, then a CLOSE saying why, then the end
        while silent.recv(4096):
            pass
        silent.close()
        link.close()
        assert proc.wait(timeout=30) == 0
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        assert "refused a client" in err and "the keys differ" in err, err
        assert "another peer completed the handshake first" in err, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
