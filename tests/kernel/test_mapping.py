"""Packet -> Jupyter event translation (sans-IO: packets are built with the wxf model)."""

from __future__ import annotations

import base64
from typing import Any

from wstp_jupyter.engine._requests import clear_display, clear_output, display_data
from wstp_jupyter.kernel._mapping import (
    CellDone,
    CellTranslator,
    ClearOutput,
    DisplayData,
    InputRequest,
    KernelLost,
    Menu,
    Result,
    Stream,
    UpdateDisplayData,
    message_text,
    result_data,
)
from wstp_jupyter.link import Packet
from wstp_jupyter.wxf import Expr, Symbol


def P(head: str, *args: Any) -> Expr:
    return Expr(Symbol(head), *args)


def bundle(**data: Any) -> Expr:
    return P("WSTPJupyter`MIMEBundle", {k.replace("_", "/"): v for k, v in data.items()})


def run(*packets: Expr, count: int = 1) -> tuple[CellTranslator, list[Any]]:
    translator = CellTranslator(count)
    events: list[Any] = []
    for packet in packets:
        events += translator.feed(Packet.from_expr(packet))
    return translator, events


def test_result_with_numbers_and_next_prompt() -> None:
    t, events = run(
        P("OutputNamePacket", "Out[3]= "),
        P("ReturnExpressionPacket", bundle(text_plain="2")),
        P("InputNamePacket", "In[4]:= "),
        count=3,
    )
    assert events == [Result(execution_count=3, data={"text/plain": "2"}), CellDone(next_count=4)]
    assert t.done and t.error is None and t.results == 1


def test_result_number_from_a_prompt_that_names_the_form() -> None:
    _, events = run(
        P("OutputNamePacket", "Out[7]//TeXForm= "),
        P("ReturnExpressionPacket", bundle(text_plain="x^2")),
        P("InputNamePacket", "In[8]:= "),
        count=2,  # the number comes from the prompt, not from the count the cell started with
    )
    assert events == [Result(execution_count=7, data={"text/plain": "x^2"}), CellDone(next_count=8)]


def test_print_streams_and_messages_go_to_stderr() -> None:
    t, events = run(
        P("TextPacket", "a\n"),
        P("MessagePacket", Symbol("Power"), "infy"),
        P("TextPacket", "Infinite expression 1/0 encountered."),
        P("OutputNamePacket", "Out[1]= "),
        P("ReturnExpressionPacket", bundle(text_plain="ComplexInfinity")),
        P("InputNamePacket", "In[2]:= "),
    )
    assert events[0] == Stream(name="stdout", text="a\n")
    assert events[1] == Stream(
        name="stderr", text="Power::infy: Infinite expression 1/0 encountered.\n"
    )
    assert t.error is None  # messages never fail a cell
    assert t.messages == ["Power::infy"]


def test_message_text_already_prefixed_is_kept() -> None:
    text = "Power::infy: Infinite expression 1/0 encountered."
    assert message_text("System`Power", "infy", text) == text + "\n"
    assert message_text("Global`f", "argx", "bad") == "f::argx: bad\n"


def test_two_dimensional_message_keeps_its_layout_and_one_name() -> None:
    # Woxi writes 1/0 as a fraction: the name is on the middle line, the numerator above it.
    text = ("                                 1\n"
            "Power::infy: Infinite expression - encountered.\n"
            "                                 0")
    assert message_text("System`Power", "infy", text) == text + "\n"
    assert message_text("System`Power", "infy", "\n" + text + "\n  ") == text + "\n"


def test_several_results_and_png_metadata() -> None:
    png = b"\x89PNG\r\n\x1a\n...."
    payload = {"text/plain": "-Graphics-", "image/png": png,
               "metadata": {"image/png": {"width": 360, "height": 220}}}
    _, events = run(
        P("OutputNamePacket", "Out[1]= "),
        P("ReturnExpressionPacket", bundle(text_plain="1")),
        P("OutputNamePacket", "Out[2]= "),
        P("ReturnExpressionPacket", P("WSTPJupyter`MIMEBundle", payload)),
        P("InputNamePacket", "In[3]:= "),
    )
    results = [e for e in events if isinstance(e, Result)]
    assert [r.execution_count for r in results] == [1, 2]
    assert base64.b64decode(results[1].data["image/png"]) == png
    assert results[1].metadata == {"image/png": {"width": 360, "height": 220}}
    assert "metadata" not in results[1].data


def test_suppressed_output_gives_no_result() -> None:
    t, events = run(P("InputNamePacket", "In[2]:= "))
    assert events == [CellDone(next_count=2)] and t.results == 0


def test_syntax_error_fails_the_cell_with_the_message() -> None:
    t, events = run(
        P("MessagePacket", Symbol("Syntax"), "sntxf"),
        P("TextPacket", 'Syntax::sntxf: "1+" cannot be followed by "".'),
        P("SyntaxPacket", 3),
        P("InputNamePacket", "In[1]:= "),
    )
    assert t.error is not None
    assert t.error[0] == "SyntaxError" and "Syntax::sntxf" in t.error[1]
    assert events == [CellDone(next_count=1)]  # the text is in the error, not shown twice


def test_syntax_message_from_the_evaluation_is_streamed() -> None:
    t, events = run(
        P("MessagePacket", Symbol("Syntax"), "sntxi"),
        P("TextPacket", "Syntax::sntxi: Incomplete expression."),
        P("OutputNamePacket", "Out[1]= "),
        P("ReturnExpressionPacket", bundle(text_plain="$Failed")),
        P("InputNamePacket", "In[2]:= "),
    )
    assert t.error is None
    assert events[0] == Stream(name="stderr", text="Syntax::sntxi: Incomplete expression.\n")
    assert isinstance(events[1], Result)


