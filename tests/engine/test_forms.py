"""Result text in OutputForm and TeX as TeXForm writes it (in process, one Mathics3 session).

The reference for OutputForm is what Mathics3's own command line prints (its OutputForm
renderer), except for the two differences ``_outputform`` makes on purpose: ASCII operators and
no spaces around ``^`` and ``/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mathics.core.evaluation import Evaluation

from wstp_jupyter.engine._backend import LineResult


@pytest.fixture(scope="module")
def backend() -> Iterator[Any]:
    from wstp_jupyter.engine._mathics import MathicsBackend

    b = MathicsBackend()
    b.start()
    yield b


class Recorder:
    """A host that keeps what an evaluation sends."""

    def __init__(self) -> None:
        self.out: list[tuple[str, ...]] = []

    def print_text(self, text: str) -> None:
        self.out.append(("print", text))

    def message(self, symbol: str, tag: str, text: str) -> None:
        self.out.append((symbol, tag, text))

    def request_input(self, prompt: str, *, string: bool) -> str | None:
        return None

    def display(self, bundle: dict[str, Any], *, temporary: bool) -> bool:
        return False

    def clear_output(self, *, wait: bool) -> bool:
        return False


def cell(backend: Any, text: str) -> tuple[list[LineResult], Recorder]:
    host = Recorder()
    return list(backend.run_cell(text, host)), host


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("N[Pi]", "3.14159"),
        ("Sum[1./i^2, {i, 200}]", "1.63995"),
        ("Gamma[1. + I]", "0.498016 - 0.15495 I"),
        ("Series[Exp[x], {x, 0, 3}]", "1 + x + x^2/2 + x^3/6 + O[x]^4"),
        ("x^2 // TeXForm", "x^2"),
        ("TeXForm[Sin[x]/2]", "\\frac{\\sin (x)}{2}"),
        ("{TeXForm[Sin[x]], InputForm[a -> 1.5]}", "{\\sin (x), a -> 1.5}"),
        ('InputForm[{1/2, "s", a -> b, N[Pi]}]', '{1/2, "s", a -> b, 3.141592653589793}'),
        ("FullForm[{x^2/y}]", "List[Times[Power[x, 2], Power[y, -1]]]"),
        ('Quantity[10, "Meters"]', "10 meter"),
        ("N[E, 50]", "2.7182818284590452353602874713526624977572470937000"),
        ("{1.5, -2.25, 3., 123456789.}", "{1.5, -2.25, 3., 1.23457\u00d710^8}"),
        ('{1, {2, "abc"}}', "{1, {2, abc}}"),
        ('"hello"', "hello"),
        ("3/4", "3/4"),
        ("-5", "-5"),
        ("-x/2 + 3 y^2", "-x/2 + 3 y^2"),
        ("1 + 2 I", "1 + 2 I"),
        ("Graphics[{Disk[]}]", "-Graphics-"),
        ("HoldForm[1 + 1]", "1 + 1"),
        ("Hold[1 + 1]", "Hold[1 + 1]"),
        ("{a -> 1, b :> 2, x >= y, x != y}", "{a -> 1, b :> 2, x >= y, x != y}"),
        ("MatrixForm[{{1, 2}, {3, 4}}]", "1   2\n\n3   4"),
        ("1/(2 I)", "-I/2"),
        ("{I/2, 1 + 3 I/2}", "{I/2, 1 + 3 I/2}"),
        ("#^2 &", "#1^2 &"),
        ("{## &, #2 + #1 &}", "{##1 &, #2 + #1 &}"),
    ],
)
def test_output_form_text(backend: Any, source: str, text: str) -> None:
    assert backend.output_text(backend.session.evaluate(source)) == text


@pytest.mark.parametrize(
    "source",
    [
        "N[Pi]",
        "Gamma[1. + I]",
        'Quantity[10, "Meters"]',
        "N[E, 50]",
        "N[1/3, 30]",
        "{1.5, {2.25, 1.*^20}}",
        '{"a", b, 1 + 2 I}',
        "Graphics[{Disk[]}]",
        "HoldForm[a + b c]",
        "BaseForm[255, 16]",
    ],
)
def test_output_form_matches_mathics_command_line(backend: Any, source: str) -> None:
    # Evaluation.format_output is what Mathics3's `mathics` prints results with; none of these
    # has an operator that the project writes differently.
    value = backend.session.evaluate(source)
    reference = Evaluation.format_output(backend.side, value, "text")
    assert backend.output_text(value) == reference


@pytest.mark.parametrize(
    "source",
    [
        "a - 2 b",
        "x y z/(u v)",
        "1/2 + x^2/(1 + y) + Sqrt[z]",
        "a/(b + c)^2 - 1/(a b)",
        "x^(1/3) + 2^(-1/2)",
        "a^b^c + (a^b)^c + (-1)^n",
        "-(a + b) + 1.5 x - I y + 2 I z",
        "{a -> 1, b :> 2, x == y && !z || w}",
        "Hold[x_Integer /; x > 0, 1;;3, a.b, x!]",
        "E^(-x^2)/(x + 1)",
    ],
)
def test_core_syntax_agrees_with_mathics_renderer(backend: Any, source: str) -> None:
    # The project prints the core syntax itself (for speed); its text must be what Mathics3's
    # OutputForm renderer gives (with the project's Infix spacing installed).
    from mathics.format.form.outputform import render_output_form

    value = backend.session.evaluate(source)
    reference = render_output_form(value, backend.side, encoding="ASCII")
    assert backend.output_text(value) == reference


def test_format_rules_apply_inside_core_syntax(backend: Any) -> None:
    cell(backend, "Format[inner[x_]] := outer[x]; Format[sym] = \"S\"; x")
    value = backend.session.evaluate(
        "{inner[1] + sym, HoldForm[2 q] /. q -> Series[Exp[y], {y, 0, 1}]}"
    )
    assert backend.output_text(value) == "{S + outer[1], 2 (1 + y + O[y]^2)}"
    value = backend.session.evaluate("{NumberForm[N[Pi], 10], BaseForm[255, 16]}")
    assert backend.output_text(value) == "{3.141592654, ff_16}"


def test_input_form_escapes_like_the_codec(backend: Any) -> None:
    from wstp_jupyter.wxf._inputform import string_form

    value = backend.session.evaluate('{\\[Alpha]x, "\\[Alpha]\\n"}')
    quoted = string_form("\u03b1\n", ascii_only=True)
    assert backend.input_text(value) == "{\\:03b1x, " + quoted + "}"
    assert backend.output_text(value) == "{\u03b1x, \u03b1\n}"


def test_mathml_form_is_the_mathml_text(backend: Any) -> None:
    text = backend.output_text(backend.session.evaluate("MathMLForm[x^2]"))
    assert text.startswith("<math") and "<msup>" in text and "MathMLForm" not in text


def test_input_form_keeps_every_digit(backend: Any) -> None:
    from wstp_jupyter.engine._render import render_bundle

    bundle = render_bundle(backend.session.evaluate("N[Pi]"), backend.main, {})
    assert bundle["text/plain"] == "3.14159"
    assert bundle["application/vnd.wolfram.inputform"] == "3.141592653589793"
    bundle = render_bundle(backend.session.evaluate("1/3 + x"), backend.main, {})
    assert bundle["text/plain"] == "1/3 + x"
    assert bundle["text/latex"] == "$\\frac{1}{3}+x$"


def test_pre_print_and_format_rules_apply_to_the_text(backend: Any) -> None:
    results, _ = cell(backend, "Format[fmt[x_]] := box[x]; fmt[1]")
    assert backend.output_text(results[-1].value) == "box[1]"
    results, _ = cell(backend, "$PrePrint = Reverse; {1, 2, 3}")
    try:
        assert backend.output_text(results[-1].value) == "{3, 2, 1}"
    finally:
        cell(backend, "$PrePrint =.")


@pytest.mark.parametrize(
    ("source", "tex"),
    [
        ("Sin[x]", "\\sin (x)"),
        ("Sin[x]^2", "\\sin ^2(x)"),
        ("Log[x] + ArcTan[y]", "\\tan ^{-1}(y)+\\log (x)"),
        ("Gamma[z]", "\\Gamma (z)"),
        ("Infinity", "\\infty"),
        ("Pi r^2", "r^2 \\pi"),
        ("E^x", "e^x"),
        ("x^2/(1 + y)", "\\frac{x^2}{1+y}"),
        ("Sqrt[x] + x^(1/3)", "\\sqrt[3]{x}+\\sqrt{x}"),
        ("\\[Alpha] + \\[Beta]^2", "\\alpha+\\beta^2"),
        ("{1, 2, 3}", "\\{1,2,3\\}"),
        ("a -> b", "a\\to b"),
        ("x >= y", "x\\geq y"),
        ("Abs[x]", "\\left| x\\right|"),
        ("-3/4", "-\\frac{3}{4}"),
        ("N[Pi]", "3.14159"),
        ("1 + 2 I", "1+2 i"),
        ("f'[x]", "f'(x)"),
        ("Series[Exp[x], {x, 0, 2}]", "1+x+\\frac{x^2}{2}+O\\left(x^3\\right)"),
        ('"a_b"', "\\text{a$\\_$b}"),
        ("(a + b)^10", "(a+b)^{10}"),
        # infinities
        ("1/0", "\\tilde{\\infty}"),
        ("ComplexInfinity", "\\tilde{\\infty}"),
        ("DirectedInfinity[I]", "i \\infty"),
        ("-Infinity", "-\\infty"),
        # the imaginary unit in products joins the coefficient
        ("I x", "i x"),
        ("a + b I", "a+i b"),
        ("2 Pi I", "2 i \\pi"),
        ("Exp[I Pi/4]", "e^{\\frac{i \\pi}{4}}"),
        ("1/(2 I)", "-\\frac{i}{2}"),
        ("I", "i"),
        # notations TeXForm has for these heads
        ("HoldForm[Limit[f[x], x -> 0]]", "\\underset{x\\to 0}{\\text{lim}}f(x)"),
        ("Subscript[a, i, j]", "a_{i,j}"),
        ("Subscript[a, 1]", "a_1"),
        ("Conjugate[z]", "z^*"),
        ("BesselJ[n, x]", "J_n(x)"),
        ("BesselY[n + 1, x]", "Y_{1+n}(x)"),
        ("BesselI[n, x] + BesselK[n, x]", "I_n(x)+K_n(x)"),
        ("HoldForm[HankelH1[n, x]]", "H_n^{(1)}(x)"),
        ("HoldForm[SphericalBesselJ[n, x]]", "j_n(x)"),
        ("Element[x, Reals]", "x\\in \\mathbb{R}"),
        ("{Integers, Complexes, Rationals, Primes}",
         "\\{\\mathbb{Z},\\mathbb{C},\\mathbb{Q},\\mathbb{P}\\}"),
        ("{{a, b}, {c, d}}",
         "\\left(\n\\begin{array}{cc}\n a & b \\\\\n c & d \\\\\n\\end{array}\n\\right)"),
        ("{{a, b}, {c}}", "\\{\\{a,b\\},\\{c\\}\\}"),
        ("p_", "\\text{p$\\_$}"),
        ("x_Integer", "\\text{x$\\_$Integer}"),
        ("f[x][y]", "f(x)(y)"),
        ("#^2 &", "\\text{$\\#$1}^2\\&"),
    ],
)
def test_tex_form(backend: Any, source: str, tex: str) -> None:
    from wstp_jupyter.engine._texform import tex_form

    assert tex_form(backend.session.evaluate(source), backend.main) == tex


@pytest.mark.parametrize(
    ("source", "text"),
    [("1/(2 I)", "-I/2"), ("3 I/2", "3*I/2"), ("#^2 &", "#1^2 &")],
)
def test_input_form_text(backend: Any, source: str, text: str) -> None:
    value = backend.session.evaluate(source)
    assert backend.input_text(value) == text
    assert backend.session.evaluate(f"ToExpression[\"{text}\"] === ({source})").get_name() == (
        "System`True"
    )


def test_session_tex_form_is_the_result_tex(backend: Any) -> None:
    # ToString[TeXForm[e]] and ToString[e, TeXForm] give what a TeXForm result shows.
    from wstp_jupyter.engine._texform import tex_form

    expected = tex_form(backend.session.evaluate("Sin[x]^2 + a/b"), backend.main)
    assert expected == "\\frac{a}{b}+\\sin ^2(x)"
    for source in ("ToString[TeXForm[Sin[x]^2 + a/b]]", "ToString[Sin[x]^2 + a/b, TeXForm]"):
        assert backend.session.evaluate(source).value == expected
    results, _ = cell(backend, "Sin[x]^2 + a/b // TeXForm")
    assert backend.output_text(results[-1].value) == expected
    assert backend.session.evaluate("ToString[x^2, InputForm]").value == "x^2"


@pytest.mark.parametrize(
    ("source", "form", "stored"),
    [
        ("x^2 // TeXForm", "TeXForm", "x^2"),
        ("InputForm[1/2]", "InputForm", "1/2"),
        ("FullForm[a + b]", "FullForm", "a + b"),
        ("MatrixForm[{{1}}]", "MatrixForm", "{{1}}"),
        ("TableForm[{1}]", "TableForm", "{1}"),
        ("OutputForm[x]", "OutputForm", "x"),
        ("NumberForm[N[Pi], 3]", "NumberForm", "3.141592653589793"),
        ("x^2", None, "x^2"),
        ("Hold[TeXForm[x]]", None, "Hold[TeXForm[x]]"),
    ],
)
def test_line_names_its_output_form(backend: Any, source: str, form: Any, stored: str) -> None:
    # As the Wolfram kernel: Out[n] holds the value without the form, the prompt names it, and
    # the InputForm in the bundle is that of Out[n].
    from wstp_jupyter.engine._render import render_bundle

    results, _ = cell(backend, source)
    result = results[-1]
    assert result.form == form
    out = backend.session.evaluate(f"Out[{result.line}]")
    assert backend.input_text(out) == stored
    bundle = render_bundle(result.value, backend.main, {})
    assert bundle["application/vnd.wolfram.inputform"] == stored


def test_tex_follows_user_format_rules(backend: Any) -> None:
    from wstp_jupyter.engine._texform import tex_form

    cell(backend, "Format[vec[x_]] := OverHat[x]; Format[mass, TeXForm] := m0")
    value = backend.session.evaluate("vec[a] + mass^2")
    assert tex_form(value, backend.main) == "\\text{m0}^2+\\text{OverHat}(a)"


def test_message_text_is_output_form(backend: Any) -> None:
    _, host = cell(backend, "1/0; Print[N[Pi], \" \", x^2]")
    assert host.out == [
        ("Power", "infy", "Power::infy: Infinite expression 1/0 encountered."),
        ("print", "3.14159 x^2"),
    ]


def test_plain_machine_reals_print_as_mathics3_renders_them(backend: Any) -> None:
    """The fast path for machine reals gives the renderer's text wherever it answers."""
    import random

    from mathics.core.atoms import MachineReal
    from mathics.format.form.outputform import real_render_output_form

    from wstp_jupyter.engine._forms import plain_machine_real

    rng = random.Random(7)
    values = [rng.uniform(-1, 1) * 10 ** rng.uniform(-7, 8) for _ in range(3000)]
    values += [0.0, -0.0, 1e-5, 9.99999e-6, 0.5, 1.0, 100.0, 99999.95, 123456.4, 999999.4,
               999999.6, 1e6, 2.0 / 3, -1.5, 1.0000005]
    answered = 0
    for v in values:
        fast = plain_machine_real(v)
        if fast is not None:
            answered += 1
            assert fast == str(real_render_output_form(MachineReal(v), backend.main)), v
    assert answered > len(values) // 2
