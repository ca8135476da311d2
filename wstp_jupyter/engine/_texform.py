"""TeX for a result, written the way the Wolfram Language's ``TeXForm`` writes it.

Mathics3's own TeX writes every named function as ``\\text{Sin}[x]`` (or ``\\text{Sin}(x)`` in
TraditionalForm), which no notebook typesets as mathematics; this writer produces what
``TeXForm`` gives in Wolfram's kernel: ``\\sin (x)``, ``\\log (x)``, ``\\tan ^{-1}(x)``,
``\\Gamma (x)``, ``\\sqrt{x}``, ``\\frac{a}{b}``, ``e^x``, ``\\pi``, ``\\infty``, ``\\alpha``,
``\\{1,2,3\\}``, ``a\\to b``, ``x\\geq y``, ``\\left| x\\right|``, ``f'(x)``, ``\\sum`` and
``\\int`` of unevaluated sums and integrals, series as
``1+x+\\frac{x^2}{2}+O\\left(x^3\\right)``, ``\\tilde{\\infty}``, ``2 i \\pi``,
``\\underset{x\\to 0}{\\text{lim}}f(x)``, ``a_{i,j}``, ``z^*``, ``J_n(x)``, ``\\mathbb{R}``,
matrices as an ``array`` in ``\\left(...\\right)`` and patterns and slots as text
(``\\text{p$\\_$}``, ``\\text{$\\#$1}^2\\&``).

How it works: :func:`tex_form` walks the expression tree once, as ``_forms`` does for text. Each
node returns its TeX and the precedence of its outermost operator; a child is parenthesised
(``(...)``) when its precedence is below what its position requires. Reals are
written with OutputForm's digits (six significant digits for machine reals), taken from
Mathics3's OutputForm renderer. Heads without a rule here print as ``f(x,y)`` (one-letter
names) or ``\\text{name}(x,y)``.
"""

from __future__ import annotations

from typing import Any

from mathics.core.atoms import Complex, Integer, MachineReal, PrecisionReal, Rational, String
from mathics.core.expression import Expression
from mathics.core.symbols import Atom, Symbol
from mathics.format.form.outputform import render_output_form

from wstp_jupyter.engine._forms import set_tex_writer, to_text

_P_FUNCTION = 90
_P_RULE = 120
_P_OR = 215
_P_AND = 220
_P_NOT = 230
_P_COMPARE = 290
_P_PLUS = 310
_P_TIMES = 400
_P_UMINUS = 480
_P_POWER = 590
_P_FACTORIAL = 610
_P_APPLY = 670
_P_ATOM = 1000

_GREEK = {
    chr(0x3B1 + i): "\\" + name
    for i, name in enumerate(
        (
            "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota",
            "kappa", "lambda", "mu", "nu", "xi", "o", "pi", "rho", "varsigma", "sigma", "tau",
            "upsilon", "phi", "chi", "psi", "omega",
        )
    )
}
_GREEK.update(
    {
        "Γ": "\\Gamma", "Δ": "\\Delta", "Θ": "\\Theta", "Λ": "\\Lambda", "Ξ": "\\Xi",
        "Π": "\\Pi", "Σ": "\\Sigma", "\u03a5": "\\Upsilon", "Φ": "\\Phi", "Ψ": "\\Psi",
        "Ω": "\\Omega", "ϕ": "\\phi", "ϵ": "\\epsilon",
    }
)  # fmt: skip

_SYMBOLS = {
    "System`Pi": "\\pi",
    "System`E": "e",
    "System`I": "i",
    "System`Infinity": "\\infty",
    "System`ComplexInfinity": "\\tilde{\\infty}",
    "System`Degree": "{}^{\\circ}",
    "System`EulerGamma": "\\gamma",
    "System`GoldenRatio": "\\phi",
    "System`Catalan": "C",
    "System`Reals": "\\mathbb{R}",
    "System`Integers": "\\mathbb{Z}",
    "System`Complexes": "\\mathbb{C}",
    "System`Rationals": "\\mathbb{Q}",
    "System`Primes": "\\mathbb{P}",
    "System`Algebraics": "\\mathbb{A}",
    "System`Booleans": "\\mathbb{B}",
    "System`True": "\\text{True}",
    "System`False": "\\text{False}",
}

