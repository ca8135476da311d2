"""Values with no exact built-in Python counterpart: big reals, associations, numeric arrays.

``BigReal`` keeps the Wolfram Language number text it was read from (``"1.5`20."``,
``"2.``30.*^-7"``), so a value read from WXF is written back byte for byte; its numeric parts are
parsed once, at construction, with one regular expression. ``Association`` keeps its rules in order,
delayed or not, for the cases a ``dict`` cannot hold. ``NumericArray`` marks a numpy array that must
travel as a WL ``NumericArray`` rather than a packed array.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final

from wstp_jupyter.wxf._constants import ARRAY_TYPES, DTYPE_CODES, TYPE_NAMES
from wstp_jupyter.wxf._errors import WXFError
from wstp_jupyter.wxf._model import RULE, RULE_DELAYED, Expr, deep_equal, input_text

if TYPE_CHECKING:
    import numpy as np

# WL number text: sign, digits with an optional point, optional `precision or ``accuracy
# (the number after the marks may be missing, meaning machine precision), optional *^exponent.
_NUMBER: Final = re.compile(
    r"(-?)(\d+\.?\d*|\.\d+)"
    r"(?:(``?)(-?(?:\d+\.?\d*|\.\d+))?)?"
    r"(?:\*\^(-?\d+))?"
)


def _mark(value: float) -> str:
    return f"{int(value)}." if float(value).is_integer() else repr(float(value))


class BigReal:
    """An arbitrary-precision real that keeps its digits and its precision or accuracy.

    Args:
        value: WL number text (``"3.14159265358979323846`20."``, ``"1.5``10*^3"``) when neither
            ``precision`` nor ``accuracy`` is given; otherwise a ``str``, ``Decimal``, ``int`` or
            ``float`` whose decimal digits are kept exactly.
        precision: significant decimal digits (WL's ``Precision``).
        accuracy: digits after the decimal point (WL's ``Accuracy``); exclusive with precision.

    Raises:
        WXFError: the text is not a WL number, or both precision and accuracy are given.

    ``.text`` is the exact WXF payload. Two big reals are equal when value, precision and accuracy
    are; ``float()`` and :meth:`to_decimal` convert.
    """

    __slots__ = ("_accuracy", "_precision", "_text", "_value")

    _text: str
    _value: Decimal
    _precision: float | None
    _accuracy: float | None

    def __init__(
        self,
        value: str | Decimal | int | float,
        precision: float | None = None,
        *,
        accuracy: float | None = None,
    ) -> None:
        if precision is not None and accuracy is not None:
            raise WXFError("give either precision or accuracy, not both")
        if precision is None and accuracy is None and isinstance(value, str):
            self._parse(value)
            return
        if isinstance(value, str):
            try:
                dec = Decimal(value)
            except InvalidOperation:
                raise WXFError(f"not a decimal number: {value!r}") from None
        elif isinstance(value, bool) or not isinstance(value, Decimal | int | float):
            raise WXFError(f"cannot make a BigReal from {type(value).__name__}")
        else:
            dec = Decimal(value)
        if not dec.is_finite():
            raise WXFError(f"a BigReal must be finite, not {dec}")
        if precision is None and accuracy is None:
            precision = float(max(len(dec.as_tuple().digits), 1))
        mark = f"`{_mark(precision)}" if precision is not None else f"``{_mark(accuracy or 0.0)}"
        if -64 <= dec.adjusted() <= 64:
            body = f"{dec:f}"
            self._parse(body + ("" if "." in body else ".") + mark)
        else:
            sign, digits, exponent = dec.as_tuple()
            assert isinstance(exponent, int)
            mantissa = "".join(map(str, digits))
            scale = exponent + len(mantissa) - 1
            self._parse(f"{'-' if sign else ''}{mantissa[0]}.{mantissa[1:]}{mark}*^{scale}")

    def _parse(self, text: str) -> None:
        m = _NUMBER.fullmatch(text)
        if m is None:
            raise WXFError(f"not a Wolfram Language real number: {text[:80]!r}")
        sign, mantissa, marks, mark_value, exponent = m.groups()
        try:
            value = Decimal(sign + mantissa + (f"E{exponent}" if exponent else ""))
            digits = float(mark_value) if mark_value else None
        except (InvalidOperation, ValueError, OverflowError):
            raise WXFError(f"not a Wolfram Language real number: {text[:80]!r}") from None
        self._text = text
        self._value = value
        self._precision = digits if marks == "`" else None
        self._accuracy = digits if marks == "``" else None

    @property
    def text(self) -> str:
        """The WL number text, exactly as it travels in WXF."""
        return self._text

    @property
    def precision(self) -> float | None:
        """Precision in decimal digits, or ``None`` if the number carries an accuracy or neither."""
        return self._precision

    @property
    def accuracy(self) -> float | None:
        """Accuracy in decimal digits, or ``None`` if the number carries a precision or neither."""
        return self._accuracy

    def to_decimal(self) -> Decimal:
        """Return the exact decimal value of the digits (precision is not applied)."""
        return self._value

    def __float__(self) -> float:
        return float(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BigReal):
            return (self._value, self._precision, self._accuracy) == (
                other._value,
                other._precision,
                other._accuracy,
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("BigReal", self._value, self._precision, self._accuracy))

    def __repr__(self) -> str:
        return self._text

    def __reduce__(self) -> tuple[Any, ...]:
        return (BigReal, (self._text,))


class Association:
    """An ordered WL association whose rules may be delayed (``<|a -> 1, b :> x|>``).

    Args:
        rules: a mapping (plain rules), or an iterable of ``Rule[k, v]`` / ``RuleDelayed[k, v]``
            expressions or ``(key, value)`` pairs (plain rules).

    Raises:
        WXFError: an item is neither a two-argument rule nor a pair.

    It behaves as a read-only mapping over its keys; a repeated key resolves to its last rule, as
    in the Wolfram Language. The decoder returns a ``dict`` instead whenever a ``dict`` keeps every
    rule exactly (all rules plain, keys hashable and distinct).
    """

    __slots__ = ("_rules",)

    _rules: tuple[Expr, ...]

    def __init__(self, rules: Mapping[Any, Any] | Iterable[Any] = ()) -> None:
        items = rules.items() if isinstance(rules, Mapping) else rules
        out: list[Expr] = []
        for item in items:
            if isinstance(item, Expr):
                if item.head not in (RULE, RULE_DELAYED) or len(item.args) != 2:
                    raise WXFError(f"not a rule: {item!r}")
                out.append(item)
            elif isinstance(item, tuple) and len(item) == 2:
                out.append(Expr(RULE, item[0], item[1]))
            else:
                raise WXFError(f"an association item must be a rule or a pair, not {item!r}")
        self._rules = tuple(out)

    @property
    def rules(self) -> tuple[Expr, ...]:
        """The rules in order: ``Rule[k, v]`` or ``RuleDelayed[k, v]`` expressions."""
        return self._rules

    def _lookup(self) -> dict[Any, Any]:
        return {r.args[0]: r.args[1] for r in self._rules}

    def __len__(self) -> int:
        return len(self._lookup())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._lookup())

    def __getitem__(self, key: Any) -> Any:
        for rule in reversed(self._rules):
            if rule.args[0] == key:
                return rule.args[1]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return any(rule.args[0] == key for rule in self._rules)

    def keys(self) -> list[Any]:
        """The distinct keys in order."""
        return list(self._lookup())

    def values(self) -> list[Any]:
        """The values of :meth:`keys`."""
        return list(self._lookup().values())

    def items(self) -> list[tuple[Any, Any]]:
        """``(key, value)`` pairs of :meth:`keys`."""
        return list(self._lookup().items())

    def is_delayed(self, key: Any) -> bool:
        """Return whether the rule that ``key`` resolves to is a ``RuleDelayed``."""
        for rule in reversed(self._rules):
            if rule.args[0] == key:
                return rule.head == RULE_DELAYED
        raise KeyError(key)

    def _deep_parts(self) -> tuple[object, ...]:
        return self._rules

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Association):
            try:
                return self._rules == other._rules
            except ValueError:
                return deep_equal(self._rules, other._rules)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Association", self._rules))

    def __repr__(self) -> str:
        return input_text(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Association, (self._rules,))


class NumericArray:
    """A numpy array that travels as a WL ``NumericArray`` (WXF token 0xC2).

    Args:
        array: anything ``numpy.asarray`` accepts, of at least one dimension.
        type: a WL element type name (``"UnsignedInteger8"``, ``"Real32"``, ...) to convert to;
            by default the array's own dtype decides.

    Raises:
        WXFError: the dtype (or ``type``) is not a NumericArray element type, or the array has
            no dimensions.

    Equality compares type, shape and values; a numeric array is not hashable.
    """

    __slots__ = ("_array",)

    _array: np.ndarray[Any, Any]

    def __init__(self, array: Any, type: str | None = None) -> None:
        import numpy as np

        if type is not None:
            code = TYPE_NAMES.get(type)
            if code is None:
                raise WXFError(f"unknown NumericArray type {type!r}")
            arr = np.asarray(array, dtype=np.dtype(ARRAY_TYPES[code].dtype).newbyteorder("="))
        else:
            arr = np.asarray(array)
            if (arr.dtype.kind, arr.dtype.itemsize) not in DTYPE_CODES:
                raise WXFError(f"dtype {arr.dtype} is not a NumericArray element type")
        if arr.ndim == 0:
            raise WXFError("a NumericArray needs at least one dimension")
        self._array = arr

    @property
    def array(self) -> np.ndarray[Any, Any]:
        """The wrapped numpy array."""
        return self._array

    @property
    def type(self) -> str:
        """The WL element type name, e.g. ``"UnsignedInteger8"``."""
        dt = self._array.dtype
        return ARRAY_TYPES[DTYPE_CODES[dt.kind, dt.itemsize]].name

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's dimensions."""
        return tuple(self._array.shape)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray[Any, Any]:
        return self._array if dtype is None else self._array.astype(dtype)

    def _deep_parts(self) -> tuple[object, ...]:
        return (self._array,)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, NumericArray):
            return deep_equal(self._array, other._array)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return input_text(self)
