"""ASCII InputForm, OutputForm and FullForm text for Mathics3 expressions.

Mathics3 10 writes ``Rule``, ``RuleDelayed``, ``>=`` and ``!=`` as Unicode characters even in
InputForm, so text that must be valid Wolfram Language input (``application/vnd.wolfram.inputform``,
``WSTPJupyter`` answers) is written here, by one recursive printer over the expression tree.

How it works: :func:`to_text` walks the tree once. Each operator has a precedence (the Wolfram
Language's relative order); a child is parenthesised when its precedence is below what its parent
position requires. ``Times`` is split into numerator and denominator, ``Plus`` turns a negative
term into ``a - b``. Heads the printer does not know are written in functional form ``f[a, b]``.

The ``output`` flag selects OutputForm conventions (strings unquoted, graphics shown as
``-Graphics-``, ``Row``/``Column`` laid out). Given an ``evaluation`` as well, the OutputForm is
the one a Wolfram kernel prints (``_outputform``): reals get OutputForm's digits from Mathics3's
own number formatting (``3.14159``), and every subexpression whose look is decided by ``Format``
rules -- the user's, or builtin ones such as ``SeriesData``, ``Quantity``, ``NumberForm``,
``TableForm``, ``StringForm`` -- is handed to Mathics3's OutputForm renderer. The core syntax
(lists, arithmetic, operators, patterns) stays here because Mathics3 applies its format rules
again at every level of the tree, which costs seconds for a few thousand nodes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mathics.core.atoms import (
    ByteArray,
    Complex,
    Integer,
    MachineReal,
    PrecisionReal,
    Rational,
    String,
)
from mathics.core.expression import Expression
from mathics.core.number import dps
from mathics.core.symbols import Atom, Symbol
from mathics.format.form import outputform as mathics_outputform

from wstp_jupyter.wxf._inputform import ascii_escaped, real_form, string_form

Shorten = Callable[[str], str]

# Precedences (higher binds tighter), in the Wolfram Language's order.
_P_COMPOUND = 10
_P_SET = 40
_P_FUNCTION = 90
_P_REPLACE = 110
_P_RULE = 120
_P_CONDITION = 130
_P_ALTERNATIVES = 160
_P_OR = 215
_P_AND = 220
_P_NOT = 230
_P_COMPARE = 290
_P_SPAN = 305
_P_PLUS = 310
_P_TIMES = 400
_P_UMINUS = 480
_P_DOT = 490
_P_STRINGJOIN = 600
_P_POWER = 590
_P_FACTORIAL = 610
_P_ATOM = 1000

# head -> (operator text, precedence); n-ary and flat.
_INFIX: dict[str, tuple[str, int]] = {
    "System`Rule": (" -> ", _P_RULE),
    "System`RuleDelayed": (" :> ", _P_RULE),
    "System`Set": (" = ", _P_SET),
    "System`SetDelayed": (" := ", _P_SET),
    "System`UpSet": (" ^= ", _P_SET),
    "System`UpSetDelayed": (" ^:= ", _P_SET),
    "System`Equal": (" == ", _P_COMPARE),
    "System`Unequal": (" != ", _P_COMPARE),
    "System`Less": (" < ", _P_COMPARE),
    "System`Greater": (" > ", _P_COMPARE),
    "System`LessEqual": (" <= ", _P_COMPARE),
    "System`GreaterEqual": (" >= ", _P_COMPARE),
    "System`SameQ": (" === ", _P_COMPARE),
    "System`UnsameQ": (" =!= ", _P_COMPARE),
    "System`And": (" && ", _P_AND),
    "System`Or": (" || ", _P_OR),
    "System`StringJoin": (" <> ", _P_STRINGJOIN),
    "System`Alternatives": (" | ", _P_ALTERNATIVES),
    "System`ReplaceAll": (" /. ", _P_REPLACE),
    "System`ReplaceRepeated": (" //. ", _P_REPLACE),
    "System`Condition": (" /; ", _P_CONDITION),
    "System`Dot": (".", _P_DOT),
    "System`AddTo": (" += ", _P_SET),
    "System`SubtractFrom": (" -= ", _P_SET),
    "System`TimesBy": (" *= ", _P_SET),
    "System`DivideBy": (" /= ", _P_SET),
    "System`Span": (";;", _P_SPAN),
    "System`NonCommutativeMultiply": (" ** ", _P_TIMES),
    "System`PatternTest": ("?", _P_ATOM - 10),
}

_BLANKS = {"System`Blank": "_", "System`BlankSequence": "__", "System`BlankNullSequence": "___"}

_OUTPUT_PLACEHOLDERS = {
    "System`Graphics": "-Graphics-",
    "System`Graphics3D": "-Graphics3D-",
    "System`Sound": "-Sound-",
}

# Wrappers that only change how their first argument looks.
_TRANSPARENT = frozenset(
    {
        "System`Short",
        "System`Shallow",
        "System`StandardForm",
        "System`TraditionalForm",
        "System`OutputForm",
        "System`Style",
        "System`Defer",
        "System`HoldForm",
    }
)


def format_machine_real(value: float) -> str:
    """Write a machine real as the Wolfram Language does: ``3.``, ``0.1``, ``1.5*^20``."""
    if math.isinf(value):
        # OutputForm's spelling; the codec's InputForm writes DirectedInfinity[...] instead.
        return "Infinity" if value > 0 else "-Infinity"
    return real_form(value)


def plain_machine_real(x: float) -> str | None:
    """OutputForm text of a machine real where it is plain decimal text (``3.14159``, ``100.``,
    ``0.000123457``): six significant digits, trailing zeros dropped, the point kept. This is
    the text Mathics3's OutputForm renderer gives (a test compares them on many values), about
    40 times faster; printing a list of a million reals depends on it. ``None`` outside
    1e-5 <= |x| < 1e6, where the renderer writes a power of ten and is asked instead.
    """
    if x == 0.0:
        return "0."
    if not 1e-5 <= abs(x) < 1e6:
        return None
    text = f"{x:.6g}"
    if "e" in text:  # rounded up to 1e6, or 1e-5 written as an exponent
        return None
    return text.rstrip("0") if "." in text else text + "."


def _format_precision_real(atom: PrecisionReal, with_precision: bool) -> str:
    digits = max(1, dps(atom.get_precision()))
    text = str(atom.value)
    mantissa, _, exponent = text.lower().partition("e")
    if "." not in mantissa:
        mantissa += "."
    mantissa = mantissa.rstrip("0") if "." in mantissa else mantissa
    if mantissa.endswith("-.") or mantissa == ".":
        mantissa = mantissa.replace(".", "0.")
    out = mantissa + (f"`{digits}." if with_precision else "")
    if exponent:
        out += f"*^{int(exponent)}"
    return out


# Heads this printer lays out itself in OutputForm (see the module docstring); a user's
# Format rule for one of them still goes to Mathics3.
_CORE_HEADS = frozenset(
    {
        "System`List", "System`Association", "System`Plus", "System`Times", "System`Power",
        "System`Not", "System`CompoundExpression", "System`Function", "System`Slot",
        "System`SlotSequence", "System`Pattern", "System`Part", "System`Factorial",
        "System`DirectedInfinity", "System`Increment", "System`Decrement", "System`Rational",
        "System`Complex", "System`Row", "System`InputForm", "System`FullForm", "System`TeXForm",
        "System`Skeleton", "System`StringForm",
        *_INFIX, *_BLANKS, *_OUTPUT_PLACEHOLDERS, *_TRANSPARENT,
    }
)  # fmt: skip
_OUTPUT_FORMATS = ("", "System`OutputForm")


class _Printer:
    def __init__(
        self, shorten: Shorten, *, output: bool, ascii_only: bool, evaluation: Any = None
    ) -> None:
        self.shorten = shorten
        self.output = output
        self.evaluation: Any = evaluation if output else None
        self._delegated: dict[str, bool] = {}
        self.ascii_only = ascii_only
        self.times_sep = " " if output else "*"

    # -- entry -------------------------------------------------------------------------
    def text(self, expr: Any, prec: int = 0) -> str:
        # render() inlined for compound expressions: each level of a deep expression costs
        # Python calls (text, compound, functional, args), and fewer calls print deeper ones.
        if isinstance(expr, Expression):
            body, own = self.compound(expr)
        else:
            body, own = self.render(expr)
        return f"({body})" if own < prec else body

    def render(self, expr: Any) -> tuple[str, int]:
        """Return the text of ``expr`` and the precedence of its outermost operator."""
        if isinstance(expr, Atom):
            return self.atom(expr)
        if isinstance(expr, Expression):
            return self.compound(expr)
        return str(expr), _P_ATOM

    # -- atoms -------------------------------------------------------------------------
    def atom(self, atom: Atom) -> tuple[str, int]:
        if isinstance(atom, Integer):
            v = atom.value
            return str(v), (_P_UMINUS if v < 0 else _P_ATOM)
        if isinstance(atom, MachineReal | PrecisionReal) and self.evaluation is not None:
            t = (isinstance(atom, MachineReal) and plain_machine_real(atom.value)) or str(
                mathics_outputform.real_render_output_form(atom, self.evaluation))
            return t, (_P_UMINUS if t.startswith("-") else _P_ATOM)
        if isinstance(atom, MachineReal):
            t = format_machine_real(atom.value)
            return t, (_P_UMINUS if t.startswith("-") else _P_ATOM)
        if isinstance(atom, PrecisionReal):
            t = _format_precision_real(atom, not self.output)
            return t, (_P_UMINUS if t.startswith("-") else _P_ATOM)
        if isinstance(atom, Rational):
            p, q = int(atom.value.p), int(atom.value.q)
            return f"{p}/{q}", (_P_UMINUS if p < 0 else _P_TIMES)
        if isinstance(atom, Complex):
            return self.complex(atom)
        if isinstance(atom, String):
            if self.output:
                return atom.value, _P_ATOM
            return string_form(atom.value, ascii_only=self.ascii_only), _P_ATOM
        if isinstance(atom, Symbol):
            if self.evaluation is not None and self.user_format(atom.get_name()):
                return self.mathics(atom)
            name = self.shorten(atom.get_name())
            return (ascii_escaped(name) if self.ascii_only else name), _P_ATOM
        if isinstance(atom, ByteArray):
            if self.output:
                return f"ByteArray[<{len(atom.value)}>]", _P_ATOM
            return f'ByteArray["{atom}"]', _P_ATOM
        cls = type(atom).__name__
        if cls == "Image":
            return "-Image-", _P_ATOM
        return str(atom), _P_ATOM

    def complex(self, atom: Complex) -> tuple[str, int]:
        re_part, im_part = atom.real, atom.imag
        if isinstance(im_part, Rational):
            # I/2, -I/2, 3 I/2 (the imaginary unit over the denominator, as Mathics3 and the
            # Wolfram Language write them), not 1/2 I
            p, q = int(im_part.value.p), int(im_part.value.q)
            negative = p < 0
            unit = "I" if abs(p) == 1 else f"{abs(p)}{self.times_sep}I"
            im_term = f"{unit}/{q}"
        else:
            im_text, _ = self.atom(im_part)
            negative = im_text.startswith("-")
            magnitude = im_text[1:] if negative else im_text
            im_term = "I" if magnitude == "1" else f"{magnitude}{self.times_sep}I"
        re_zero = isinstance(re_part, Integer) and re_part.value == 0
        if re_zero:
            if negative:
                return "-" + im_term, _P_UMINUS
            return im_term, (_P_ATOM if im_term == "I" else _P_TIMES)
        re_text, _ = self.atom(re_part)
        return f"{re_text} {'-' if negative else '+'} {im_term}", _P_PLUS

    # -- compound ----------------------------------------------------------------------
    def args(self, elements: tuple[Any, ...], sep: str = ", ") -> str:
        parts = []
        for element in elements:  # a loop, not a generator: one Python call less per level
            parts.append(self.text(element))
        return sep.join(parts)

    def functional(self, expr: Expression) -> tuple[str, int]:
        head = self.text(expr.head, _P_ATOM)
        return f"{head}[{self.args(expr.elements)}]", _P_ATOM

    def compound(self, expr: Expression) -> tuple[str, int]:
        name = expr.get_head_name()
        els: tuple[Any, ...] = expr.elements
        n = len(els)
        if self.evaluation is not None and name and self.delegates(name):
            return self.mathics(expr)
        if name == "System`List":
            return "{" + self.args(els) + "}", _P_ATOM
        if name == "System`Association":
            return "<|" + self.args(els) + "|>", _P_ATOM
        if name == "System`Plus" and n >= 2:
            return self.plus(els)
        if name == "System`Times" and n >= 2:
            return self.times(els)
        if name == "System`Power" and n == 2:
            return self.power(els[0], els[1])
        if name in _INFIX and n >= 2:
            op, p = _INFIX[name]
            if name == "System`Span" and n == 2:
                return f"{self.text(els[0], p + 1)};;{self.text(els[1], p + 1)}", p
            return op.join(self.text(e, p + 1) for e in els), p
        if name == "System`Not" and n == 1:
            return "!" + self.text(els[0], _P_NOT), _P_NOT
        if name == "System`CompoundExpression" and n >= 1:
            parts = [self.text(e, _P_COMPOUND + 1) for e in els]
            if els[-1] is Symbol("System`Null") or self.is_null(els[-1]):
                parts[-1] = ""
                return "; ".join(parts).rstrip(), _P_COMPOUND
            return "; ".join(parts), _P_COMPOUND
        if name == "System`Function" and n == 1:
            return self.text(els[0], _P_FUNCTION + 1) + " &", _P_FUNCTION
        if name == "System`Slot" and n == 1 and isinstance(els[0], Integer):
            return f"#{els[0].value}", _P_ATOM  # "#1", as the Wolfram Language writes "#"
        if name == "System`SlotSequence" and n == 1 and isinstance(els[0], Integer):
            return f"##{els[0].value}", _P_ATOM
        if name in _BLANKS and n <= 1:
            return _BLANKS[name] + (self.text(els[0], _P_ATOM) if n else ""), _P_ATOM
        if name == "System`Pattern" and n == 2 and isinstance(els[0], Symbol):
            inner = els[1]
            if isinstance(inner, Expression) and inner.get_head_name() in _BLANKS:
                return self.text(els[0], _P_ATOM) + self.text(inner, _P_ATOM), _P_ATOM
            return f"{self.text(els[0], _P_ATOM)}:{self.text(inner, _P_ATOM)}", _P_ATOM - 20
        if name == "System`Part" and n >= 2:
            return f"{self.text(els[0], _P_ATOM)}[[{self.args(els[1:])}]]", _P_ATOM
        if name == "System`Factorial" and n == 1:
            return self.text(els[0], _P_FACTORIAL + 1) + "!", _P_FACTORIAL
        if name == "System`DirectedInfinity":
            return self.infinity(expr)
        if name == "System`Increment" and n == 1:
            return self.text(els[0], _P_ATOM) + "++", _P_FACTORIAL
        if name == "System`Decrement" and n == 1:
            return self.text(els[0], _P_ATOM) + "--", _P_FACTORIAL
        if name == "System`Rational" and n == 2:
            return f"{self.text(els[0], _P_TIMES + 1)}/{self.text(els[1], _P_TIMES + 1)}", _P_TIMES
        head = expr.head
        if (
            isinstance(head, Expression)
            and head.get_head_name() == "System`Derivative"
            and len(head.elements) == 1
            and isinstance(head.elements[0], Integer)
            and 0 < head.elements[0].value < 5
            and n == 1
        ):
            return self.text(els[0], _P_ATOM) + "'" * head.elements[0].value, _P_ATOM
        if self.output:
            special = self.output_special(name, expr)
            if special is not None:
                return special
        elif name in ("System`InputForm", "System`FullForm") and n == 1:
            return self.text(els[0]), _P_ATOM
        return self.functional(expr)

    # -- Mathics3's OutputForm, where Format rules decide ---------------------------------
    def delegates(self, name: str) -> bool:
        """True when Mathics3 must lay out expressions with head ``name`` (cached per call)."""
        known = self._delegated.get(name)
        if known is None:
            if self.user_format(name):
                known = True
            elif name in _CORE_HEADS:
                known = False
            else:
                formats = self.evaluation.definitions.get_definition(name).formatvalues
                known = any(formats.get(f) for f in _OUTPUT_FORMATS) or (
                    name in mathics_outputform.EXPR_TO_OUTPUTFORM_TEXT_MAP
                )
            self._delegated[name] = known
        return known

    def user_format(self, name: str) -> bool:
        """The user has given ``name`` Format rules (for all forms or for OutputForm)."""
        definition = self.evaluation.definitions.user.get(name)
        if definition is None:
            return False
        return any(definition.formatvalues.get(f) for f in _OUTPUT_FORMATS)

    def mathics(self, expr: Any) -> tuple[str, int]:
        text = str(mathics_outputform.render_output_form(expr, self.evaluation, encoding="ASCII"))
        return text.rstrip("\n"), (_P_PLUS if _has_operator(text) else _P_ATOM)

    @staticmethod
    def is_zero(expr: Any) -> bool:
        return isinstance(expr, Integer) and expr.value == 0

    @staticmethod
    def is_null(expr: Any) -> bool:
        return isinstance(expr, Symbol) and expr.get_name() == "System`Null"

    def infinity(self, expr: Expression) -> tuple[str, int]:
        els = expr.elements
        if not els:
            return "ComplexInfinity", _P_ATOM
        d = els[0]
        if isinstance(d, Integer) and d.value == 1:
            return "Infinity", _P_ATOM
        if isinstance(d, Integer) and d.value == -1:
            return "-Infinity", _P_UMINUS
        return self.functional(expr)

    # -- arithmetic --------------------------------------------------------------------
    def plus(self, els: tuple[Any, ...]) -> tuple[str, int]:
        out = [self.text(els[0], _P_PLUS)]
        for term in els[1:]:
            text = self.text(term, _P_PLUS)
            if text.startswith("-") and not text.startswith("->"):
                out.append(" - " + text[1:])
            else:
                out.append(" + " + text)
        return "".join(out), _P_PLUS

    def times(self, els: tuple[Any, ...]) -> tuple[str, int]:
        num: list[str] = []
        den: list[str] = []
        negative = False
        for i, factor in enumerate(els):
            if i == 0 and isinstance(factor, Integer | MachineReal | PrecisionReal | Rational):
                if isinstance(factor, Rational):
                    p, q = int(factor.value.p), int(factor.value.q)
                    negative = p < 0
                    if abs(p) != 1:
                        num.append(str(abs(p)))
                    den.append(str(q))
                    continue
                if isinstance(factor, Integer) and factor.value == -1:
                    negative = True
                    continue
                text, _ = self.atom(factor)
                if text.startswith("-"):
                    negative, text = True, text[1:]
                num.append(text)
                continue
            if (
                isinstance(factor, Expression)
                and factor.get_head_name() == "System`Power"
                and len(factor.elements) == 2
                and self.is_negative_number(factor.elements[1])
            ):
                base, exp = factor.elements
                if isinstance(exp, Integer) and exp.value == -1:
                    den.append(self.text(base, _P_TIMES + 1))
                else:
                    den.append(self.power_text(base, self.negate(exp)))
                continue
            # A pure imaginary factor is itself a product (2 I): no parentheses in a product.
            pure_imaginary = isinstance(factor, Complex) and self.is_zero(factor.real)
            num.append(self.text(factor, _P_TIMES if pure_imaginary else _P_TIMES + 1))
        body = self.times_sep.join(num) if num else "1"
        if den:
            den_text = den[0] if len(den) == 1 else "(" + self.times_sep.join(den) + ")"
            body = f"{body}/{den_text}"
        if negative:
            return "-" + body, _P_UMINUS
        return body, _P_TIMES

    @staticmethod
    def is_negative_number(expr: Any) -> bool:
        if isinstance(expr, Integer | MachineReal | PrecisionReal):
            return bool(expr.value < 0)
        if isinstance(expr, Rational):
            return bool(expr.value < 0)
        return False

    @staticmethod
    def negate(expr: Any) -> Any:
        if isinstance(expr, Integer):
            return Integer(-expr.value)
        if isinstance(expr, MachineReal):
            return MachineReal(-expr.value)
        if isinstance(expr, Rational):
            return Rational(-expr.value.p, expr.value.q)
        return expr

    def power(self, base: Any, exp: Any) -> tuple[str, int]:
        if isinstance(exp, Rational) and exp.value.p == 1 and exp.value.q == 2:
            return f"Sqrt[{self.text(base)}]", _P_ATOM
        if isinstance(exp, Integer) and exp.value == -1:
            return f"1/{self.text(base, _P_TIMES + 1)}", _P_TIMES
        if self.is_negative_number(exp) and not (
            isinstance(exp, Rational) and exp.value.p == -1 and exp.value.q == 2
        ):
            return "1/" + self.power_text(base, self.negate(exp)), _P_TIMES
        return self.power_text(base, exp), _P_POWER

    def power_text(self, base: Any, exp: Any) -> str:
        if isinstance(exp, Integer) and exp.value == 1:
            return self.text(base, _P_TIMES + 1)
        if isinstance(exp, Rational) and exp.value.p == 1 and exp.value.q == 2:
            return f"Sqrt[{self.text(base)}]"
        # Power groups to the right: a^b^c is a^(b^c).
        return f"{self.text(base, _P_POWER + 1)}^{self.text(exp, _P_POWER)}"

    # -- OutputForm layout -------------------------------------------------------------
    def output_special(self, name: str, expr: Expression) -> tuple[str, int] | None:
        els = expr.elements
        if name in _OUTPUT_PLACEHOLDERS:
            return _OUTPUT_PLACEHOLDERS[name], _P_ATOM
        if name in _TRANSPARENT and els:
            return self.render(els[0])
        if name == "System`InputForm" and len(els) == 1:
            return to_text(els[0], self.shorten, output=False, ascii_only=self.ascii_only), _P_ATOM
        if name == "System`FullForm" and len(els) == 1:
            return full_form(els[0], self.shorten), _P_ATOM
        if name == "System`TeXForm" and len(els) == 1 and self.evaluation is not None:
            return _tex_writer(els[0], self.evaluation), _P_ATOM
        if name == "System`Row" and els and self.is_list(els[0]):
            sep = self.text(els[1]) if len(els) > 1 else ""
            return sep.join(self.text(e) for e in els[0].elements), _P_ATOM
        if name == "System`Column" and els and self.is_list(els[0]):
            return "\n".join(self.text(e) for e in els[0].elements), _P_ATOM
        if name in ("System`MatrixForm", "System`TableForm", "System`Grid") and els:
            return self.grid(els[0]), _P_ATOM
        if name == "System`StringForm" and els and isinstance(els[0], String):
            return self.string_form(els[0].value, els[1:]), _P_ATOM
        if name == "System`Skeleton" and len(els) == 1 and isinstance(els[0], Integer):
            return f"<<{els[0].value}>>", _P_ATOM  # n elements left out (Short, Shallow)
        return None

    @staticmethod
    def is_list(expr: Any) -> bool:
        return isinstance(expr, Expression) and expr.get_head_name() == "System`List"

    def grid(self, table: Any) -> str:
        if not self.is_list(table):
            return self.text(table)
        rows = [
            [self.text(c) for c in r.elements] if self.is_list(r) else [self.text(r)]
            for r in table.elements
        ]
        width = max((len(r) for r in rows), default=0)
        cols = [max((len(r[i]) for r in rows if i < len(r)), default=0) for i in range(width)]
        lines = ["   ".join(c.ljust(cols[i]) for i, c in enumerate(r)).rstrip() for r in rows]
        return "\n".join(lines)

    def string_form(self, template: str, args: tuple[Any, ...]) -> str:
        out: list[str] = []
        i = 0
        auto = 0
        while i < len(template):
            ch = template[i]
            if ch == "`":
                j = template.find("`", i + 1)
                if j < 0:
                    out.append(template[i:])
                    break
                key = template[i + 1 : j]
                if key == "":
                    auto += 1
                    index = auto
                elif key.isdigit():
                    index = int(key)
                else:
                    out.append(template[i : j + 1])
                    i = j + 1
                    continue
                if 1 <= index <= len(args):
                    out.append(self.text(args[index - 1]))
                i = j + 1
                continue
            out.append(ch)
            i += 1
        return "".join(out)


def _has_operator(text: str) -> bool:
    """True if ``text`` has a space or an operator character outside brackets and strings."""
    depth = 0
    for ch in text:
        if ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
        elif depth == 0 and ch in " +-*/^<>=|&;!":
            return True
    return False



def _no_tex_writer(expr: Any, evaluation: Any) -> str:
    raise RuntimeError("wstp_jupyter.engine._texform was not imported")


# The TeX writer (``_texform``) builds on this module's text printer, so it registers itself
# here when imported (``_render`` and ``_outputform`` import it) instead of this module
# importing it: a TeXForm inside a text result is written with it.
_tex_writer: Callable[[Any, Any], str] = _no_tex_writer


def set_tex_writer(writer: Callable[[Any, Any], str]) -> None:
    """Install the function that writes ``TeXForm[e]`` met inside a text result."""
    global _tex_writer
    _tex_writer = writer


def to_text(
    expr: Any,
    shorten: Shorten | None = None,
    *,
    output: bool = False,
    ascii_only: bool = True,
    evaluation: Any = None,
) -> str:
    """Write ``expr`` as Wolfram Language text.

    Args:
        expr: a Mathics3 element.
        shorten: maps a full symbol name to the name to print (usually
            ``definitions.shorten_name``); by default the context is dropped for ``System`` and
            ``Global`` symbols only.
        output: OutputForm conventions (strings unquoted, ``-Graphics-``, ``Row``/``Column``,
            ``StringForm``) instead of InputForm.
        ascii_only: escape non-ASCII characters as ``\\:xxxx`` (InputForm strings and symbols).
        evaluation: with ``output``, an ``Evaluation`` over the session's definitions: reals
            get OutputForm's digits and ``Format`` rules apply (see the module docstring). It
            evaluates format rules, so it must not be in use by another thread.

    Returns:
        The text; in InputForm it parses back to ``expr``.
    """
    printer = _Printer(
        shorten or default_shorten, output=output, ascii_only=ascii_only, evaluation=evaluation
    )
    return printer.text(expr)


def default_shorten(name: str) -> str:
    """Drop the ``System``` and ``Global``` contexts; keep any other."""
    for ctx in ("System`", "Global`"):
        if name.startswith(ctx) and "`" not in name[len(ctx) :]:
            return name[len(ctx) :]
    return name


def full_form(expr: Any, shorten: Shorten | None = None) -> str:
    """Write ``expr`` in FullForm (ASCII, ``List[...]`` spelled out)."""
    sh = shorten or default_shorten
    if isinstance(expr, Expression):
        head = full_form(expr.head, sh)
        return f"{head}[{', '.join(full_form(e, sh) for e in expr.elements)}]"
    if isinstance(expr, Rational):
        return f"Rational[{int(expr.value.p)}, {int(expr.value.q)}]"
    if isinstance(expr, Complex):
        return f"Complex[{full_form(expr.real, sh)}, {full_form(expr.imag, sh)}]"
    return to_text(expr, sh)