# Functions TeX has an operator name for: head -> TeX operator, written as "\sin (x)".
_OPERATORS = {
    **{f"System`{n}": f"\\{n.lower()}" for n in (
        "Sin", "Cos", "Tan", "Cot", "Sec", "Csc", "Sinh", "Cosh", "Tanh", "Coth",
        "Log", "Exp", "Det", "Max", "Min", "Sup", "Inf", "Gcd",
    )},
    "System`ArcSin": "\\sin ^{-1}", "System`ArcCos": "\\cos ^{-1}",
    "System`ArcTan": "\\tan ^{-1}", "System`ArcCot": "\\cot ^{-1}",
    "System`ArcSec": "\\sec ^{-1}", "System`ArcCsc": "\\csc ^{-1}",
    "System`ArcSinh": "\\sinh ^{-1}", "System`ArcCosh": "\\cosh ^{-1}",
    "System`ArcTanh": "\\tanh ^{-1}", "System`ArcCoth": "\\coth ^{-1}",
    "System`Sech": "\\text{sech}", "System`Csch": "\\text{csch}",
    "System`Gamma": "\\Gamma", "System`Zeta": "\\zeta", "System`Beta": "\\beta",
    "System`PolyGamma": "\\psi", "System`Erf": "\\text{erf}", "System`Erfc": "\\text{erfc}",
    "System`GCD": "\\gcd", "System`Re": "\\Re", "System`Im": "\\Im", "System`Arg": "\\arg",
    "System`Limit": "\\lim", "System`Mod": "\\bmod",
    "System`AiryAi": "\\text{Ai}", "System`AiryBi": "\\text{Bi}",
}  # fmt: skip

# Functions written with their first argument as a subscript: BesselJ[n, x] -> "J_n(x)".
_INDEXED = {
    "System`BesselJ": ("J", ""), "System`BesselY": ("Y", ""),
    "System`BesselI": ("I", ""), "System`BesselK": ("K", ""),
    "System`SphericalBesselJ": ("j", ""), "System`SphericalBesselY": ("y", ""),
    "System`HankelH1": ("H", "^{(1)}"), "System`HankelH2": ("H", "^{(2)}"),
    "System`SphericalHankelH1": ("h", "^{(1)}"), "System`SphericalHankelH2": ("h", "^{(2)}"),
}  # fmt: skip

# Patterns have no mathematical notation; TeXForm writes their input text as text.
_PATTERNS = frozenset(
    f"System`{n}" for n in ("Pattern", "Blank", "BlankSequence", "BlankNullSequence",
                            "Optional", "PatternTest", "Condition")
)  # fmt: skip

_INFIX = {
    "System`Rule": ("\\to ", _P_RULE),
    "System`RuleDelayed": (":\\to ", _P_RULE),
    "System`Equal": ("=", _P_COMPARE),
    "System`Unequal": ("\\neq ", _P_COMPARE),
    "System`Less": ("<", _P_COMPARE),
    "System`Greater": (">", _P_COMPARE),
    "System`LessEqual": ("\\leq ", _P_COMPARE),
    "System`GreaterEqual": ("\\geq ", _P_COMPARE),
    "System`SameQ": ("===", _P_COMPARE),
    "System`UnsameQ": ("=!=", _P_COMPARE),
    "System`And": ("\\land ", _P_AND),
    "System`Or": ("\\lor ", _P_OR),
    "System`Dot": (".", _P_TIMES + 50),
    "System`Cross": ("\\times ", _P_TIMES + 50),
    "System`Element": ("\\in ", _P_COMPARE),
    "System`Set": ("=", 40),
    "System`SetDelayed": (":=", 40),
}

_TEX_FORMATS = ("", "System`TeXForm")

