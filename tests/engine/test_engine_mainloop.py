"""Main-loop packet rules against a real kernel process over a real TCPIP link."""

from __future__ import annotations

import time

from wstp_jupyter.wxf import Expr, Symbol, wl

from .helpers import Session, head, read_until_end


def heads(packets: list[object]) -> list[str | None]:
    return [head(p) for p in packets]


def test_enter_text_gives_output_name_result_and_next_prompt(kernel: Session) -> None:
    n = kernel.line()
    packets = kernel.enter("10!")
    assert packets == [
        wl.OutputNamePacket(f"Out[{n + 1}]= "),
        wl.ReturnTextPacket("3628800"),
        wl.InputNamePacket(f"In[{n + 2}]:= "),
    ]


def test_multiline_cell_gives_one_line_per_expression(kernel: Session) -> None:
    n = kernel.line()
    packets = kernel.enter("ml1 = 1\nml2 = 2\nml3 = ml1 +\n  ml2\nml3^2")
    assert heads(packets) == ["OutputNamePacket", "ReturnTextPacket"] * 4 + ["InputNamePacket"]
    assert packets[0] == wl.OutputNamePacket(f"Out[{n + 1}]= ")
    assert [p.args[0] for p in packets[1:8:2]] == ["1", "2", "3", "9"]
    assert packets[6] == wl.OutputNamePacket(f"Out[{n + 4}]= ")
    assert packets[-1] == wl.InputNamePacket(f"In[{n + 5}]:= ")


def test_semicolon_suppresses_output_packets_but_counts_a_line(kernel: Session) -> None:
    n = kernel.line()
    assert kernel.enter("sup = 5;") == [wl.InputNamePacket(f"In[{n + 2}]:= ")]
    packets = kernel.enter(f"{{$Line, Out[{n + 1}], %}}")
    assert packets[1] == wl.ReturnTextPacket(f"{{{n + 2}, 5, 5}}")


def test_in_and_percent(kernel: Session) -> None:
    kernel.enter("pc = 20")
    assert kernel.enter("% + 1")[1] == wl.ReturnTextPacket("21")
    n = kernel.line()
    assert kernel.enter(f"In[{n - 1}] + 1")[1] == wl.ReturnTextPacket("21")


def test_evaluate_packet_gives_one_return_packet_and_keeps_line(kernel: Session) -> None:
    n = kernel.line()
    kernel.link.put(wl.EvaluatePacket(wl.Plus(1, 2)))
    assert kernel.link.get(timeout=10) == wl.ReturnPacket(3)
    kernel.link.put(wl.EvaluatePacket(wl.Factorial(25)))
    assert kernel.link.get(timeout=10) == wl.ReturnPacket(15511210043330985984000000)
    assert not kernel.link.ready(0.2)
    assert kernel.line() == n


def test_enter_expression_gives_return_expression_packet(kernel: Session) -> None:
    n = kernel.line()
    packets = kernel.enter("ee = 7;")
    packets = kernel.link.put(wl.EnterExpressionPacket(wl.Times(2, wl.Global.ee)))
    packets = read_until_end(kernel.link)
    assert packets == [
        wl.OutputNamePacket(f"Out[{n + 2}]= "),
        wl.ReturnExpressionPacket(14),
        wl.InputNamePacket(f"In[{n + 3}]:= "),
    ]


def test_print_gives_text_packets_then_prompt(kernel: Session) -> None:
    n = kernel.line()
    assert kernel.enter("Print[a]; Print[b];") == [
        wl.TextPacket("a\n"),
        wl.TextPacket("b\n"),
        wl.InputNamePacket(f"In[{n + 2}]:= "),
    ]


def test_print_streams_while_evaluation_runs(kernel: Session) -> None:
    kernel.link.put(wl.EnterTextPacket("Do[Print[i]; Pause[0.3], {i, 3}]"))
    start = time.monotonic()
    arrivals = []
    for expected in ("1\n", "2\n", "3\n"):
        assert kernel.link.get(timeout=10) == wl.TextPacket(expected)
        arrivals.append(time.monotonic() - start)
    assert head(kernel.link.get(timeout=10)) == "InputNamePacket"
    # Two pauses of 0.3 s lie between the first and the last: streamed, they arrive at least
    # ~0.6 s apart; batched at the end, together.
    assert arrivals[-1] - arrivals[0] > 0.3, arrivals


def test_message_packet_then_text_then_result(kernel: Session) -> None:
    n = kernel.line()
    assert kernel.enter("1/0") == [
        wl.MessagePacket(Symbol("Power"), "infy"),
        wl.TextPacket("Power::infy: Infinite expression 1/0 encountered."),
        wl.OutputNamePacket(f"Out[{n + 1}]= "),
        wl.ReturnTextPacket("ComplexInfinity"),
        wl.InputNamePacket(f"In[{n + 2}]:= "),
    ]


