r"""Render a result to MIME data in the kernel process, so a front end needs one round trip.

The bundle (a ``dict``; an Association on the wire) holds:

* ``text/plain`` -- OutputForm text (``_outputform``), as the Wolfram kernel's main loop prints
  it: ``N[Pi]`` is ``3.14159``, a string has no quotes, graphics are ``-Graphics-``, the user's
  ``Format`` rules apply (and ``$PrePrint``, which the main loop applied to the value already);
* ``application/vnd.wolfram.inputform`` -- InputForm text that parses back to the value, with
  every digit (``3.141592653589793``); of the value ``Out[n]`` holds, so without an
  ``$OutputForms`` wrapper (``x^2`` for ``x^2 // TeXForm``);
* ``text/latex`` -- TeX math as ``TeXForm`` writes it (``_texform``: ``\sin (x)``, ``\pi``,
  ``\frac{a}{b}``), wrapped in ``$...$``, only for compound expressions, rationals, complex
  numbers and symbols TeX has a sign for (not for integers, reals, strings, other symbols,
  graphics or images);
* ``image/svg+xml`` and ``image/png`` for ``Graphics``: Mathics' ``GraphicsBox.to_svg`` (the fast
  path, milliseconds), then cairosvg rasterizes the SVG at ``PNGResolution`` dpi (144 = HiDPI 2x);
* the same for ``Graphics3D`` (``Plot3D`` & co.): Mathics3 has no 3D SVG, so the scene's JSON
  (what its three.js front end draws) goes through the project's own renderer (``render3d``);
  3D PNGs are rasterized at no more than 96 dpi (1x), because cairosvg spends
  ~0.5 ms per primitive and a surface has hundreds. Mathics3 cannot write ``Hue`` or
  ``GrayLevel`` colours into its 3D JSON, so such scenes are retried with the colours converted
  to RGB; a scene that still fails stays ``-Graphics3D-`` text;
* ``image/png`` for an ``Image`` (pillow);
* ``metadata`` -- not a MIME type: ``{"image/png": {"width": w, "height": h}}`` in CSS pixels, so
  a HiDPI PNG is shown at its logical size.

Options (a ``dict`` with string keys): ``"Formats"`` (list of MIME types to produce, default all
that apply), ``"GraphicsPNG"`` (``False``: no PNG for graphics, whose SVG suffices),
``"PNGResolution"`` (dpi, default 144), ``"ImageSize"`` (logical width in pixels for
graphics, default Mathics' own size). A format that fails to render is left out, never fatal.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

from mathics.core.atoms import Complex, Rational
from mathics.core.expression import Expression
from mathics.core.symbols import Symbol

from wstp_jupyter.engine._forms import to_text
from wstp_jupyter.engine._outputform import output_form
from wstp_jupyter.engine._texform import tex_form

log = logging.getLogger("wstp_jupyter.engine")

PLAIN = "text/plain"
INPUTFORM = "application/vnd.wolfram.inputform"
LATEX = "text/latex"
SVG = "image/svg+xml"
PNG = "image/png"
# Not a format to ask for: the JSON scene of a Graphics3D, given next to its SVG for a front end
# that draws it with WebGL (the Jupyter kernel turns it into a widget and drops it).
SCENE3D = "application/vnd.wstp-jupyter.scene3d+json"
ALL_FORMATS = (PLAIN, INPUTFORM, LATEX, SVG, PNG)

LATEX_MAX_CHARS = 4000  # no text/latex for results whose text is longer than this
DEFAULT_OPTIONS: dict[str, Any] = {"Formats": list(ALL_FORMATS), "PNGResolution": 144}

_GRAPHICS = ("System`Graphics",)
_INTERACTIVE_HEADS = ("System`Manipulate", "System`Animate", "System`ListAnimate", "System`Dynamic")
_GRAPHICS3D = "System`Graphics3D"
PNG_DPI_3D = 96.0  # the most a 3D PNG gets (see the module docstring)
_NO_LATEX_HEADS = frozenset(
    {
        "System`Graphics",
        "System`Graphics3D",
        "System`Image",
        "System`Sound",
        "System`TeXForm",
        "System`InputForm",
        "System`FullForm",
        "System`MathMLForm",
    }
)
# Symbols worth typesetting alone (others are plain names: text says it as well).
_LATEX_SYMBOLS = frozenset({"System`Pi", "System`Infinity", "System`ComplexInfinity",
                            "System`EulerGamma", "System`Degree"})
_SIZE = re.compile(r'<svg\s+width="([0-9.]+)(?:px)?"\s+height="([0-9.]+)(?:px)?"')


def render_bundle(value: Any, evaluation: Any, options: dict[str, Any]) -> dict[str, Any]:
    """Render ``value`` (a Mathics element) to a MIME bundle.

    Args:
        value: the result to render.
        evaluation: the ``Evaluation`` used for boxes and TeX (the side one, so rendering never
            disturbs the main evaluation's state).
        options: see the module docstring; unknown keys are ignored.

    Returns:
        ``{mime: data}`` with ``str`` data except ``image/png`` (``bytes``), plus ``metadata``.
    """
    opts = {**DEFAULT_OPTIONS, **options}
    formats = set(opts.get("Formats") or ALL_FORMATS)
    shorten = evaluation.definitions.shorten_name
    bundle: dict[str, Any] = {}
    if PLAIN in formats:
        bundle[PLAIN] = output_form(value, evaluation)
    if INPUTFORM in formats:
        try:
            bundle[INPUTFORM] = to_text(stored_value(value, evaluation), shorten, output=False)
        except RecursionError:
            # Too deep to write whole (the plain text above is shown cut, with a message);
            # cut InputForm would not read back as the value, so there is none.
            log.debug("InputForm too deep to render", exc_info=False)
    head = value.get_head_name() if isinstance(value, Expression) else ""
    if head in _INTERACTIVE_HEADS:
        from wstp_jupyter.engine._manipulate import interactive_bundle

        interactive = interactive_bundle(value, evaluation, options, render_bundle)
        if interactive is not None:
            return interactive
    if type(value).__name__ == "Image":
        if PNG in formats:
            _image_png(value, bundle)
        return bundle
    if head in _GRAPHICS or head == _GRAPHICS3D:
        if SVG in formats or PNG in formats:
            _graphics(value, evaluation, opts, formats, bundle, three_d=head == _GRAPHICS3D)
        return bundle
    # TeX of a huge result costs seconds (Mathics3 formats it box by box) and no notebook
    # typesets it usefully; past this size the plain text is the honest rendering.
    large = len(bundle.get(PLAIN) or bundle.get(INPUTFORM) or "") > LATEX_MAX_CHARS
    if LATEX in formats and not large and _wants_latex(value, head):
        try:
            tex = tex_form(value, evaluation)
            if tex:
                bundle[LATEX] = f"${tex}$"
        except Exception:  # a TeX failure must not lose the result
            log.debug("TeX rendering failed", exc_info=True)
    return bundle


def stored_value(value: Any, evaluation: Any) -> Any:
    """What ``Out[n]`` holds for the result ``value``: ``value`` without a wrapper from
    ``$OutputForms`` (``x^2`` for ``TeXForm[x^2]``, as the Wolfram kernel stores it), so the
    InputForm in a bundle describes the value ``Out[n]`` gives back."""
    if (
        isinstance(value, Expression)
        and value.elements
        and value.head in evaluation.definitions.outputforms
    ):
        return value.elements[0]
    return value


def _wants_latex(value: Any, head: str) -> bool:
    if isinstance(value, Rational | Complex):
        return True
    if isinstance(value, Symbol):
        return value.get_name() in _LATEX_SYMBOLS
    return isinstance(value, Expression) and head not in _NO_LATEX_HEADS


def _graphics(
    value: Any,
    evaluation: Any,
    opts: dict[str, Any],
    formats: set[str],
    bundle: dict[str, Any],
    *,
    three_d: bool = False,
) -> None:
    try:
        if three_d:
            svg, scene = _svg_3d(value, evaluation, opts)
            if SVG in formats:  # the scene a front end can turn (``_scene3d``)
                bundle[SCENE3D] = scene
        else:
            svg = str(_boxes(value, evaluation).to_svg(evaluation=evaluation))
        svg = svg.strip()
    except Exception:
        log.debug("SVG rendering failed", exc_info=True)
        return
    match = _SIZE.search(svg)
    width = float(match.group(1)) if match else 360.0
    height = float(match.group(2)) if match else 360.0
    wanted = opts.get("ImageSize")
    if isinstance(wanted, int | float) and wanted > 0 and match:
        height = height * float(wanted) / width
        width = float(wanted)
        svg = _SIZE.sub(f'<svg width="{width:.1f}px" height="{height:.1f}px"', svg, count=1)
    if SVG in formats:
        bundle[SVG] = svg
    # "GraphicsPNG" -> False: the SVG is enough (widget updates; an Image still gets its PNG).
    if PNG in formats and opts.get("GraphicsPNG", True) is not False:
        dpi = float(opts.get("PNGResolution") or 144)
        if three_d:
            dpi = min(dpi, PNG_DPI_3D)
        try:
            import cairosvg

            bundle[PNG] = cairosvg.svg2png(bytestring=svg.encode(), scale=dpi / 72.0)
            bundle.setdefault("metadata", {})[PNG] = {
                "width": round(width),
                "height": round(height),
            }
        except Exception:  # cairosvg or libcairo missing: SVG alone is still useful
            log.debug("PNG rasterization failed", exc_info=True)


def _boxes(value: Any, evaluation: Any) -> Any:
    return Expression(Symbol("System`MakeBoxes"), value, Symbol("System`StandardForm")).evaluate(
        evaluation
    )


# Colour directives Mathics3 10 cannot write into 3D JSON (their components are numpy arrays).
_NON_RGB_COLOURS = ("Hue", "GrayLevel", "CMYKColor", "XYZColor", "LABColor", "LCHColor", "LUVColor")


def _rgb_colours(value: Any, evaluation: Any) -> Any:
    """``value`` with every non-RGB colour directive replaced by ``ColorConvert[c, "RGB"]``."""
    from mathics.core.atoms import String

    c = Symbol("WSTPJupyter`Private`colour")
    colours = Expression(
        Symbol("System`Alternatives"),
        *(Expression(Symbol("System`Blank"), Symbol(f"System`{h}")) for h in _NON_RGB_COLOURS),
    )
    rule = Expression(
        Symbol("System`RuleDelayed"),
        Expression(Symbol("System`Pattern"), c, colours),
        Expression(Symbol("System`ColorConvert"), c, String("RGB")),
    )
    return Expression(Symbol("System`ReplaceAll"), value, rule).evaluate(evaluation)


def _svg_3d(value: Any, evaluation: Any, opts: dict[str, Any]) -> tuple[str, str]:
    """SVG of a ``Graphics3D`` through the project's renderer, and the scene as JSON (raises if
    Mathics3 cannot export the scene as JSON)."""
    import json

    from wstp_jupyter.render3d import graphics3d_svg

    boxes = _boxes(value, evaluation)
    try:
        text = boxes.to_format("json")
    except TypeError:  # a Hue or GrayLevel colour: convert the colours to RGB and try again
        boxes = _boxes(_rgb_colours(value, evaluation), evaluation)
        text = boxes.to_format("json")
    data = json.loads(text)
    boxed = str(boxes.box_options.get("System`Boxed", "System`True")) != "System`False"
    wanted = opts.get("ImageSize")
    width = float(wanted) if isinstance(wanted, int | float) and wanted > 0 else 360.0
    data["boxed"] = boxed
    return graphics3d_svg(data, width=width, boxed=boxed), json.dumps(data)


def _image_png(value: Any, bundle: dict[str, Any]) -> None:
    try:
        image = value.pil()
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            image = _to_8bit(value.pixels)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        bundle[PNG] = buffer.getvalue()
        bundle.setdefault("metadata", {})[PNG] = {"width": image.width, "height": image.height}
    except Exception:
        log.debug("Image to PNG failed", exc_info=True)


def _to_8bit(pixels: Any) -> Any:
    """A pillow image from Mathics' float pixels (0..1), which PNG cannot store directly."""
    import numpy as np
    from PIL import Image

    array = np.asarray(pixels, dtype=float)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    data = (np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(data)
