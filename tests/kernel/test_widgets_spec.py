"""The control specifications of Manipulate, read from the wire form (no kernel needed).

The evaluator stands in for the kernel process: numbers evaluate to themselves, ``Pi`` to its
value, ``Range[n]`` to a list; labels are the values' text.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from wstp_jupyter.engine._manipulate import (
    FRAME_VAR,
    Evaluator,
    SpecError,
    control_value,
    decode,
    initial_values,
    parse,
    with_values,
)
from wstp_jupyter.wxf import Expr, Symbol, input_form

u, v = Symbol("Global`u"), Symbol("Global`v")


def _evaluate(value: Any) -> Any:
    if isinstance(value, Symbol) and value.name == "Pi":
        return math.pi
    if isinstance(value, Expr) and value.head == Symbol("Range"):
        return list(range(1, value.args[0] + 1))
    if isinstance(value, Expr) and value.head == Symbol("N"):
        return _evaluate(value.args[0])
    return value


EV = Evaluator(evaluate=_evaluate, text=lambda x: x if isinstance(x, str) else input_form(x))


def manipulate(*specs: Any) -> dict[str, Any]:
    return parse(Expr(Symbol("Manipulate"), Expr(Symbol("f"), u), *specs), EV)


def rule(key: str, value: Any) -> Expr:
    return Expr(Symbol("Rule"), Symbol(key), value)


def test_ranges_give_sliders() -> None:
    (c,) = manipulate([u, 0, 1])["controls"]
    assert (c["type"], c["min"], c["max"], c["step"], c["integer"], c["init"]) == (
        "Slider", 0, 1, None, False, 0)
    (c,) = manipulate([u, 1, 10, 1])["controls"]
    assert c["integer"] and c["step"] == 1
    (c,) = manipulate([u, 0, 1, 0.25])["controls"]
    assert not c["integer"] and c["step"] == 0.25
    (c,) = manipulate([u, 0, Symbol("Pi")])["controls"]
    assert c["max"] == pytest.approx(math.pi)


def test_initial_values_and_labels() -> None:
    (c,) = manipulate([[u, 3, "size"], 1, 5])["controls"]
    assert (c["init"], c["label"]) == (3, "size")
    (c,) = manipulate([[u, 3], 1, 5])["controls"]
    assert c["label"] == "u"


def test_choices_buttons_menus_and_checkboxes() -> None:
    (c,) = manipulate([u, ["a", "b", "c"]])["controls"]
    assert c["type"] == "SetterBar" and c["choices"] == ["a", "b", "c"]
    (c,) = manipulate([u, Expr(Symbol("Range"), 8)])["controls"]
    assert c["type"] == "PopupMenu" and len(c["choices"]) == 8
    (c,) = manipulate([u, [True, False]])["controls"]
    assert c["type"] == "Checkbox"
    labelled = [Expr(Symbol("Rule"), 1, "one"), Expr(Symbol("Rule"), 2, "two")]
    (c,) = manipulate([[u, 2], labelled])["controls"]
    assert c["choices"] == ["one", "two"] and c["init"] == 1
    assert control_value(c, 0) == 1


def test_control_types() -> None:
    (c,) = manipulate([u, 1, 3, 1, rule("ControlType", Symbol("SetterBar"))])["controls"]
    assert c["type"] == "SetterBar" and [decode(x) for x in c["values"]] == [1, 2, 3]
    (c,) = manipulate([u, 1, 3, 1, rule("Global`ControlType", Symbol("Global`PopupMenu"))])[
        "controls"]
    assert c["type"] == "PopupMenu"
    spec = parse(Expr(Symbol("Manipulate"), u, [u, 0, 1], [v, [1, 2]],
                      rule("ControlType", Symbol("InputField"))), EV)
    assert [c["type"] for c in spec["controls"]] == ["InputField", "InputField"]
    (c,) = manipulate([u])["controls"]
    assert c["type"] == "InputField" and control_value(c, "") is None
    assert control_value(c, "1 + x") == Expr(Symbol("ToExpression"), "1 + x")


@pytest.mark.parametrize("bad", [[1, 2], [], [u, 1, 2, 3, 4], [u, 1, 2, -1], [[u, 1, 2, 3], 0, 1],
                                 [u, "x", 2]])
def test_malformed_specifications(bad: Any) -> None:
    with pytest.raises(SpecError):
        manipulate(bad)


def test_values_from_the_front_end_are_checked() -> None:
    (c,) = manipulate([u, 1, 10, 1])["controls"]
    assert control_value(c, 4) == 4
    with pytest.raises(ValueError, match="needs a number"):
        control_value(c, "4")
    (c,) = manipulate([u, ["a", "b"]])["controls"]
    with pytest.raises(ValueError, match="out of range"):
        control_value(c, 5)


def test_the_update_expression() -> None:
    spec = manipulate([[u, 2], 1, 5, 1])
    body = decode(spec["body"])
    held = Expr(Symbol("Hold"), Expr(Symbol("f"), u))
    assert with_values(body, initial_values(spec)) == Expr(
        Symbol("ReleaseHold"), Expr(Symbol("ReplaceAll"), held, [Expr(Symbol("Rule"), u, 2)]))
    assert with_values(body, []) == body


def test_animate_list_animate_and_dynamic() -> None:
    spec = parse(Expr(Symbol("Animate"), u, [u, 0, 1]), EV)
    assert spec["controls"][0]["type"] == "Animator"
    spec = parse(Expr(Symbol("ListAnimate"), ["a", "b"]), EV)
    (c,) = spec["controls"]
    assert (c["var"], c["min"], c["max"]) == (FRAME_VAR, 1, 2)
    assert decode(spec["body"]) == Expr(Symbol("Part"), ["a", "b"], Symbol(FRAME_VAR))
    spec = parse(Expr(Symbol("Dynamic"), u), EV)
    assert spec["controls"] == [] and decode(spec["body"]) == u
    with pytest.raises(SpecError):
        parse(Expr(Symbol("ListAnimate"), []), EV)


def _polygon(*points: tuple[float, float, float]) -> dict[str, Any]:
    return {"type": "polygon", "coords": [[list(p), None] for p in points], "color": [1, 1, 1],
            "opacity": 1}


def test_3d_surfaces_get_consistent_windings_and_smooth_normals() -> None:
    from wstp_jupyter.kernel._scene3d_data import extract

    # Two triangles of one flat square, given with opposite windings (as sampled surfaces are).
    data = {"elements": [_polygon((0, 0, 0), (1, 0, 0), (1, 1, 0)),
                         _polygon((0, 0, 0), (0, 1, 0), (1, 1, 0))],
            "axes": {"hasaxes": True, "ticks": [[[0, 1], [0.5], ["0", "1"]]] * 3}}
    arrays = extract(data)
    assert arrays.triangles == 2 and len(arrays.positions) == 4 * 3  # shared corners
    normals = [tuple(arrays.normals[i : i + 3]) for i in range(0, len(arrays.normals), 3)]
    assert len(set(normals)) == 1 and abs(normals[0][2]) == 1.0  # all one side, no cancelling
    tri = [tuple(arrays.indices[i : i + 3]) for i in range(0, 6, 3)]
    edges = [{(t[k], t[(k + 1) % 3]) for k in range(3)} for t in tri]
    shared = {(a, b) for a, b in edges[0] if (b, a) in edges[1]}
    assert shared  # the common edge is walked in opposite directions
    assert arrays.meta["axes"]["has"] == [True, True, True]
    assert arrays.meta["axes"]["ticks"][0] == [[0.0, "0"], [1.0, "1"]]


def test_3d_solids_and_what_is_left_to_the_static_picture() -> None:
    from wstp_jupyter.kernel._scene3d_data import extract

    data = {"elements": [
        {"type": "sphere", "radius": 2, "coords": [[[1, 2, 3], None]], "color": [1, 0, 0]},
        {"type": "cuboid", "coords": [[[0, 0, 0], None], [[1, 1, 1], None]], "opacity": 0.5},
        {"type": "line", "coords": [[[0, 0, 0], None], [[1, 0, 0], None], [[1, 1, 0], None]]},
        {"type": "tube", "coords": [[[0, 0, 0], None], [[1, 0, 0], None]], "radius": 0.1},
        "not a primitive"]}
    arrays = extract(data)
    assert arrays.meta["spheres"] == [[1.0, 2.0, 3.0, 2.0, 1.0, 0.0, 0.0, 1.0]]
    assert arrays.meta["cuboids"][0][-1] == 0.5
    assert len(arrays.lines) == 2 * 2 * 3  # two segments
    assert arrays.meta["skipped"] == 1
