"""Pieces of the WXF writer that are off its hot path: varints, vectorised number runs, arrays
and every value type without a branch of its own in the main loop.

``other(x)`` describes how to write a less common value as ``(prefix, children, payload)``:
bytes to write now, an iterator of child values the main loop then writes in order, and a
buffer (array data, byte strings) the main loop may keep as a separate zero-copy chunk.
"""

from __future__ import annotations

import math
import struct
import sys
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, getcontext
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

from wstp_jupyter.wxf._atoms import Association, BigReal, NumericArray
from wstp_jupyter.wxf._constants import ARRAY_TYPES, DTYPE_CODES, NUMERIC_ARRAY, PACKED_ARRAY
from wstp_jupyter.wxf._errors import WXFEncodeError
from wstp_jupyter.wxf._model import (
    COMPLEX,
    DIRECTED_INFINITY,
    FALSE,
    INDETERMINATE,
    LIST,
    NULL,
    RATIONAL,
    RULE,
    TRUE,
    Expr,
    Symbol,
)

if TYPE_CHECKING:
    import numpy as np

pack_j: Final = struct.Struct("<Bh").pack
pack_i: Final = struct.Struct("<Bi").pack
pack_L: Final = struct.Struct("<Bq").pack
pack_r: Final = struct.Struct("<Bd").pack

INT8: Final = [b"C" + bytes((i & 0xFF,)) for i in range(-128, 128)]  # index: value + 128
S_HDR: Final = [b"S" + bytes((i,)) for i in range(128)]
F_HDR: Final = [b"f" + bytes((i,)) for i in range(128)]
LIST_SYM: Final = LIST._wxf
LIST_HDR: Final = [b"f" + bytes((i,)) + LIST_SYM for i in range(128)]
_VARINT1: Final = [bytes((i,)) for i in range(128)]
_TRUE: Final = TRUE._wxf
_FALSE: Final = FALSE._wxf
_NULL: Final = NULL._wxf
_RATIONAL_HDR: Final = b"f\x02" + RATIONAL._wxf
_COMPLEX_HDR: Final = b"f\x02" + COMPLEX._wxf
_POS_INF: Final = b"f\x01" + DIRECTED_INFINITY._wxf + b"C\x01"
_NEG_INF: Final = b"f\x01" + DIRECTED_INFINITY._wxf + b"C\xff"
_NAN: Final = INDETERMINATE._wxf

# Homogeneous lists at least this long go through numpy.
VECTOR_MIN: Final = 16

Other = tuple[bytes, Iterator[Any] | None, Any]


class Raw(bytes):
    """Bytes the main loop copies out verbatim (rule marks between keys and values)."""


RULE_MARK: Final = Raw(b"-")
DELAYED_MARK: Final = Raw(b":")


def varint(n: int) -> bytes:
    """Encode ``n`` (0 <= n < 2**63) as a WXF varint.

    Raises:
        WXFEncodeError: ``n`` is negative or needs more than 63 bits.
    """
    if n < 0x80:
        if n < 0:
            raise WXFEncodeError(f"a length cannot be negative: {n}")
        return _VARINT1[n]
    if n >= 1 << 63:
        raise WXFEncodeError(f"a length must fit in 63 bits: {n}")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def big_int(x: int) -> bytes:
    """BigInteger token for an integer outside the 64-bit range."""
    try:
        text = str(x).encode("ascii")
    except ValueError:
        # Beyond sys.int_max_str_digits; decimal's conversion is not limited and is exact.
        text = str(Decimal(x)).encode("ascii")
    return b"I" + varint(len(text)) + text


def float_special(x: float) -> bytes:
    """The WL value of a non-finite float."""
    if math.isnan(x):
        return _NAN
    return _POS_INF if x > 0 else _NEG_INF


def _int_run(items: list[int]) -> bytes | None:
    import numpy as np

    try:
        a = np.array(items, dtype=np.int64)
    except OverflowError:
        return None
    n = a.shape[0]
    # Width class: 0 -> Integer8, 1 -> Integer16, 2 -> Integer32, 3 -> Integer64.
    cls = ((a < -128) | (a > 127)).view(np.int8)
    cls += (a < -32768) | (a > 32767)
    cls += (a < -(1 << 31)) | (a >= (1 << 31))
    lo, hi = int(cls.min()), int(cls.max())
    if lo == hi:  # one width for all: a plain strided copy
        width = (1, 2, 4, 8)[lo]
        rows = np.empty((n, 1 + width), dtype=np.uint8)
        rows[:, 0] = (0x43, 0x6A, 0x69, 0x4C)[lo]
        rows[:, 1:] = a.astype(f"<i{width}").view(np.uint8).reshape(n, width)
        return rows.tobytes()
    # Rows of token + `top` little-endian bytes (top = the widest width present); keep each
    # row's token and the first bytes its own width needs.
    top = (1, 2, 4, 8)[hi]
    rows = np.empty((n, 1 + top), dtype=np.uint8)
    rows[:, 0] = np.array([0x43, 0x6A, 0x69, 0x4C], dtype=np.uint8)[cls]
    # Row mask per width class: the token byte and the first 1, 2, 4 or 8 value bytes.
    masks = np.arange(9)[None, :] <= np.array([1, 2, 4, 8])[:, None]
    rows[:, 1:] = a.astype(f"<i{top}").view(np.uint8).reshape(n, top)
    return rows[masks[cls, : 1 + top]].tobytes()


def _float_run(items: list[float]) -> bytes | None:
    import numpy as np

    a = np.array(items, dtype="<f8")
    if not np.isfinite(a).all():
        return None
    rows = np.empty((a.shape[0], 9), dtype=np.uint8)
    rows[:, 0] = 0x72
    rows[:, 1:] = a.view(np.uint8).reshape(-1, 8)
    return rows.tobytes()


