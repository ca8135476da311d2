"""What each engine does: probes over a real link, checked against the table in docs/engines.md.

Every row of the feature table in docs/engines.md is a probe here, run on both engines; the test
fails when the documented yes/no differs from what the engine does. ``python -m
tests.engine.test_engine_features`` prints the measured table (to paste into the doc).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wstp_jupyter.engine import launch
from wstp_jupyter.link import UrgentMessage
from wstp_jupyter.wxf import BigReal, Expr, Symbol

from .helpers import Session, head, read_until_end

DOC = Path(__file__).resolve().parents[2] / "docs" / "engines.md"
ENGINES = ("mathics3", "woxi")


def _texts(packets: list[Any], name: str) -> list[Any]:
    return [p.args[0] for p in packets if head(p) == name]


def _in_out(s: Session) -> bool:
    s.enter("6*7")
    return _texts(s.enter("% + 1"), "ReturnTextPacket") == ["43"]


def _print_streams(s: Session) -> bool:
    s.link.put(Expr(Symbol("EnterTextPacket"), 'Print["early"]; Pause[1]; 1'))
    first = s.link.get(timeout=60)
    early = head(first) == "TextPacket" and not s.link.ready(0.2)
    read_until_end(s.link)
    return early


def _messages(s: Session) -> bool:
    packets = s.enter("1/0")
    return any(head(p) == "MessagePacket" and p.args[1] == "infy" for p in packets)


def _syntax(s: Session) -> bool:
    return "SyntaxPacket" in [head(p) for p in s.enter("f[")]


def _output_form(s: Session) -> bool:
    return _texts(s.enter("N[Pi]"), "ReturnTextPacket") == ["3.14159"]


def _exact(s: Session) -> bool:
    value = s.evaluate(Expr(Symbol("N"), Symbol("E"), 30))[-1].args[0]
    return isinstance(value, BigReal)


def _bundle(s: Session, expr: Any) -> dict[str, Any]:
    result = s.evaluate(Expr(Symbol("WSTPJupyter`MIMEBundle"), expr))[-1].args[0]
    return dict(result.args[0]) if isinstance(result, Expr) else {}


def _svg(s: Session) -> bool:
    plot = Expr(Symbol("Plot"), Expr(Symbol("Sin"), Symbol("x")), [Symbol("x"), 0, 1])
    return "image/svg+xml" in _bundle(s, plot)


def _svg3d(s: Session) -> bool:
    plot = Expr(Symbol("Plot3D"), Expr(Symbol("Times"), Symbol("x"), Symbol("y")),
                [Symbol("x"), 0, 1], [Symbol("y"), 0, 1], Expr(Symbol("Rule"),
                Symbol("PlotPoints"), 5))
    return "image/svg+xml" in _bundle(s, plot)


def _latex(s: Session) -> bool:
    return "text/latex" in _bundle(s, Expr(Symbol("Sqrt"), Symbol("x")))


def _input(s: Session) -> bool:
    s.link.put(Expr(Symbol("EnterTextPacket"), 'InputString["? "]'))
    packets = read_until_end(s.link)
    if head(packets[-1]) != "InputStringPacket":
        return False
    s.link.put(Expr(Symbol("TextPacket"), "yes"))
    return _texts(read_until_end(s.link), "ReturnTextPacket") == ["yes"]


def _abort(s: Session) -> bool:
    s.enter("kept = 5;")
    s.link.put(Expr(Symbol("EnterTextPacket"), 'Print["go"]; Do[i^2, {i, 10^9}]'))
    s.link.get(timeout=60)
    s.link.put_message(UrgentMessage.ABORT)
    aborted = _texts(read_until_end(s.link, timeout=60), "ReturnTextPacket") == ["$Aborted"]
    return aborted and _texts(s.enter("kept"), "ReturnTextPacket") == ["5"]


def _menu(s: Session) -> bool:
    s.link.put(Expr(Symbol("EnterTextPacket"), 'Print["go"]; Pause[1]; 8'))
    s.link.get(timeout=60)
    s.link.put_message(UrgentMessage.INTERRUPT)
    menu = read_until_end(s.link, timeout=60)
    s.link.put(Expr(Symbol("EnterTextPacket"), "c"))
    rest = read_until_end(s.link, timeout=60)
    return head(menu[-1]) == "MenuPacket" and _texts(rest, "ReturnTextPacket") == ["8"]


def _series(s: Session) -> bool:
    text = _texts(s.enter("Series[Exp[x], {x, 0, 3}]"), "ReturnTextPacket")
    return bool(text) and "O[x]^4" in text[0]


def _integrate(s: Session) -> bool:
    text = _texts(s.enter("Integrate[x^2 Sin[x], x]"), "ReturnTextPacket")
    return bool(text) and "Cos[x]" in text[0] and "Integrate" not in text[0]


def _form_prompt(s: Session) -> bool:
    packets = s.enter("x^2 // TeXForm")
    name = _texts(packets, "OutputNamePacket")
    return bool(name) and name[0].endswith("//TeXForm= ") and _texts(
        packets, "ReturnTextPacket") == ["x^2"]


def _links(s: Session) -> bool:
    text = _texts(s.enter("lnk = LinkCreate[]; Head[lnk]"), "ReturnTextPacket")
    s.enter("Quiet[LinkClose[lnk]];")
    return text == ["LinkObject"]


def _complete(s: Session) -> bool:
    names = s.evaluate(Expr(Symbol("WSTPJupyter`Complete"), "Integ"))[-1].args[0]
    return isinstance(names, list) and "Integrate" in names


#: (feature as written in the doc's table, probe)
PROBES: list[tuple[str, Callable[[Session], bool]]] = [
    ("In/Out numbers and %", _in_out),
    ("Print streamed while the input runs", _print_streams),
    ("messages as MessagePacket + text", _messages),
    ("syntax errors (SyntaxPacket, nothing run)", _syntax),
    ("OutputForm text (N[Pi] -> 3.14159)", _output_form),
    ("exact results over EvaluatePacket (N[E, 30] keeps 30 digits)", _exact),
    ("completion of built-in names", _complete),
    ("Input[] / InputString[] ask the front end", _input),
    ("abort ends the input, earlier definitions kept", _abort),
    ("interrupt menu (pause, continue)", _menu),
    ("2D graphics as SVG + PNG", _svg),
    ("3D graphics as SVG + PNG", _svg3d),
    ("TeX (text/latex) of formulas", _latex),
    ("output forms name the prompt (Out[n]//TeXForm= x^2)", _form_prompt),
    ("Series printed as a series (O[x]^4)", _series),
    ("symbolic Integrate", _integrate),
    ("LinkCreate / LinkRead and friends", _links),
]


def measure(engine: str) -> dict[str, bool]:
    session = Session(launch(extra_args=("--engine", engine)))
    try:
        read_until_end(session.link, timeout=120)
        session.kernel.open_parallel_links()
        found = {}
        for feature, probe in PROBES:
            try:
                found[feature] = bool(probe(session))
            except Exception:
                found[feature] = False
                session.kernel.abort()
        return found
    finally:
        session.kernel.close()


def documented() -> dict[str, dict[str, bool]]:
    """The doc's table: feature -> {engine: yes/no}."""
    table: dict[str, dict[str, bool]] = {}
    for line in DOC.read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[1][:3] in ("yes", "no") and cells[2][:3] in ("yes", "no"):
            table[cells[0]] = {
                "mathics3": cells[1].startswith("yes"), "woxi": cells[2].startswith("yes")
            }
    return table


@pytest.fixture(scope="module", params=ENGINES)
def measured(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, bool]]]:
    if request.param == "woxi":
        pytest.importorskip("woxi")
    yield request.param, measure(request.param)


def test_doc_table_matches_what_the_engine_does(measured: tuple[str, dict[str, bool]]) -> None:
    engine, found = measured
    table = documented()
    assert set(table) == {f for f, _ in PROBES}
    wrong = {f: found[f] for f in found if table[f][engine] != found[f]}
    assert not wrong, f"docs/engines.md is wrong for {engine}: measured {wrong}"


def main() -> int:
    results = {engine: measure(engine) for engine in ENGINES}
    print("| feature | Mathics3 | Woxi |\n| --- | --- | --- |")
    for feature, _ in PROBES:
        cells = ["yes" if results[e][feature] else "no" for e in ENGINES]
        print(f"| {feature} | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