# Characters that TeX's text mode does not take literally; each is written in math mode,
# inside the text, as TeXForm does (``\text{$\#$1}``), which LaTeX and MathJax both read.
_TEXT_SPECIALS = {
    "\\": "\\backslash ", "{": "\\{", "}": "\\}", "&": "\\&", "#": "\\#",
    "%": "\\%", "_": "\\_", "^": "\\wedge ", "~": "\\sim ",
}  # fmt: skip


def tex_form(expr: Any, evaluation: Any) -> str:
    """Return ``expr`` as TeX math (no ``$`` delimiters), as ``TeXForm`` writes it.

    Args:
        expr: a Mathics3 element.
        evaluation: an ``Evaluation`` used to write reals with OutputForm's digits and to
            shorten symbol names by the session's context path.
    """
    return _TeX(evaluation).tex(expr)


def text(s: str) -> str:
    """``s`` as ``\\text{...}``, TeX's special characters written in math mode (``$\\_$``)."""
    out: list[str] = []
    math: list[str] = []
    for ch in s:
        if ch in _TEXT_SPECIALS:
            math.append(_TEXT_SPECIALS[ch])
            continue
        if math:
            out.append("$" + "".join(math) + "$")
            math = []
        out.append("\\$" if ch == "$" else ch)
    if math:
        out.append("$" + "".join(math) + "$")
    return "\\text{" + "".join(out) + "}"


