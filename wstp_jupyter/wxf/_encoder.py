"""WXF writer: Python values and model objects to one WXF document.

How it works: the writer appends ``bytes`` (and zero-copy ``memoryview`` slices of numpy arrays)
to one list and joins it once. Dispatch is on the exact type, most frequent types first, inside
the loop over a sequence's items, so an atom costs no function call. Symbols carry their encoded
bytes. Homogeneous lists of ints or floats are written by numpy in one vectorised step. Each
compound level costs one Python frame; an expression nested deeper than the interpreter's
recursion limit is written again by an iterative writer.

Mapping (see docs/wxf.md): ``int`` -> the smallest integer token or BigInteger; ``float`` ->
Real64 (inf/-inf/nan -> ``DirectedInfinity[1]``/``DirectedInfinity[-1]``/``Indeterminate``);
``str`` -> String; ``bytes``/``bytearray``/``memoryview`` -> ByteArray; ``True``/``False``/``None``
-> symbols; ``list``/``tuple`` -> ``List``; ``dict`` -> Association of rules; ``Fraction`` ->
``Rational``; ``complex`` -> ``Complex``; ``Decimal`` -> BigReal; numpy arrays -> PackedArray
(unsigned dtypes -> NumericArray); ``NumericArray`` -> NumericArray.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable, Iterator
from decimal import Decimal, getcontext
from fractions import Fraction
from typing import Any, Final

import numpy as np

from wstp_jupyter.wxf._atoms import Association, BigReal, NumericArray
from wstp_jupyter.wxf._constants import ARRAY_TYPES, DTYPE_CODES, NUMERIC_ARRAY, PACKED_ARRAY
from wstp_jupyter.wxf._errors import WXFEncodeError, WXFError
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

Append = Callable[[Any], None]

_pack_j: Final = struct.Struct("<Bh").pack
_pack_i: Final = struct.Struct("<Bi").pack
_pack_L: Final = struct.Struct("<Bq").pack
_pack_r: Final = struct.Struct("<Bd").pack

_INT8: Final = [b"C" + bytes((i & 0xFF,)) for i in range(-128, 128)]  # index value + 128
_VARINT1: Final = [bytes((i,)) for i in range(128)]
_S_HDR: Final = [b"S" + bytes((i,)) for i in range(128)]
_F_HDR: Final = [b"f" + bytes((i,)) for i in range(128)]
_LIST_SYM: Final = LIST._wxf
_LIST_HDR: Final = [b"f" + bytes((i,)) + _LIST_SYM for i in range(128)]
_TRUE: Final = TRUE._wxf
_FALSE: Final = FALSE._wxf
_NULL: Final = NULL._wxf
_RATIONAL_HDR: Final = b"f\x02" + RATIONAL._wxf
_COMPLEX_HDR: Final = b"f\x02" + COMPLEX._wxf
_POS_INF: Final = b"f\x01" + DIRECTED_INFINITY._wxf + b"C\x01"
_NEG_INF: Final = b"f\x01" + DIRECTED_INFINITY._wxf + b"C\xff"
_NAN: Final = INDETERMINATE._wxf
_RULE_MARK: Final = b"-"
_DELAYED_MARK: Final = b":"

# Homogeneous lists at least this long go through numpy.
_VECTOR_MIN: Final = 16


def varint(n: int) -> bytes:
    """Encode ``n`` (0 <= n < 2**63) as a WXF varint."""
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


def _big_int(x: int) -> bytes:
    try:
        text = str(x).encode("ascii")
    except ValueError:
        # Beyond sys.int_max_str_digits; decimal's conversion is not limited and is exact.
        text = str(Decimal(x)).encode("ascii")
    return b"I" + varint(len(text)) + text


def _float_special(x: float) -> bytes:
    if math.isnan(x):
        return _NAN
    return _POS_INF if x > 0 else _NEG_INF


def _int_run(items: list[int]) -> bytes | None:
    """Token bytes of a list of Python ints via numpy, or None if one needs a BigInteger."""
    try:
        a = np.array(items, dtype=np.int64)
    except OverflowError:
        return None
    n = a.shape[0]
    small = (a >= -128) & (a <= 127)
    mid = (a >= -32768) & (a <= 32767)
    word = (a >= -(1 << 31)) & (a < (1 << 31))
    width = np.where(small, 1, np.where(mid, 2, np.where(word, 4, 8))).astype(np.int8)
    token = np.where(small, 0x43, np.where(mid, 0x6A, np.where(word, 0x69, 0x4C)))
    rows = np.empty((n, 9), dtype=np.uint8)
    rows[:, 0] = token
    rows[:, 1:] = a.astype("<i8").view(np.uint8).reshape(n, 8)
    # Keep the token and the first `width` little-endian bytes of each row.
    keep = np.arange(9, dtype=np.int8) <= width[:, None]
    return rows[keep].tobytes()


def _float_run(items: list[float]) -> bytes | None:
    a = np.array(items, dtype="<f8")
    if not np.isfinite(a).all():
        return None
    rows = np.empty((a.shape[0], 9), dtype=np.uint8)
    rows[:, 0] = 0x72
    rows[:, 1:] = a.view(np.uint8).reshape(-1, 8)
    return rows.tobytes()


def _write(items: Any, append: Append) -> None:
    """Write every item of the sequence ``items`` (the hot loop)."""
    for x in items:
        t = x.__class__
        if t is int:
            if -128 <= x < 128:
                append(_INT8[x + 128])
            elif -32768 <= x < 32768:
                append(_pack_j(0x6A, x))
            elif -2147483648 <= x < 2147483648:
                append(_pack_i(0x69, x))
            elif -9223372036854775808 <= x < 9223372036854775808:
                append(_pack_L(0x4C, x))
            else:
                append(_big_int(x))
        elif t is str:
            b = x.encode("utf-8")
            n = len(b)
            append(_S_HDR[n] if n < 128 else b"S" + varint(n))
            append(b)
        elif t is float:
            append(_pack_r(0x72, x) if x - x == 0.0 else _float_special(x))
        elif t is Symbol:
            append(x._wxf)
        elif t is Expr:
            args = x._args
            n = len(args)
            append(_F_HDR[n] if n < 128 else b"f" + varint(n))
            head = x._head
            if head.__class__ is Symbol:
                append(head._wxf)
            else:
                _write((head,), append)
            _write(args, append)
        elif t is list:
            n = len(x)
            if n >= _VECTOR_MIN:
                kinds = set(map(type, x))
                if len(kinds) == 1:
                    kind = kinds.pop()
                    run = _int_run(x) if kind is int else _float_run(x) if kind is float else None
                    if run is not None:
                        append(_LIST_HDR[n] if n < 128 else b"f" + varint(n) + _LIST_SYM)
                        append(run)
                        continue
            append(_LIST_HDR[n] if n < 128 else b"f" + varint(n) + _LIST_SYM)
            _write(x, append)
        elif t is dict:
            append(b"A" + varint(len(x)))
            for key, value in x.items():
                append(_RULE_MARK)
                _write((key, value), append)
        else:
            _write_other(x, append)


def _array_header(token: int, code: int, shape: tuple[int, ...]) -> bytes:
    return bytes((token, code, len(shape))) + b"".join(varint(d) for d in shape)


def _write_ndarray(arr: np.ndarray[Any, Any], append: Append, token: int | None) -> None:
    dt = arr.dtype
    if arr.ndim == 0 and token is None:
        _write((arr.item(),), append)
        return
    if token is None and (dt.kind in "bOUSV" or arr.size == 0):
        # No packed form: booleans, objects and strings; empty arrays become (nested) lists.
        _write((arr.tolist(),), append)
        return
    if dt.kind == "f" and dt.itemsize == 2:
        arr = arr.astype(np.float32)  # exact widening; WXF has no half floats
        dt = arr.dtype
    code = DTYPE_CODES.get((dt.kind, dt.itemsize))
    if code is None:
        raise WXFEncodeError(f"numpy dtype {dt} has no WXF array element type")
    if token is None:
        token = PACKED_ARRAY if ARRAY_TYPES[code][2] else NUMERIC_ARRAY
    if arr.size == 0:
        raise WXFEncodeError("a NumericArray cannot be empty")
    le = ARRAY_TYPES[code][1]
    if dt != le or not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr, dtype=le)
    append(_array_header(token, code, arr.shape))
    append(arr.reshape(-1).view(np.uint8).data)


def _decimal_text(d: Decimal) -> bytes:
    # As wolframclient writes it: fixed-point digits, then the context precision as accuracy.
    digits = f"{d:f}" if -64 <= d.adjusted() <= 64 else _sci(d)
    return f"{digits}``{getcontext().prec}".encode("ascii")


def _sci(d: Decimal) -> str:
    sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits))
    return f"{'-' if sign else ''}{mantissa[0]}.{mantissa[1:]}*^{exponent + len(mantissa) - 1}"


def _write_other(x: Any, append: Append) -> None:
    if x is True:
        append(_TRUE)
    elif x is False:
        append(_FALSE)
    elif x is None:
        append(_NULL)
    elif isinstance(x, tuple):
        n = len(x)
        append(b"f" + varint(n) + _LIST_SYM)
        _write(x, append)
    elif isinstance(x, bytes | bytearray | memoryview):
        data = memoryview(x).cast("B") if isinstance(x, memoryview) else x
        append(b"B" + varint(len(data)))
        append(data)
    elif isinstance(x, np.ndarray):
        _write_ndarray(x, append, None)
    elif isinstance(x, NumericArray):
        _write_ndarray(x.array, append, NUMERIC_ARRAY)
    elif isinstance(x, Fraction):
        append(_RATIONAL_HDR)
        _write((x.numerator, x.denominator), append)
    elif isinstance(x, complex):
        append(_COMPLEX_HDR)
        _write((x.real, x.imag), append)
    elif isinstance(x, BigReal):
        text = x.text.encode("ascii")
        append(b"R" + varint(len(text)) + text)
    elif isinstance(x, Decimal):
        if not x.is_finite():
            append(_NAN if x.is_nan() else _NEG_INF if x < 0 else _POS_INF)
        else:
            text = _decimal_text(x)
            append(b"R" + varint(len(text)) + text)
    elif isinstance(x, Association):
        rules = x.rules
        append(b"A" + varint(len(rules)))
        for rule in rules:
            append(_RULE_MARK if rule.head == RULE else _DELAYED_MARK)
            _write(rule.args, append)
    elif isinstance(x, np.bool_):
        append(_TRUE if x else _FALSE)
    elif isinstance(x, np.integer):
        _write((int(x),), append)
    elif isinstance(x, np.floating | float):
        _write((float(x),), append)
    elif isinstance(x, np.complexfloating):
        _write((complex(x),), append)
    elif isinstance(x, int):  # int subclasses (IntEnum, ...)
        _write((int(x),), append)
    elif isinstance(x, str):
        _write((str(x),), append)
    elif isinstance(x, Symbol):
        append(x._wxf)
    elif isinstance(x, Expr):
        _write((Expr(x.head, *x.args),), append)
    elif isinstance(x, list):
        _write((list(x),), append)
    elif isinstance(x, dict):
        _write((dict(x),), append)
    else:
        raise WXFEncodeError(f"cannot encode a value of type {type(x).__name__} as WXF")


class _Raw(bytes):
    """Bytes the iterative writer copies out verbatim."""


def _children(x: Any, append: Append) -> Iterator[Any] | None:
    """Write a compound's header and return an iterator over its parts; None for atoms."""
    t = x.__class__
    if t is Expr:
        append(b"f" + varint(len(x._args)))
        return iter((x._head, *x._args))
    if t is list or t is tuple:
        append(b"f" + varint(len(x)) + _LIST_SYM)
        return iter(x)
    if t is dict:
        append(b"A" + varint(len(x)))
        return (p for k, v in x.items() for p in (_Raw(_RULE_MARK), k, v))
    if t is Association:
        rules = x.rules
        append(b"A" + varint(len(rules)))
        return (
            p
            for r in rules
            for p in (_Raw(_RULE_MARK if r.head == RULE else _DELAYED_MARK), *r.args)
        )
    return None


