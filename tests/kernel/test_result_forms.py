"""What a notebook shows for a result: OutputForm text, exact InputForm, TeX as TeXForm writes it,
and messages stopped by ``General::stop`` (through jupyter_client on one warm kernel)."""

from __future__ import annotations

from jupyter_client.blocking.client import BlockingKernelClient

from tests.kernel.conftest import execute

INPUTFORM = "application/vnd.wolfram.inputform"


def test_text_plain_is_output_form_and_inputform_is_exact(kc: BlockingKernelClient) -> None:
    run = execute(kc, "N[Pi]\nSeries[Exp[x], {x, 0, 3}]\n\"no quotes\"\nx^2 // TeXForm")
    assert run.plain() == ["3.14159", "1 + x + x^2/2 + x^3/6 + O[x]^4", "no quotes", "x^2"]
    assert run.results[0]["data"][INPUTFORM] == "3.141592653589793"


def test_text_latex_is_texform(kc: BlockingKernelClient) -> None:
    data = execute(kc, "Sin[x]^2 + Pi/Log[y]").results[0]["data"]
    assert data["text/latex"] == "$\\frac{\\pi}{\\log (y)}+\\sin ^2(x)$"


def test_texform_result_counts_and_describes_what_out_holds(kc: BlockingKernelClient) -> None:
    # The prompt is "Out[n]//TeXForm= "; the execution count still comes from it, and the
    # InputForm is that of Out[n] (Sin[x]^2), not of TeXForm[Sin[x]^2].
    run = execute(kc, "Sin[x]^2 // TeXForm\nComplexInfinity\n2 Pi I x")
    counts = [r["execution_count"] for r in run.results]
    assert counts[1] == counts[0] + 1 == counts[2] - 1
    assert run.plain()[0] == "\\sin ^2(x)"
    assert run.results[0]["data"][INPUTFORM] == "Sin[x]^2"
    assert run.results[1]["data"]["text/latex"] == "$\\tilde{\\infty}$"
    assert run.results[2]["data"]["text/latex"] == "$2 i x \\pi$"
    n = counts[0]
    assert execute(kc, f"InputForm[Out[{n}]]").plain() == ["Sin[x]^2"]


def test_a_repeated_message_stops_after_three(kc: BlockingKernelClient) -> None:
    infy = "Power::infy: Infinite expression 1/0 encountered.\n"
    stop = (
        "General::stop: Further output of Power::infy will be suppressed during this "
        "calculation.\n"
    )
    assert execute(kc, "Do[1/0, {25}]").stream("stderr") == infy * 3 + stop
    # A new cell starts afresh.
    assert execute(kc, "1/0;").stream("stderr") == infy