class _TeX:
    def __init__(self, evaluation: Any) -> None:
        self.evaluation = evaluation
        self.shorten = evaluation.definitions.shorten_name

    def tex(self, expr: Any, prec: int = 0) -> str:
        body, own = self.render(expr)
        return f"({body})" if own < prec else body

    def render(self, expr: Any) -> tuple[str, int]:
        formatted = self.user_format(expr)
        if formatted is not None:
            return self.render(formatted)
        if isinstance(expr, Atom):
            return self.atom(expr)
        if isinstance(expr, Expression):
            return self.compound(expr)
        return text(str(expr)), _P_ATOM

    def user_format(self, expr: Any) -> Any:
        """What the user's ``Format`` rules (for all forms or for TeXForm) make of ``expr``,
        or None when none applies."""
        name = expr.get_lookup_name() if isinstance(expr, Expression | Symbol) else ""
        definition = self.evaluation.definitions.user.get(name) if name else None
        if definition is None:
            return None
        rules = [r for f in _TEX_FORMATS for r in definition.formatvalues.get(f, ())]
        for rule in sorted(rules, key=lambda r: r.pattern_precedence):
            result = rule.apply(expr, self.evaluation)
            if result is not None and result != expr:
                return result.evaluate(self.evaluation)
        return None

    # -- atoms -------------------------------------------------------------------------
    def atom(self, atom: Atom) -> tuple[str, int]:
        if isinstance(atom, Integer):
            return str(atom.value), (_P_UMINUS if atom.value < 0 else _P_ATOM)
        if isinstance(atom, MachineReal | PrecisionReal):
            out = str(render_output_form(atom, self.evaluation))
            mantissa, times, exponent = out.partition("\u00d710^")  # "1.5", times sign, "10^20"
            if times:
                out = f"{mantissa}\\times 10^{{{exponent}}}"
            return out, (_P_UMINUS if out.startswith("-") else _P_ATOM)
        if isinstance(atom, Rational):
            p, q = int(atom.value.p), int(atom.value.q)
            frac = f"\\frac{{{abs(p)}}}{{{q}}}"
            return ("-" + frac, _P_UMINUS) if p < 0 else (frac, _P_ATOM)
        if isinstance(atom, Complex):
            return self.complex(atom)
        if isinstance(atom, String):
            return text(atom.value), _P_ATOM
        if isinstance(atom, Symbol):
            return self.symbol(atom.get_name()), _P_ATOM
        return text(str(atom)), _P_ATOM

    def symbol(self, name: str) -> str:
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        short = self.shorten(name)
        if len(short) == 1:
            return _GREEK.get(short, short)
        if all(ch in _GREEK for ch in short):
            return " ".join(_GREEK[ch] for ch in short)
        return text(short)

    def complex(self, atom: Complex) -> tuple[str, int]:
        negative, num, den = self.imaginary(atom.imag)
        im_term = f"\\frac{{{num}}}{{{den}}}" if den else num
        if _is_zero(atom.real):
            return ("-" if negative else "") + im_term, _imaginary_precedence(negative, num, den)
        re_tex, _ = self.atom(atom.real)
        return f"{re_tex}{'-' if negative else '+'}{im_term}", _P_PLUS

    def imaginary(self, im: Any) -> tuple[bool, str, str]:
        """The imaginary part ``im`` as (negative, numerator, denominator) of ``im i``:
        ``1/2`` is ``i`` over ``2``, as TeXForm writes ``I/2`` (``\\frac{i}{2}``)."""
        if isinstance(im, Rational):
            p, q = int(im.value.p), int(im.value.q)
            return p < 0, ("i" if abs(p) == 1 else f"{abs(p)} i"), str(q)
        magnitude, _ = self.atom(im)
        negative = magnitude.startswith("-")
        magnitude = magnitude.lstrip("-")
        return negative, ("i" if magnitude == "1" else f"{magnitude} i"), ""

    # -- compound ----------------------------------------------------------------------
    def args(self, elements: tuple[Any, ...]) -> str:
        return ",".join(self.tex(e) for e in elements)

    def compound(self, expr: Expression) -> tuple[str, int]:
        name = expr.get_head_name()
        els: tuple[Any, ...] = expr.elements
        n = len(els)
        if name in ("System`HoldForm", "System`Defer", "System`TraditionalForm",
                    "System`StandardForm", "System`OutputForm", "System`Style",
                    "System`PrecedenceForm") and n >= 1:
            return self.render(els[0])  # fmt: skip
        if name == "System`List":
            if _is_matrix(els):
                return self.matrix(expr), _P_ATOM
            return "\\{" + self.args(els) + "\\}", _P_ATOM
        if name == "System`Plus" and n >= 2:
            return self.plus(els)
        if name == "System`Times" and n >= 2:
            return self.times(els)
        if name == "System`Power" and n == 2:
            return self.power(els[0], els[1])
        if name == "System`Sqrt" and n == 1:
            return f"\\sqrt{{{self.tex(els[0])}}}", _P_ATOM
        if name in _INFIX and n >= 2:
            op, p = _INFIX[name]
            return op.join(self.tex(e, p + 1) for e in els), p
        if name == "System`Not" and n == 1:
            return "\\neg " + self.tex(els[0], _P_NOT), _P_NOT
        if name == "System`DirectedInfinity" and n <= 1:
            return self.infinity(els)
        if name == "System`Abs" and n == 1:
            return f"\\left| {self.tex(els[0])}\\right|", _P_ATOM
        if name == "System`Floor" and n == 1:
            return f"\\lfloor {self.tex(els[0])}\\rfloor", _P_ATOM
        if name == "System`Ceiling" and n == 1:
            return f"\\lceil {self.tex(els[0])}\\rceil", _P_ATOM
        if name == "System`Factorial" and n == 1:
            return self.tex(els[0], _P_FACTORIAL + 1) + "!", _P_FACTORIAL
        if name == "System`Binomial" and n == 2:
            return f"\\binom{{{self.tex(els[0])}}}{{{self.tex(els[1])}}}", _P_ATOM
        if name == "System`Log" and n == 2:
            return f"\\log _{{{self.tex(els[0])}}}({self.tex(els[1])})", _P_APPLY
        if name in ("System`Subscript", "System`Superscript") and n >= 2:
            mark = "_" if name == "System`Subscript" else "^"
            return f"{self.tex(els[0], _P_ATOM)}{mark}{_braced(self.args(els[1:]))}", _P_POWER
        if name == "System`Conjugate" and n == 1:
            return self.tex(els[0], _P_POWER + 1) + "^*", _P_POWER
        if name in _INDEXED and n == 2:
            letter, mark = _INDEXED[name]
            return f"{letter}_{_braced(self.tex(els[0]))}{mark}({self.tex(els[1])})", _P_APPLY
        if name == "System`Limit" and n == 2 and els[1].has_form("Rule", 2):
            under = self.tex(els[1])
            return f"\\underset{{{under}}}{{\\text{{lim}}}}{self.tex(els[0], _P_TIMES)}", _P_PLUS
        if name in _PATTERNS:
            return text(to_text(expr, self.shorten)), _P_ATOM
        if name == "System`Function" and n == 1:
            return self.tex(els[0], _P_FUNCTION + 1) + "\\&", _P_FUNCTION
        if name == "System`Slot" and n == 1 and isinstance(els[0], Integer):
            return text(f"#{els[0].value}"), _P_ATOM
        if name in ("System`MatrixForm", "System`TableForm") and n >= 1:
            return self.matrix(els[0]), _P_ATOM
        if name == "System`SeriesData" and n == 6:
            return self.series(els)
        if name == "System`Quantity" and n == 2:
            unit = els[1].value if isinstance(els[1], String) else self.tex(els[1])
            return f"{self.tex(els[0], _P_TIMES)}\\text{{ }}{text(str(unit))}", _P_TIMES
        if name in ("System`Sum", "System`Product", "System`Integrate") and n >= 2:
            return self.big_operator(name, els)
        if name == "System`Rational" and n == 2:
            return f"\\frac{{{self.tex(els[0])}}}{{{self.tex(els[1])}}}", _P_ATOM
        derivative = self.derivative(expr)
        if derivative is not None:
            return derivative
        return self.function(expr)

    def function(self, expr: Expression) -> tuple[str, int]:
        name = expr.get_head_name()
        args = self.args(expr.elements)
        if name in _OPERATORS:
            return f"{_call(_OPERATORS[name])}({args})", _P_APPLY
        if name in ("System`Hold", "System`HoldComplete", "System`Unevaluated"):
            return f"{text(self.shorten(name))}[{args}]", _P_ATOM
        head = self.tex(expr.head, _P_APPLY) if name == "" else self.symbol(name)
        return f"{head}({args})", _P_APPLY

    def derivative(self, expr: Expression) -> tuple[str, int] | None:
        head = expr.head
        if not (isinstance(head, Expression) and isinstance(head.head, Expression)):
            return None
        if head.head.get_head_name() != "System`Derivative":
            return None
        orders = head.head.elements
        fn = self.tex(head.elements[0], _P_ATOM) if len(head.elements) == 1 else None
        if fn is None:
            return None
        if len(orders) == 1 and isinstance(orders[0], Integer) and 0 < orders[0].value < 4:
            mark = "'" * orders[0].value
        else:
            mark = "^{(" + ",".join(self.tex(o) for o in orders) + ")}"
        return f"{fn}{mark}({self.args(expr.elements)})", _P_APPLY

    def infinity(self, els: tuple[Any, ...]) -> tuple[str, int]:
        """``DirectedInfinity[z]``: ``\\infty``, ``-\\infty``, ``i \\infty``; without a
        direction (``ComplexInfinity``) ``\\tilde{\\infty}``."""
        if not els:
            return "\\tilde{\\infty}", _P_ATOM
        if _is_one(els[0]):
            return "\\infty", _P_ATOM
        factors = els[0].elements if els[0].has_form("Times", None) else (els[0],)
        return self.times((*factors, Symbol("System`Infinity")))

    # -- arithmetic --------------------------------------------------------------------
    def plus(self, els: tuple[Any, ...]) -> tuple[str, int]:
        out = self.tex(els[0], _P_PLUS)
        for term in els[1:]:
            t = self.tex(term, _P_PLUS)
            out += t if t.startswith("-") else "+" + t
        return out, _P_PLUS

    def times(self, els: tuple[Any, ...]) -> tuple[str, int]:
        num: list[str] = []
        den: list[str] = []
        negative = False
        for i, factor in enumerate(els):
            if i == 0 and isinstance(factor, Integer) and factor.value == -1:
                negative = True
                continue
            if i == 0 and isinstance(factor, Rational):
                p, q = int(factor.value.p), int(factor.value.q)
                negative = p < 0
                if abs(p) != 1:
                    num.append(str(abs(p)))
                den.append(str(q))
                continue
            if i == 0 and isinstance(factor, Complex) and _is_zero(factor.real):
                # 2 I Pi -> "2 i \pi", I x/4 -> "\frac{i x}{4}": i joins the coefficient
                negative, im_num, im_den = self.imaginary(factor.imag)
                num.append(im_num)
                if im_den:
                    den.append(im_den)
                continue
            if i == 0 and isinstance(factor, Integer | MachineReal | PrecisionReal):
                t, _ = self.atom(factor)
                if t.startswith("-"):
                    negative, t = True, t[1:]
                num.append(t)
                continue
            exp = factor.elements[1] if factor.has_form("Power", 2) else None
            if exp is not None and _negative_number(exp):
                base = factor.elements[0]
                positive = _negate(exp)
                den.append(self.tex(base) if _is_one(positive) else self.power(base, positive)[0])
                continue
            num.append(self.tex(factor, _P_TIMES + 1))
        body = " ".join(num) if num else "1"
        if den:
            body = f"\\frac{{{body}}}{{{' '.join(den)}}}"
        if negative:
            return "-" + body, _P_UMINUS
        return body, (_P_ATOM if den and len(num) <= 1 else _P_TIMES)

    def power(self, base: Any, exp: Any) -> tuple[str, int]:
        if isinstance(exp, Rational) and int(exp.value.p) == 1:
            q = int(exp.value.q)
            root = "\\sqrt" if q == 2 else f"\\sqrt[{q}]"
            return f"{root}{{{self.tex(base)}}}", _P_ATOM
        if _negative_number(exp):
            positive = _negate(exp)
            inner = self.tex(base) if _is_one(positive) else self.power(base, positive)[0]
            return f"\\frac{{1}}{{{inner}}}", _P_ATOM
        name = base.get_head_name() if isinstance(base, Expression) else ""
        if name in _OPERATORS and not name.startswith("System`Arc") and len(base.elements) == 1:
            # Sin[x]^2 -> \sin ^2(x), as TeXForm writes it
            arg = self.tex(base.elements[0])
            return f"{_OPERATORS[name]} ^{_braced(self.tex(exp))}({arg})", _P_APPLY
        b = self.tex(base, _P_POWER + 1)
        e = self.tex(exp)
        return f"{b}^{_braced(e)}", _P_POWER

    # -- layouts -----------------------------------------------------------------------
    def matrix(self, table: Any) -> str:
        """A table as TeXForm writes a matrix: an ``array`` in parentheses, one row a line."""
        rows = table.elements if table.has_form("List", None) else (table,)
        cells = [r.elements if r.has_form("List", None) else (r,) for r in rows]
        width = max((len(r) for r in cells), default=0)
        body = "".join(" " + " & ".join(self.tex(c) for c in r) + " \\\\\n" for r in cells)
        return f"\\left(\n\\begin{{array}}{{{'c' * width}}}\n{body}\\end{{array}}\n\\right)"

    def series(self, els: tuple[Any, ...]) -> tuple[str, int]:
        x, x0, coefficients, nmin, nmax, den = els
        if not (coefficients.has_form("List", None) and isinstance(nmin, Integer)
                and isinstance(nmax, Integer) and isinstance(den, Integer)):
            return self.function(Expression(Symbol("System`SeriesData"), *els))  # fmt: skip
        var = x if _is_zero(x0) else Expression(Symbol("System`Plus"), x, _negate_expr(x0))
        terms = []
        for k, c in enumerate(coefficients.elements):
            if _is_zero(c):
                continue
            power = Rational(nmin.value + k, den.value)
            terms.append(_times(c, _power(var, power)))
        order = _power(var, Rational(nmax.value, den.value))
        big_o = f"O\\left({self.tex(order)}\\right)"
        if not terms:
            return big_o, _P_APPLY
        head, _ = self.plus(tuple(terms)) if len(terms) > 1 else self.render(terms[0])
        return f"{head}+{big_o}", _P_PLUS

    def big_operator(self, name: str, els: tuple[Any, ...]) -> tuple[str, int]:
        body, spec = els[0], els[1]
        if name == "System`Integrate":
            if spec.has_form("List", 3):
                v, lo, hi = spec.elements
                return (f"\\int_{{{self.tex(lo)}}}^{{{self.tex(hi)}}} "
                        f"{self.tex(body, _P_TIMES)} \\, d{self.tex(v)}"), _P_PLUS  # fmt: skip
            return f"\\int {self.tex(body, _P_TIMES)} \\, d{self.tex(spec)}", _P_PLUS
        op = "\\sum" if name == "System`Sum" else "\\prod"
        if spec.has_form("List", 3):
            v, lo, hi = spec.elements
            limits = f"_{{{self.tex(v)}={self.tex(lo)}}}^{_braced(self.tex(hi))}"
        else:
            limits = f"_{{{self.tex(spec)}}}"
        return f"{op} {limits} {self.tex(body, _P_TIMES)}", _P_PLUS