def test_syntax_error_packets_and_session_intact(kernel: Session) -> None:
    kernel.enter("keep = 41;")
    n = kernel.line()
    assert kernel.enter("1 +* 2") == [
        wl.MessagePacket(Symbol("Syntax"), "sntxf"),
        wl.TextPacket('Syntax::sntxf: "1 +" cannot be followed by "* 2".'),
        wl.SyntaxPacket(3),
        wl.InputNamePacket(f"In[{n + 1}]:= "),
    ]
    packets = kernel.enter("f[x")
    assert packets[0] == wl.MessagePacket(Symbol("Syntax"), "sntxi")
    assert packets[2] == wl.SyntaxPacket(3)
    # A cell with an error is not evaluated at all, not even its first line.
    assert heads(kernel.enter("keep = 0\n1 +* 2"))[-2:] == ["SyntaxPacket", "InputNamePacket"]
    assert kernel.line() == n
    assert kernel.enter("keep + 1")[1] == wl.ReturnTextPacket("42")


def test_ascii_operators_in_text_results(kernel: Session) -> None:
    packets = kernel.enter("{a -> 1, b :> 2, Hold[x >= y, x != y], x^2/(1 + y)}")
    assert packets[1] == wl.ReturnTextPacket("{a -> 1, b :> 2, Hold[x >= y, x != y], x^2/(1 + y)}")


def test_input_and_input_string_read_the_front_end_reply(kernel: Session) -> None:
    assert kernel.enter('Input["x? "] + 1')[-1] == wl.InputPacket("x? ")
    kernel.link.put(wl.EnterTextPacket("40 + 1"))
    assert read_until_end(kernel.link)[1] == wl.ReturnTextPacket("42")
    assert kernel.enter('StringLength[InputString["s? "]]')[-1] == wl.InputStringPacket("s? ")
    kernel.link.put("hello")
    assert read_until_end(kernel.link)[1] == wl.ReturnTextPacket("5")
    kernel.evaluate(wl.Input())  # EvaluatePacket too, reply as ReturnTextPacket
    kernel.link.put(wl.ReturnTextPacket("2 + 2"))
    assert kernel.link.get(timeout=10) == wl.ReturnPacket(4)


def test_mime_bundle_request(kernel: Session) -> None:
    packets = kernel.evaluate(wl.WSTPJupyter.MIMEBundle(wl.Graphics([wl.Disk()])))
    bundle_expr = packets[-1].args[0]
    assert head(bundle_expr) == "WSTPJupyter`MIMEBundle"
    bundle = bundle_expr.args[0]
    assert bundle["text/plain"] == "-Graphics-"
    assert bundle["image/svg+xml"].startswith("<svg")
    assert bundle["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert bundle["metadata"]["image/png"] == {"width": 350, "height": 350}
    tex = kernel.evaluate(wl.WSTPJupyter.MIMEBundle(wl.Power(wl.Global.x, 2)))[-1].args[0].args[0]
    assert tex["text/latex"] == "$x^2$"
    assert tex["application/vnd.wolfram.inputform"] == "x^2"
    plain = kernel.evaluate(wl.WSTPJupyter.MIMEBundle(wl.Plus(1, 1)))[-1].args[0].args[0]
    assert plain == {"text/plain": "2", "application/vnd.wolfram.inputform": "2"}


def test_result_format_mime_bundle_for_main_loop(kernel: Session) -> None:
    assert kernel.evaluate(wl.WSTPJupyter.SetResultFormat("MIMEBundle"))[-1] == wl.ReturnPacket(
        "MIMEBundle"
    )
    try:
        n = kernel.line()
        packets = kernel.enter("Image[{{0, 1}, {1, 0}}]")
        assert packets[0] == wl.OutputNamePacket(f"Out[{n + 1}]= ")
        bundle = packets[1].args[0].args[0]
        assert head(packets[1]) == "ReturnExpressionPacket"
        assert bundle["text/plain"] == "-Image-"
        assert bundle["image/png"][:4] == b"\x89PNG"
        # 1+1 stays cheap: an integer gets no TeX, SVG or PNG rendering (the round trip's
        # speed is measured in benchmarks/bench_kernel.py).
        assert set(kernel.enter("1+1")[1].args[0].args[0]) == {
            "text/plain", "application/vnd.wolfram.inputform"}
    finally:
        kernel.evaluate(wl.WSTPJupyter.SetResultFormat("Text"))
    assert kernel.enter("1+1")[1] == wl.ReturnTextPacket("2")


def test_unknown_packet_is_ignored_and_loop_goes_on(kernel: Session) -> None:
    kernel.link.put(Expr(Symbol("NotAPacket"), 1))
    assert kernel.enter("2+3")[1] == wl.ReturnTextPacket("5")


def test_output_name_names_the_output_form(kernel: Session) -> None:
    # As the Wolfram kernel: "Out[n]//TeXForm= " for a result in one of $OutputForms; Out[n]
    # holds the value without the form.
    n = kernel.line()
    packets = kernel.enter("x^2 // TeXForm\nMatrixForm[{{1}}]\nx^2")
    assert packets[0] == wl.OutputNamePacket(f"Out[{n + 1}]//TeXForm= ")
    assert packets[1] == wl.ReturnTextPacket("x^2")
    assert packets[2] == wl.OutputNamePacket(f"Out[{n + 2}]//MatrixForm= ")
    assert packets[4] == wl.OutputNamePacket(f"Out[{n + 3}]= ")
    assert kernel.enter(f"InputForm[Out[{n + 1}]]")[1] == wl.ReturnTextPacket("x^2")