def test_aborted_result_is_an_error_not_an_output() -> None:
    # The engine marks an aborted evaluation in the bundle's metadata; the mark goes no further.
    t, events = run(
        P("OutputNamePacket", "Out[5]= "),
        P("ReturnExpressionPacket", bundle(text_plain="$Aborted", metadata={"aborted": True})),
        P("InputNamePacket", "In[6]:= "),
        count=5,
    )
    assert t.error is not None and t.error[0] == "Aborted"
    assert events == [CellDone(next_count=6)]


def test_aborted_as_a_value_is_an_ordinary_result() -> None:
    # TimeConstrained[Pause[3], 0.5] returns $Aborted; so does a = $Aborted; neither was aborted.
    t, events = run(
        P("OutputNamePacket", "Out[5]= "),
        P("ReturnExpressionPacket", bundle(text_plain="$Aborted")),
        P("OutputNamePacket", "Out[6]= "),
        P("ReturnExpressionPacket", bundle(text_plain="2", metadata={"image/png": {"width": 1}})),
        P("InputNamePacket", "In[7]:= "),
        count=5,
    )
    assert t.error is None
    assert events == [
        Result(execution_count=5, data={"text/plain": "$Aborted"}),
        Result(execution_count=6, data={"text/plain": "2"},
               metadata={"image/png": {"width": 1}}),
        CellDone(next_count=7),
    ]


def test_a_servers_failure_for_its_ended_kernel_is_no_result() -> None:
    # A wstpserver answers in place of a kernel that ended (Quit[] included): in the text form
    # for EnterTextPacket, as an expression for EvaluatePacket.
    text = ('Failure["WSTPServer", <|"Message" -> "the kernel 0c1d-2e died '
            '(exited with status 3)"|>]')
    t, events = run(P("ReturnTextPacket", text), P("InputNamePacket", "In[1]:= "), count=4)
    assert events == [KernelLost(reason="exited with status 3"), CellDone(next_count=1)]
    assert t.results == 0
    failure = P("Failure", "WSTPServer", {"Message": "the kernel k died (killed by signal 9)"})
    _, events = run(P("ReturnPacket", failure))
    assert events == [KernelLost(reason="killed by signal 9")]
    # Other failures are results like any other.
    other = 'Failure["WSTPServer", <|"Message" -> "no kernel is bridged"|>]'
    _, events = run(P("ReturnTextPacket", other), count=2)
    assert events == [Result(execution_count=2, data={"text/plain": other})]


def test_input_requests_and_menu() -> None:
    _, events = run(P("InputStringPacket", "name? "), P("InputPacket", "x? "),
                    P("MenuPacket", 1, "Interrupt> "), P("InputPacket"))
    assert events == [
        InputRequest(prompt="name? ", as_string=True),
        InputRequest(prompt="x? ", as_string=False),
        Menu(number=1, title="Interrupt> "),
        InputRequest(prompt="", as_string=False),
    ]


def test_text_results_and_raw_expressions() -> None:
    _, events = run(P("ReturnTextPacket", "3628800"), count=7)
    assert events == [Result(execution_count=7, data={"text/plain": "3628800"})]
    data, meta = result_data(P("f", 1, "s", [Symbol("Global`x"), 2.5]))
    assert data == {"text/plain": 'f[1, "s", {Global`x, 2.5}]'} and meta == {}


def test_unknown_and_obsolete_packets_are_ignored() -> None:
    t, events = run(P("DisplayPacket"), P("ResumePacket", 1), P("InputNamePacket", "In[9]:= "))
    assert events == [CellDone(next_count=9)]
    assert t.done


def test_inputform_kept_only_when_it_differs() -> None:
    key = "application/vnd.wolfram.inputform"
    same, _ = result_data(P("WSTPJupyter`MIMEBundle", {"text/plain": "2", key: "2"}))
    assert same == {"text/plain": "2"}
    data, _ = result_data(P("WSTPJupyter`MIMEBundle", {"text/plain": "a", key: "\"a\""}))
    assert data[key] == '"a"'


def test_display_packets_become_display_messages_in_place() -> None:
    translator = CellTranslator(1)
    packets = [
        Packet.from_expr(P("TextPacket", "a\n")),
        display_data({"text/plain": "x", "image/png": b"PNG"}, "display-7", True),
        clear_output(True),
        Packet.from_expr(P("TextPacket", "b\n")),
        clear_display("display-7"),
        Packet.from_expr(P("InputNamePacket", "In[2]:= ")),
    ]
    events = [event for packet in packets for event in translator.feed(packet)]
    assert events == [
        Stream(name="stdout", text="a\n"),
        DisplayData(data={"text/plain": "x", "image/png": base64.b64encode(b"PNG").decode()},
                    metadata={}, display_id="display-7"),
        ClearOutput(wait=True),
        Stream(name="stdout", text="b\n"),
        UpdateDisplayData(data={"text/plain": ""}, display_id="display-7"),
        CellDone(next_count=2),
    ]


def test_malformed_display_packets_are_dropped() -> None:
    # The display packets are application packets: their arguments are checked as they are read.
    _, events = run(P("WSTPJupyter`DisplayDataPacket", "no bundle"),
                    P("WSTPJupyter`ClearOutputPacket", 1, 2), P("InputNamePacket", "In[3]:= "))
    assert events == [CellDone(next_count=3)]