def _call(operator: str) -> str:
    """An operator name before its parenthesised argument: ``\\sin (``, but ``^{-1}(``."""
    return operator + " " if operator[-1].isalpha() else operator


def _is_matrix(rows: tuple[Any, ...]) -> bool:
    """Whether a list's elements are equally long, non-empty lists of non-lists: a matrix,
    which TeXForm writes as an array (``{{a, b}, {c, d}}``), not as nested braces."""
    if not rows or not all(r.has_form("List", None) for r in rows):
        return False
    width = len(rows[0].elements)
    return width > 0 and all(
        len(r.elements) == width and not any(c.has_form("List", None) for c in r.elements)
        for r in rows
    )


def _imaginary_precedence(negative: bool, num: str, den: str) -> int:
    if negative:
        return _P_UMINUS
    return _P_ATOM if den or num == "i" else _P_TIMES


def _braced(tex: str) -> str:
    """A superscript or subscript: one character bare, anything longer in braces."""
    return tex if len(tex) == 1 else "{" + tex + "}"


def _is_zero(x: Any) -> bool:
    return isinstance(x, Integer) and x.value == 0


def _is_one(x: Any) -> bool:
    return isinstance(x, Integer) and x.value == 1


def _negative_number(x: Any) -> bool:
    return isinstance(x, Integer | MachineReal | PrecisionReal | Rational) and bool(x.value < 0)


def _negate(x: Any) -> Any:
    if isinstance(x, Integer):
        return Integer(-x.value)
    if isinstance(x, Rational):
        return Rational(-x.value.p, x.value.q)
    if isinstance(x, MachineReal):
        return MachineReal(-x.value)
    return x


def _negate_expr(x: Any) -> Any:
    if isinstance(x, Integer | Rational | MachineReal):
        return _negate(x)
    return Expression(Symbol("System`Times"), Integer(-1), x)


def _power(base: Any, exp: Rational | Integer) -> Any:
    if isinstance(exp, Rational) and int(exp.value.q) == 1:
        exp = Integer(int(exp.value.p))
    if isinstance(exp, Integer) and exp.value == 1:
        return base
    if isinstance(exp, Integer) and exp.value == 0:
        return Integer(1)
    return Expression(Symbol("System`Power"), base, exp)


def _times(c: Any, x: Any) -> Any:
    if _is_one(x):
        return c
    if _is_one(c):
        return x
    return Expression(Symbol("System`Times"), c, x)


set_tex_writer(tex_form)