def _write_iterative(x: Any, append: Append) -> None:
    """Same output as :func:`_write` with an explicit stack, for any depth."""
    stack: list[Iterator[Any]] = [iter((x,))]
    while stack:
        for item in stack[-1]:
            if item.__class__ is _Raw:
                append(bytes(item))
                continue
            children = _children(item, append)
            if children is not None:
                stack.append(children)
                break
            _write((item,), append)
        else:
            stack.pop()


def dump_chunks(expr: object) -> list[Any]:
    """Return an uncompressed WXF document as a list of bytes-like chunks.

    Joining the chunks gives :func:`dumps`'s result; large arrays appear as zero-copy
    ``memoryview`` slices of the caller's (C-contiguous, little-endian) numpy data, so the chunks
    can go straight to ``socket.sendmsg``. They are valid while those arrays are left unchanged.

    Raises:
        WXFEncodeError: a part of ``expr`` has no WXF form.
    """
    out: list[Any] = [b"8:"]
    try:
        try:
            _write((expr,), out.append)
        except RecursionError:
            out = [b"8:"]
            _write_iterative(expr, out.append)
    except UnicodeEncodeError as exc:
        raise WXFEncodeError(f"string is not valid Unicode text: {exc}") from None
    except WXFEncodeError:
        raise
    except (WXFError, OverflowError, ValueError, TypeError) as exc:
        raise WXFEncodeError(str(exc)) from exc
    return out


def dumps(expr: object, *, compress: bool = False) -> bytes:
    """Serialize ``expr`` as one WXF document.

    Args:
        expr: a model object or a natural Python value (see the module docstring for the mapping).
        compress: write ``8C:`` and a zlib stream instead of ``8:`` and the raw expression.

    Returns:
        The document, header included.

    Raises:
        WXFEncodeError: a part of ``expr`` has no WXF form (unsupported type, unencodable text,
            an empty ``NumericArray``, a numpy dtype with no element type).
    """
    chunks = dump_chunks(expr)
    if compress:
        chunks[0] = b""
        return b"8C:" + zlib.compress(b"".join(chunks))
    return b"".join(chunks)
