"""The Graphics3D renderer: pure tests on hand-written scenes, then Mathics3's own JSON."""

from __future__ import annotations

import io
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wstp_jupyter.render3d import graphics3d_svg

SVG_NS = "{http://www.w3.org/2000/svg}"
_SIZE = re.compile(r'<svg\s+width="([0-9.]+)(?:px)?"\s+height="([0-9.]+)(?:px)?"')


def scene(*elements: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A Graphics3D JSON document as Mathics3 writes it: unit box, no axes, ambient light."""
    data: dict[str, Any] = {
        "elements": list(elements),
        "background_color": "rgba(100.0%, 100.0%, 100.0%, 100.0%)",
        "axes": {"hasaxes": [False, False, False], "ticks": []},
        "extent": {"xmin": 0.0, "xmax": 1.0, "ymin": 0.0, "ymax": 1.0, "zmin": -0.5, "zmax": 0.5},
        "lighting": [{"type": "Ambient", "color": [0.5, 0.25, 1.0]}],
        "viewpoint": [0.0, 0.0, 2.0],
        "protocol": "1.1",
    }
    data.update(overrides)
    return data


def polygon(points: list[list[float]], color: list[float], opacity: float = 1) -> dict[str, Any]:
    return {
        "type": "polygon",
        "coords": [[p, None] for p in points],
        "color": color,
        "opacity": opacity,
    }


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    return root


def filled_paths(root: ET.Element) -> list[ET.Element]:
    return [p for p in root.iter(f"{SVG_NS}path") if p.get("fill") not in (None, "none")]


def points_of(path: ET.Element) -> list[tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"-?[0-9.]+", path.get("d", ""))]
    return list(zip(numbers[0::2], numbers[1::2], strict=True))


def size_of(svg: str) -> tuple[float, float]:
    match = _SIZE.search(svg)
    assert match, svg[:200]
    return float(match.group(1)), float(match.group(2))


TRIANGLE = polygon([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [1.0, 0.8, 0.5])


def test_triangle_projection_and_ambient_shading() -> None:
    svg = graphics3d_svg(scene(TRIANGLE), width=300)
    root = parse(svg)
    width, height = size_of(svg)
    assert width == 300
    assert root.get("viewBox") == f"0 0 300 {root.get('height')}"
    (face,) = filled_paths(root)
    # ambient {0.5, 0.25, 1} times the colour {1, 0.8, 0.5}
    assert face.get("fill") == "#803380"
    (ax, ay), (bx, by), (cx, cy) = points_of(face)
    # seen from straight above: x to the right, y up, the box centred in the picture
    assert ay == pytest.approx(by, abs=0.02)
    assert ax == pytest.approx(cx, abs=0.02)
    assert bx > ax + 100 and cy < ay - 100
    assert ax + bx == pytest.approx(width, abs=0.05)
    assert ay + cy == pytest.approx(height, abs=0.05)


def test_headlight_adds_its_colour_to_a_face_seen_square_on() -> None:
    # A light placed at the default view point follows the camera: it shines along the view.
    lights = [
        {"type": "Ambient", "color": [0.2, 0.2, 0.2]},
        {"type": "Directional", "color": [0.5, 0.25, 0.0], "position": [1.3, -2.4, 2.0]},
    ]
    (face,) = filled_paths(parse(graphics3d_svg(scene(TRIANGLE, lighting=lights))))
    assert (
        face.get("fill") == "#b25c1a"
    )  # (0.2 + {0.5, 0.25, 0}) * {1, 0.8, 0.5} = {0.7, 0.36, 0.1}
    # seen from below, the face is lit on its other side just the same (two-sided)
    below = scene(TRIANGLE, lighting=lights, viewpoint=[0.0, 0.0, -2.0])
    (face,) = filled_paths(parse(graphics3d_svg(below)))
    assert face.get("fill") == "#b25c1a"


SQUARE = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]


@pytest.mark.parametrize(
    ("viewpoint", "front"), [([0.3, 0.2, 2.0], "#0000ff"), ([0.3, 0.2, -2.0], "#ff0000")]
)
def test_nearer_face_is_drawn_last(viewpoint: list[float], front: str) -> None:
    low = polygon([[x, y, -0.3] for x, y in SQUARE], [1, 0, 0])
    high = polygon([[x, y, 0.3] for x, y in SQUARE], [0, 0, 1])
    lights = [{"type": "Ambient", "color": [1, 1, 1]}]
    for order in ((low, high), (high, low)):
        svg = graphics3d_svg(scene(*order, lighting=lights, viewpoint=viewpoint))
        fills = [p.get("fill") for p in filled_paths(parse(svg))]
        assert len(fills) == 2
        assert fills[-1] == front


def test_cuboid_has_six_faces_and_an_opaque_one_shows_three() -> None:
    cuboid = {
        "type": "cuboid",
        "coords": [[[0.2, 0.2, -0.3], None], [[0.8, 0.8, 0.3], None]],
        "color": [1, 1, 1],
        "opacity": 0.5,
    }
    view = {"viewpoint": [1.3, -2.4, 2.0]}
    see_through = filled_paths(parse(graphics3d_svg(scene(cuboid, **view))))
    assert len(see_through) == 6
    assert all(p.get("fill-opacity") == "0.5" for p in see_through)
    opaque = filled_paths(parse(graphics3d_svg(scene({**cuboid, "opacity": 1}, **view))))
    assert len(opaque) == 3  # the back faces are hidden anyway, so they are not drawn


def test_axes_ticks_and_labels_only_where_asked() -> None:
    ticks = [
        [[0.0, 0.5, 1.0, 7.0], [0.25, 0.75], ["0", "1.5", "3", "21"]],  # 7.0 is outside the box
        [[0.0, 1.0], [], ["a", "b"]],
        [[-0.25, 0.25], [0.0], ["-1", "1"]],
    ]
    axes = {"hasaxes": [True, False, True], "ticks": ticks}
    root = parse(graphics3d_svg(scene(TRIANGLE, axes=axes, viewpoint=[1.3, -2.4, 2.0])))
    labels = sorted(t.text or "" for t in root.iter(f"{SVG_NS}text"))
    assert labels == sorted(["0", "1.5", "3", "-1", "1"])
    without = parse(graphics3d_svg(scene(TRIANGLE, axes={"hasaxes": [False] * 3, "ticks": ticks})))
    assert list(without.iter(f"{SVG_NS}text")) == []


def test_axes_make_room_for_their_labels() -> None:
    ticks = [[[0.0, 1.0], [], ["-100000", "100000"]]] * 3
    svg = graphics3d_svg(scene(axes={"hasaxes": True, "ticks": ticks}, viewpoint=[1.3, -2.4, 2]))
    width, _height = size_of(svg)
    for text in parse(svg).iter(f"{SVG_NS}text"):
        x = float(text.get("x", "nan"))
        assert 0.0 <= x <= width
        anchor = text.get("text-anchor")
        span = 6.0 * len(text.text or "")  # the renderer's own estimate of a label's width
        left = {"end": x - span, "middle": x - span / 2}.get(anchor or "", x)
        assert left >= 0.0 and left + span <= width + 0.5


def test_crowded_labels_are_thinned() -> None:
    # seen almost along y, the y axis is a few pixels long: its labels would pile up
    positions = [k / 10 for k in range(11)]
    labels = [str(k) for k in range(11)]
    axes = {"hasaxes": [True, True, True], "ticks": [[positions, [], labels]] * 3}
    root = parse(graphics3d_svg(scene(axes=axes, viewpoint=[0.0, -3.0, 0.3])))
    boxes = []
    for text in root.iter(f"{SVG_NS}text"):
        x, y, span = (
            float(text.get("x", "0")),
            float(text.get("y", "0")),
            6.0 * len(text.text or ""),
        )
        left = {"end": x - span, "middle": x - span / 2}.get(text.get("text-anchor") or "", x)
        boxes.append((left, y - 8.0, left + span, y + 2.0))
    assert 11 < len(boxes) < 33
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_empty_scene_is_a_box() -> None:
    svg = graphics3d_svg(scene(viewpoint=[1.3, -2.4, 2.0]))
    root = parse(svg)
    assert filled_paths(root) == []
    box = [p for p in root.iter(f"{SVG_NS}path") if p.get("fill") == "none"]
    assert sum(p.get("d", "").count("M") for p in box) >= 12  # the twelve box edges, perhaps cut
    unboxed = parse(graphics3d_svg(scene(), boxed=False))
    assert list(unboxed.iter(f"{SVG_NS}path")) == []
    assert parse(graphics3d_svg({})).tag == f"{SVG_NS}svg"  # even no data at all


def test_unknown_and_malformed_primitives_are_skipped() -> None:
    plain = graphics3d_svg(scene(TRIANGLE))
    odd = [
        {"type": "hyperboloid", "coords": [[[0, 0, 0], None]]},
        {"type": "polygon", "color": [1, 0, 0]},  # no coords
        {"type": "sphere", "coords": [["x", None]], "radius": 1},
        polygon([[math.nan, 0, 0], [1, 0, 0], [0, 1, 0]], [1, 0, 0]),  # a failed sample
        "not a primitive",
    ]
    assert graphics3d_svg(scene(odd[0], TRIANGLE, *odd[1:])) == plain


@pytest.mark.parametrize(
    "element",
    [
        {"type": "line", "coords": [[[0, 0, 0], None], [[1, 1, 0], None]]},
        {"type": "point", "coords": [[[0.5, 0.5, 0], None]], "pointSize": 0.005},
        {"type": "arrow", "coords": [[[0, 0, 0], None], [[1, 1, 0.3], None]]},
        {"type": "sphere", "coords": [[[0.5, 0.5, 0], None]], "radius": 0.3},
        {
            "type": "cylinder",
            "coords": [[[0.5, 0.5, -0.5], None], [[0.5, 0.5, 0.5], None]],
            "radius": 0.2,
        },
        {
            "type": "cone",
            "coords": [[[0.5, 0.5, -0.5], None], [[0.5, 0.5, 0.5], None]],
            "radius": 0.2,
        },
        {
            "type": "tube",
            "coords": [[[0, 0, 0], None], [[1, 1, 0], None], [[1, 0, 0], None]],
            "radius": 0.05,
        },
        {"type": "uniformPolyhedron", "subType": "dodecahedron", "coords": [[[0.5, 0.5, 0], None]]},
    ],
    ids=lambda element: element["type"],
)
def test_every_primitive_draws_something(element: dict[str, Any]) -> None:
    element = {"color": [1.0, 0.0, 0.0], "opacity": 1, **element}
    root = parse(graphics3d_svg(scene(element, viewpoint=[1.3, -2.4, 2.0]), boxed=False))
    drawn = list(root.iter(f"{SVG_NS}path")) + list(root.iter(f"{SVG_NS}circle"))
    assert drawn


def test_sphere_gradient_ids_are_resolved() -> None:
    sphere = {"type": "sphere", "coords": [[[0.3, 0.5, 0], None], [[0.7, 0.5, 0], None]]}
    svg = graphics3d_svg(scene({**sphere, "radius": 0.2, "color": [1, 1, 1], "opacity": 1}))
    root = parse(svg)
    ids = {g.get("id") for g in root.iter(f"{SVG_NS}radialGradient")}
    refs = {c.get("fill", "")[5:-1] for c in root.iter(f"{SVG_NS}circle")}
    assert len(ids) == 2 and refs == ids
    assert "@" not in svg


def test_a_large_surface_renders_compactly() -> None:
    n = 30  # 1800 triangles, twice what Plot3D's default sampling gives
    elements = []
    for i in range(n):
        for j in range(n):
            quad = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
            pts = [[x / n, y / n, 0.2 * math.sin(6 * x * y / n / n)] for x, y in quad]
            elements += [
                polygon([pts[0], pts[1], pts[2]], [1, 1, 1]),
                polygon([pts[0], pts[2], pts[3]], [1, 1, 1]),
            ]
    data = scene(*elements, viewpoint=[1.3, -2.4, 2.0])
    svg = graphics3d_svg(data)  # its speed is measured in benchmarks/bench_kernel.py
    assert len(svg) < 150 * len(elements)
    assert not re.search(r"\d\.\d{3}", svg)  # at most two decimals


# -- through Mathics3 ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mathics_json() -> Iterator[Any]:
    from mathics.core.expression import Expression
    from mathics.core.symbols import Symbol

    from wstp_jupyter.engine._mathics import MathicsBackend

    backend = MathicsBackend()
    backend.start()

    def to_json(source: str) -> dict[str, Any]:
        value = backend.session.evaluate(source)
        boxes = Expression(
            Symbol("System`MakeBoxes"), value, Symbol("System`StandardForm")
        ).evaluate(backend.side)
        return dict(json.loads(boxes.to_format("json")))

    to_json.backend = backend  # type: ignore[attr-defined]
    yield to_json


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("plot3d", "Plot3D[Sin[x y], {x, 0, 3}, {y, 0, 3}, PlotPoints -> 5]"),
        ("solids", "Graphics3D[{Sphere[], Red, Cuboid[{{1, 1, 1}, {2, 2, 3}}]}, Axes -> True]"),
    ],
)
def test_mathics_scenes_rasterise(
    mathics_json: Any, artifact_dir: Path, name: str, source: str
) -> None:
    import cairosvg
    from PIL import Image

    data = mathics_json(source)
    svg = graphics3d_svg(data, width=300)
    parse(svg)
    width, height = size_of(svg)
    assert width == 300 and 100 < height < 900
    png = cairosvg.svg2png(bytestring=svg.encode(), scale=2.0)
    (artifact_dir / f"render3d-{name}.png").write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.width == 600
    assert abs(image.height - 2 * height) <= 1
    counts = image.getcolors(maxcolors=image.width * image.height) or []
    white = sum(n for n, colour in counts if colour == (255, 255, 255))
    assert image.width * image.height - white > 0.1 * image.width * image.height
    assert len(counts) > 50  # shaded, not flat


@pytest.fixture(scope="module")
def mathics_backend(mathics_json: Any) -> Any:
    return mathics_json.backend


def test_results_get_svg_and_png(mathics_backend: Any) -> None:
    from wstp_jupyter.engine._render import PNG, PNG_DPI_3D, SVG, render_bundle

    value = mathics_backend.session.evaluate("Plot3D[x y, {x, 0, 1}, {y, 0, 1}, PlotPoints -> 4]")
    bundle = render_bundle(value, mathics_backend.side, {"ImageSize": 240})
    assert bundle["text/plain"] == "-Graphics3D-"
    assert size_of(bundle[SVG])[0] == 240
    assert bundle[PNG].startswith(b"\x89PNG")
    assert bundle["metadata"][PNG]["width"] == 240
    from PIL import Image

    assert Image.open(io.BytesIO(bundle[PNG])).width == round(240 * PNG_DPI_3D / 72)
    unboxed = mathics_backend.session.evaluate("Graphics3D[Sphere[], Boxed -> False]")
    assert "<svg" in render_bundle(unboxed, mathics_backend.side, {})[SVG]


def test_non_rgb_colours_are_converted_for_the_json(mathics_backend: Any) -> None:
    from wstp_jupyter.engine._render import SVG, render_bundle

    # Mathics3 10 cannot write Hue or GrayLevel colours into its 3D JSON; the renderer retries
    # with the colours converted to RGB.
    scene = "Graphics3D[{Hue[0.5], Sphere[], GrayLevel[0.3], Cuboid[]}]"
    value = mathics_backend.session.evaluate(scene)
    assert "<svg" in render_bundle(value, mathics_backend.side, {})[SVG]
    names = mathics_backend.session.evaluate('Names["Global`*colour*"]')
    assert str(names) == "{}"  # the conversion leaves no symbols behind