def vector_run(items: list[Any]) -> bytes | None:
    """Tokens of a long list of only ints or only floats in one numpy step, else None."""
    kinds = set(map(type, items))
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    if kind is int:
        return _int_run(items)
    if kind is float:
        return _float_run(items)
    return None


def _array_header(token: int, code: int, shape: tuple[int, ...]) -> bytes:
    return bytes((token, code, len(shape))) + b"".join(varint(d) for d in shape)


def ndarray(arr: np.ndarray[Any, Any], token: int | None) -> Other:
    """Write plan for a numpy array (``token`` None: packed if the type allows it)."""
    import numpy as np

    dt = arr.dtype
    if token is None and arr.ndim == 0:
        return b"", iter((arr.item(),)), None
    if token is None and (dt.kind in "bOUSV" or arr.size == 0):
        # No packed form: booleans, objects and strings; empty arrays become (nested) lists.
        return b"", iter((arr.tolist(),)), None
    if dt.kind == "f" and dt.itemsize == 2:
        arr = arr.astype(np.float32)  # exact widening; WXF has no half floats
        dt = arr.dtype
    code = DTYPE_CODES.get((dt.kind, dt.itemsize))
    if code is None:
        raise WXFEncodeError(f"numpy dtype {dt} has no WXF array element type")
    if token is None:
        token = PACKED_ARRAY if ARRAY_TYPES[code].packable else NUMERIC_ARRAY
    if arr.size == 0:
        raise WXFEncodeError("a NumericArray cannot be empty")
    le = np.dtype(ARRAY_TYPES[code].dtype)
    if dt != le or not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr, dtype=le)
    return _array_header(token, code, arr.shape), None, arr.reshape(-1).view(np.uint8).data


def _decimal_text(d: Decimal) -> bytes:
    # As wolframclient writes it: fixed-point digits, then the context precision as accuracy.
    if -64 <= d.adjusted() <= 64:
        digits = f"{d:f}"
    else:
        sign, ds, exponent = d.as_tuple()
        assert isinstance(exponent, int)
        mantissa = "".join(map(str, ds))
        scale = exponent + len(mantissa) - 1
        digits = f"{'-' if sign else ''}{mantissa[0]}.{mantissa[1:]}*^{scale}"
    text = f"{digits}``{getcontext().prec}"
    if "*^" in text:  # the accuracy mark goes before the exponent
        body, _, exp = digits.partition("*^")
        text = f"{body}``{getcontext().prec}*^{exp}"
    return text.encode("ascii")


def _rule_parts(rules: Iterable[Expr]) -> Iterator[Any]:
    for rule in rules:
        yield RULE_MARK if rule.head == RULE else DELAYED_MARK
        yield from rule.args


def dict_parts(items: Iterable[tuple[Any, Any]]) -> Iterator[Any]:
    """Rule marks, keys and values of a dict's items, in writing order."""
    for key, value in items:
        yield RULE_MARK
        yield key
        yield value


def other(x: Any) -> Other:
    """Write plan for a value the main loop has no branch for.

    Raises:
        WXFEncodeError: the value has no WXF form.
    """
    # Numpy values can only exist once numpy is loaded; a process without it never imports it.
    np = sys.modules.get("numpy")
    if x is True:
        return _TRUE, None, None
    if x is False:
        return _FALSE, None, None
    if x is None:
        return _NULL, None, None
    if isinstance(x, tuple):
        n = len(x)
        return b"f" + varint(n) + LIST_SYM, iter(x), None
    if isinstance(x, bytes | bytearray | memoryview):
        view = memoryview(x)
        data = view.cast("B") if view.c_contiguous else memoryview(view.tobytes())
        return b"B" + varint(len(data)), None, data
    if np is not None and isinstance(x, np.ndarray):
        return ndarray(x, None)
    if isinstance(x, NumericArray):
        return ndarray(x.array, NUMERIC_ARRAY)
    if isinstance(x, Fraction):
        return _RATIONAL_HDR, iter((x.numerator, x.denominator)), None
    if isinstance(x, complex):
        return _COMPLEX_HDR, iter((x.real, x.imag)), None
    if isinstance(x, BigReal):
        text = x.text.encode("ascii")
        return b"R" + varint(len(text)) + text, None, None
    if isinstance(x, Decimal):
        if not x.is_finite():
            return (_NAN if x.is_nan() else _NEG_INF if x < 0 else _POS_INF), None, None
        text = _decimal_text(x)
        return b"R" + varint(len(text)) + text, None, None
    if isinstance(x, Association):
        rules = x.rules
        return b"A" + varint(len(rules)), _rule_parts(rules), None
    if np is not None and isinstance(x, np.bool_):
        return (_TRUE if x else _FALSE), None, None
    if isinstance(x, int) or (np is not None and isinstance(x, np.integer)):
        return b"", iter((int(x),)), None  # numpy integers, int subclasses (IntEnum, ...)
    if isinstance(x, float) or (np is not None and isinstance(x, np.floating)):
        return b"", iter((float(x),)), None
    if np is not None and isinstance(x, np.complexfloating):
        return b"", iter((complex(x),)), None
    if isinstance(x, str):
        return b"", iter((str(x),)), None
    if isinstance(x, Symbol):
        return x._wxf, None, None
    if isinstance(x, Expr):
        return b"", iter((Expr(x.head, *x.args),)), None
    if isinstance(x, list):
        return b"", iter((list(x),)), None
    if isinstance(x, dict | Mapping):  # dict subclasses, read-only mappings
        return b"", iter((dict(x),)), None
    raise WXFEncodeError(f"cannot encode a value of type {type(x).__name__} as WXF")
