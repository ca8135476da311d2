"""WXF reader: one expression from a complete buffer, plus ``loads``.

How it works: :func:`build` walks the tokens in one loop with an explicit stack of open
compounds, so nesting depth costs no Python recursion and is checked against
:class:`Limits` before a frame is pushed. The top frame lives in local variables; values are
appended to its item list and a finished frame becomes a ``list``, ``dict``, ``Fraction``,
``complex``, ``Association`` or ``Expr``. Every length field is checked against the limits and
against the bytes actually present before anything is allocated, so a field claiming 2**60
elements costs nothing. Running out of bytes raises the private ``Truncated``; the incremental
:class:`~wstp_jupyter.wxf.Decoder` turns that into "need more data", :func:`loads` into an error.
Packed arrays are ``numpy.frombuffer`` views of the input when it is immutable ``bytes``.
"""

from __future__ import annotations

import gc
import re
import struct
import zlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from math import gcd
from typing import Any, Final

import numpy as np

from wstp_jupyter.wxf._atoms import Association, BigReal, NumericArray
from wstp_jupyter.wxf._constants import ARRAY_TYPES
from wstp_jupyter.wxf._errors import WXFDecodeError, WXFError, WXFLimitError
from wstp_jupyter.wxf._model import (
    ASSOCIATION,
    COMPLEX,
    FALSE,
    LIST,
    NULL,
    RATIONAL,
    RULE,
    RULE_DELAYED,
    TRUE,
    Expr,
    Symbol,
)


@dataclass(frozen=True, slots=True)
class Limits:
    """What a receiver accepts; exceeding one raises :class:`WXFLimitError`.

    Attributes:
        max_depth: nesting of functions and associations (``f[g[x]]`` has depth 2).
        max_length: elements of one string, symbol name, byte array, number text, argument
            list, association or array (all dimensions multiplied).
        max_size: bytes of one document, header included; for ``8C:`` the inflated size.
    """

    max_depth: int = 1024
    max_length: int = (1 << 31) - 1
    max_size: int = 1 << 31


DEFAULT_LIMITS: Final = Limits()


class Truncated(Exception):
    """The buffer ends inside the expression (internal; never escapes the package)."""


_unpack_h: Final = struct.Struct("<h").unpack_from
_unpack_i: Final = struct.Struct("<i").unpack_from
_unpack_q: Final = struct.Struct("<q").unpack_from
_unpack_d: Final = struct.Struct("<d").unpack_from
_GC_PAUSE_MIN: Final = 1 << 16  # documents at least this big decode with the collector paused
_BIG_INT: Final = re.compile(rb"-?[0-9]+")

# Frame kinds.
_ROOT: Final = 0
_LIST: Final = 1
_FUNC: Final = 2  # head already known (a symbol)
_FUNC_HEAD: Final = 3  # compound head: the first item is the head
_ASSOC: Final = 4

# Symbols decoded to Python values, by their exact WXF name bytes.
_PRESET: Final[dict[bytes, object]] = {b"True": True, b"False": False, b"Null": None}
_AS_HEAD: Final[dict[object, Symbol]] = {True: TRUE, False: FALSE, None: NULL}
# The decoder compares heads by identity, so these names always yield the module's instances.
_CANONICAL: Final[dict[str, Symbol]] = {
    s.name: s for s in (LIST, RULE, RULE_DELAYED, RATIONAL, COMPLEX, ASSOCIATION)
}
_SEED: Final[dict[bytes, object]] = {
    **_PRESET,
    **{name.encode(): sym for name, sym in _CANONICAL.items()},
}


def read_varint(data: Any, pos: int) -> tuple[int, int]:
    """Decode a varint at ``pos``; return (value, position after it).

    Raises:
        Truncated: the buffer ends inside the varint.
        WXFDecodeError: more than 9 bytes, more than 63 bits, or a non-minimal encoding.
    """
    value = 0
    shift = 0
    start = pos
    end = len(data)
    while True:
        if pos >= end:
            raise Truncated
        b = data[pos]
        pos += 1
        if shift == 56 and b & 0x80:
            raise WXFDecodeError(f"varint at offset {start} is longer than 9 bytes")
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            if b == 0 and shift:
                raise WXFDecodeError(f"varint at offset {start} is not minimally encoded")
            return value, pos
        shift += 7


def _symbol(raw: bytes, at: int) -> object:
    preset = _PRESET.get(raw, _PRESET)
    if preset is not _PRESET:
        return preset
    try:
        sym = Symbol(raw.decode("utf-8"))
    except (UnicodeDecodeError, WXFError):
        raise WXFDecodeError(f"invalid symbol name {raw[:60]!r} at offset {at}") from None
    name = sym._name
    if name in ("True", "False", "Null"):  # e.g. System`True
        return _PRESET[name.encode()]
    return _CANONICAL.get(name, sym)


def _finish_func(head: object, args: list[Any]) -> object:
    if head is RATIONAL:
        if len(args) == 2:
            p, q = args
            if p.__class__ is int and q.__class__ is int and q > 0 and gcd(p, q) == 1:
                return Fraction(p, q)
    elif head is COMPLEX and len(args) == 2:
        re_, im = args
        if re_.__class__ is float and im.__class__ is float:
            return complex(re_, im)
    return Expr(head, *args)


def _finish_assoc(items: list[Any], marks: list[int]) -> object:
    n = len(marks)
    if 0x3A not in marks:
        try:
            d = {items[i]: items[i + 1] for i in range(0, 2 * n, 2)}
        except TypeError:  # an unhashable key
            d = None
        # A dict merges keys Python finds equal (1, 1.0, True) that WL keeps apart.
        if d is not None and len(d) == n:
            return d
    return Association(
        [
            Expr(RULE if marks[j] == 0x2D else RULE_DELAYED, items[2 * j], items[2 * j + 1])
            for j in range(n)
        ]
    )


def _array(data: Any, pos: int, tok: int, limits: Limits, zero_copy: bool) -> tuple[Any, int]:
    at = pos - 1
    end = len(data)
    if pos >= end:
        raise Truncated
    code = data[pos]
    spec = ARRAY_TYPES.get(code)
    if spec is None:
        raise WXFDecodeError(f"unknown array element type 0x{code:02x} at offset {pos}")
    name, dtype, packable = spec
    if tok == 0xC1 and not packable:
        raise WXFDecodeError(f"a PackedArray cannot hold {name} (offset {pos})")
    rank, pos = read_varint(data, pos + 1)
    if rank == 0:
        raise WXFDecodeError(f"array rank cannot be zero (offset {at})")
    if rank > 64:
        raise WXFLimitError(f"array rank {rank} exceeds 64 (offset {at})")
    dims = []
    count = 1
    for _ in range(rank):
        d, pos = read_varint(data, pos)
        dims.append(d)
        count *= d
        if count > limits.max_length:
            raise WXFLimitError(
                f"array of at least {count} elements exceeds max_length {limits.max_length} "
                f"(offset {at})"
            )
    nbytes = count * dtype.itemsize
    if nbytes > limits.max_size:
        raise WXFLimitError(f"array of {nbytes} bytes exceeds max_size (offset {at})")
    stop = pos + nbytes
    if stop > end:
        raise Truncated
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=pos).reshape(dims)
    if not zero_copy:
        arr = arr.copy()
    if tok == 0xC2:
        na = NumericArray.__new__(NumericArray)
        na._array = arr
        return na, stop
    return arr, stop


def _text(data: Any, pos: int, limits: Limits, what: str) -> tuple[Any, int, int]:
    """Read varint(length) + payload; return (payload slice, start, end)."""
    n = data[pos]
    if n < 0x80:
        pos += 1
    else:
        n, pos = read_varint(data, pos)
    if n > limits.max_length:
        raise WXFLimitError(f"{what} of {n} bytes exceeds max_length {limits.max_length}")
    stop = pos + n
    if stop > len(data):
        raise Truncated
    return data[pos:stop], pos, stop


def build(data: Any, pos: int, limits: Limits, zero_copy: bool) -> tuple[Any, int]:
    """Decode one expression starting at ``pos`` (after the header).

    Args:
        data: ``bytes`` (arrays may then be zero-copy views) or ``bytearray``.
        pos: offset of the expression's first token.
        limits: the receiver's limits.
        zero_copy: return arrays that view ``data`` instead of copies (only for ``bytes``).

    Returns:
        ``(value, offset after the expression)``.

    Raises:
        Truncated: ``data`` ends before the expression does.
        WXFDecodeError: malformed input; ``WXFLimitError`` for a limit.
    """
    try:
        if len(data) - pos < _GC_PAUSE_MIN or not gc.isenabled():
            return _build(data, pos, limits, zero_copy)
        # Decoding allocates many containers and no reference cycles; letting the cyclic
        # collector traverse the growing result again and again costs more than the decoding.
        gc.disable()
        try:
            return _build(data, pos, limits, zero_copy)
        finally:
            gc.enable()
    except (IndexError, struct.error):
        raise Truncated from None
    except UnicodeDecodeError as exc:
        raise WXFDecodeError(f"a string is not valid UTF-8: {exc.reason}") from None


# Runs of fixed-width numbers: token byte -> structured dtype (token, little-endian value).
_RUN_DTYPES: Final = {
    tok: np.dtype([("t", "u1"), ("v", fmt)])
    for tok, fmt in ((0x43, "i1"), (0x6A, "<i2"), (0x69, "<i4"), (0x4C, "<i8"), (0x72, "<f8"))
}
_RUN_MIN: Final = 16
_RUN_PROBES: Final = {tok: bytes((tok,)) * _RUN_MIN for tok in _RUN_DTYPES}


def _run_length(data: Any, pos: int, tok: int, stride: int, n: int) -> int:
    """Count tokens equal to ``tok`` every ``stride`` bytes from ``pos`` (at most ``n``)."""
    limit = min(n, (len(data) - pos) // stride)
    count = 0
    chunk = 64
    while count < limit:
        take = min(chunk, limit - count)
        toks = np.frombuffer(data, np.uint8, take * stride, pos + count * stride)[::stride]
        bad = np.flatnonzero(toks != tok)
        if bad.size:
            return count + int(bad[0])
        count += take
        chunk *= 4
    return count


def _read_atoms(  # noqa: PLR0917
    data: Any, pos: int, n: int, out: list[Any], symbols: dict[bytes, Any], max_length: int
) -> int:
    """Append up to ``n`` consecutive simple atoms to ``out``; return the offset reached.

    Stops early at the first token that is not an integer, real, string or symbol. This is the
    hot path: most arguments and list elements are such atoms, and reading them here costs no
    frame bookkeeping.
    """
    append = out.append
    end = len(data)
    probe_at = pos
    while n:
        tok = data[pos]
        if n >= _RUN_MIN and pos >= probe_at and tok in _RUN_DTYPES:
            # Speculate on a run of same-width numbers; one slice compare says whether the next
            # _RUN_MIN tokens repeat this one, then numpy reads the whole run at once.
            dtype = _RUN_DTYPES[tok]
            stride = dtype.itemsize
            if data[pos : pos + stride * _RUN_MIN : stride] == _RUN_PROBES[tok]:
                count = _run_length(data, pos, tok, stride, n)
                out.extend(np.frombuffer(data, dtype, count, pos)["v"].tolist())
                pos += count * stride
                n -= count
                continue
            probe_at = pos + stride * _RUN_MIN  # a mixed stretch: do not probe every token
        if tok == 0x43:  # C
            v = data[pos + 1]
            append(v - 256 if v > 127 else v)
            pos += 2
        elif tok == 0x69:  # i
            append(_unpack_i(data, pos + 1)[0])
            pos += 5
        elif tok == 0x53:  # S
            size = data[pos + 1]
            if size < 0x80:
                pos += 2
            else:
                size, pos = read_varint(data, pos + 1)
            if size > max_length:
                raise WXFLimitError(f"string of {size} bytes exceeds max_length {max_length}")
            stop = pos + size
            if stop > end:
                raise Truncated
            append(data[pos:stop].decode("utf-8"))
            pos = stop
        elif tok == 0x72:  # r
            append(_unpack_d(data, pos + 1)[0])
            pos += 9
        elif tok == 0x6A:  # j
            append(_unpack_h(data, pos + 1)[0])
            pos += 3
        elif tok == 0x4C:  # L
            append(_unpack_q(data, pos + 1)[0])
            pos += 9
        elif tok == 0x73:  # s
            size = data[pos + 1]
            if size < 0x80:
                start = pos + 2
            else:
                size, start = read_varint(data, pos + 1)
            if size > max_length:
                raise WXFLimitError(f"symbol of {size} bytes exceeds max_length {max_length}")
            stop = start + size
            if stop > end:
                raise Truncated
            raw = bytes(data[start:stop])
            sym = symbols.get(raw, symbols)
            if sym is symbols:
                sym = symbols[raw] = _symbol(raw, start)
            append(sym)
            pos = stop
        else:
            return pos
        n -= 1
    return pos


def _build(data: Any, pos: int, limits: Limits, zero_copy: bool) -> tuple[Any, int]:
    max_depth = limits.max_depth
    max_length = limits.max_length
    symbols = dict(_SEED)
    heads: dict[bytes, Symbol] = {b"List": LIST}  # symbol heads by name bytes
    list_sym, rational, complex_ = LIST, RATIONAL, COMPLEX
    # Expr construction without the public __init__ (its *args packing is measurable here).
    new_object, expr_type = object.__new__, Expr
    unpack_i, unpack_d = _unpack_i, _unpack_d
    end = len(data)
    depth = 0  # == len(stack)
    # Saved frames below the open one; the open frame lives in the four locals.
    stack: list[tuple[int, list[Any], int, Any]] = []
    kind: int = _ROOT
    items: list[Any] = []
    remaining = 1
    extra: Any = None  # the head of a _FUNC frame; the rule marks of an _ASSOC frame
    while True:
        at = pos
        tok = data[pos]
        pos += 1
        if tok == 0x66:  # f
            n = data[pos]
            if n < 0x80:
                pos += 1
            else:
                n, pos = read_varint(data, pos)
            if n > max_length:
                raise WXFLimitError(
                    f"function of {n} arguments at offset {at} exceeds max_length {max_length}"
                )
            if depth >= max_depth:
                raise WXFLimitError(f"nesting deeper than max_depth {max_depth} at offset {at}")
            if data[pos] == 0x73 and data[pos + 1] < 0x80:  # the usual case: a symbol head
                stop = pos + 2 + data[pos + 1]
                if stop > end:
                    raise Truncated
                raw = data[pos + 2 : stop]
                head = heads.get(raw)
                if head is None:
                    value = _symbol(raw, pos + 2)
                    head = heads[raw] = _AS_HEAD.get(value, value)  # type: ignore[arg-type]
                pos = stop
                args: list[Any] = []
                if n >= _RUN_MIN or head is list_sym:
                    pos = _read_atoms(data, pos, n, args, symbols, max_length)
                elif n:
                    # Few arguments: the same atom loop as _read_atoms, inlined (no call).
                    append = args.append
                    left = n
                    while left:
                        t = data[pos]
                        if t == 0x43:  # C
                            v = data[pos + 1]
                            append(v - 256 if v > 127 else v)
                            pos += 2
                        elif t == 0x69:  # i
                            append(unpack_i(data, pos + 1)[0])
                            pos += 5
                        elif t == 0x53 and data[pos + 1] < 0x80:  # S, short
                            stop = pos + 2 + data[pos + 1]
                            if stop > end:
                                raise Truncated
                            append(data[pos + 2 : stop].decode("utf-8"))
                            pos = stop
                        elif t == 0x72:  # r
                            append(unpack_d(data, pos + 1)[0])
                            pos += 9
                        else:
                            pos = _read_atoms(data, pos, left, args, symbols, max_length)
                            break
                        left -= 1
                if n and len(args) < n:
                    stack.append((kind, items, remaining, extra))
                    depth += 1
                    if head is list_sym:
                        kind, items, remaining, extra = _LIST, args, n - len(args), None
                    else:
                        kind, items, remaining, extra = _FUNC, args, n - len(args), head
                    continue
                if head is list_sym:
                    val: Any = args
                elif head is rational or head is complex_:
                    val = _finish_func(head, args)
                else:
                    val = new_object(expr_type)
                    val._head = head
                    val._args = tuple(args)
            else:
                stack.append((kind, items, remaining, extra))
                depth += 1
                kind, items, remaining, extra = _FUNC_HEAD, [], n + 1, None
                continue
        elif tok == 0x41:  # A
            n = data[pos]
            if n < 0x80:
                pos += 1
            else:
                n, pos = read_varint(data, pos)
            if n > max_length:
                raise WXFLimitError(
                    f"association of {n} rules at offset {at} exceeds max_length {max_length}"
                )
            if depth >= max_depth:
                raise WXFLimitError(f"nesting deeper than max_depth {max_depth} at offset {at}")
            if not n:
                val = {}
            else:
                mark = data[pos]
                if mark not in {0x2D, 0x3A}:
                    raise WXFDecodeError(f"expected a rule at offset {pos}, got 0x{mark:02x}")
                stack.append((kind, items, remaining, extra))
                depth += 1
                kind, items, remaining, extra = _ASSOC, [], 2 * n, [mark]
                pos += 1
                continue
        elif tok in {0xC1, 0xC2}:
            val, pos = _array(data, pos, tok, limits, zero_copy)
        elif tok in {0x49, 0x52}:  # I, R
            raw, start, pos = _text(data, pos, limits, "number text")
            val = _number(bytes(raw), tok, start)
        elif tok == 0x42:  # B
            raw, start, pos = _text(data, pos, limits, "byte array")
            val = bytes(raw)
        elif tok in {0x2D, 0x3A}:
            raise WXFDecodeError(f"rule token at offset {at} outside an association")
        else:
            # A run of simple atoms goes straight into the open frame (one at a time in an
            # association, whose keys and values alternate with rule marks).
            before = len(items)
            pos = _read_atoms(
                data, at, 1 if kind >= _ASSOC or kind == _ROOT else remaining, items, symbols,
                max_length,
            )  # fmt: skip
            got = len(items) - before
            if not got:
                raise WXFDecodeError(f"unknown token 0x{tok:02x} at offset {at}")
            remaining -= got - 1
            val = items.pop()

        # Deliver `val` to the open frame; close every frame it completes.
        while True:
            items.append(val)
            remaining -= 1
            if remaining:
                if kind == _ASSOC and not remaining & 1:
                    mark = data[pos]
                    if mark not in {0x2D, 0x3A}:
                        raise WXFDecodeError(f"expected a rule at offset {pos}, got 0x{mark:02x}")
                    extra.append(mark)
                    pos += 1
                break
            if kind == _LIST:
                val = items
            elif kind == _FUNC:
                val = _finish_func(extra, items)
            elif kind == _FUNC_HEAD:
                val = _finish_func(items[0], items[1:])
            elif kind == _ASSOC:
                val = _finish_assoc(items, extra)
            else:
                return items[0], pos
            kind, items, remaining, extra = stack.pop()
            depth -= 1


def _number(raw: bytes, tok: int, at: int) -> object:
    if tok == 0x49:
        if _BIG_INT.fullmatch(raw) is None:
            raise WXFDecodeError(f"invalid BigInteger text {raw[:60]!r} at offset {at}")
        try:
            return int(raw)
        except ValueError:
            # More digits than sys.int_max_str_digits allows; decimal converts exactly.
            try:
                return int(Decimal(raw.decode("ascii")))
            except (InvalidOperation, ValueError):
                raise WXFDecodeError(f"invalid BigInteger text at offset {at}") from None
    try:
        return BigReal(raw.decode("ascii"))
    except (UnicodeDecodeError, WXFError):
        raise WXFDecodeError(f"invalid BigReal text {raw[:60]!r} at offset {at}") from None


def header_length(data: Any) -> int | None:
    """Return 2 for ``8:``, 3 for ``8C:``, None if ``data`` is too short to tell.

    Raises:
        WXFDecodeError: not a WXF header.
    """
    n = len(data)
    if n == 0:
        return None
    if data[0] != 0x38:
        raise WXFDecodeError(f"invalid WXF version byte 0x{data[0]:02x} (expected '8')")
    if n < 2:
        return None
    if data[1] == 0x3A:
        return 2
    if data[1] != 0x43:
        raise WXFDecodeError("failed to find the WXF header separator ':'")
    if n < 3:
        return None
    if data[2] != 0x3A:
        raise WXFDecodeError("failed to find the WXF header separator ':'")
    return 3


def inflate(body: Any, limits: Limits) -> tuple[bytes, bytes, bool]:
    """Inflate a zlib stream within ``max_size``; return (inflated, unused input, finished)."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(body, limits.max_size + 1)
    except zlib.error as exc:
        raise WXFDecodeError(f"bad zlib stream in 8C: document: {exc}") from None
    if len(out) > limits.max_size:
        raise WXFLimitError(f"inflated document exceeds max_size {limits.max_size}")
    return out, inflater.unused_data, inflater.eof


def loads(data: bytes | bytearray | memoryview, *, limits: Limits | None = None) -> Any:
    """Decode exactly one WXF document.

    Args:
        data: the whole document. With immutable ``bytes`` input, packed arrays are read-only
            zero-copy views of it; other buffers are copied once first.
        limits: receiver limits (default :class:`Limits`()).

    Returns:
        The expression, with the natural Python types of the module docstring.

    Raises:
        WXFDecodeError: malformed, truncated, trailing bytes after the expression;
            ``WXFLimitError`` when a limit is exceeded.
    """
    lim = DEFAULT_LIMITS if limits is None else limits
    if not isinstance(data, bytes):
        if not isinstance(data, bytearray | memoryview):
            raise WXFDecodeError(f"expected bytes, not {type(data).__name__}")
        data = bytes(data)
    if len(data) > lim.max_size:
        raise WXFLimitError(f"document of {len(data)} bytes exceeds max_size {lim.max_size}")
    start = header_length(data)
    if start is None:
        raise WXFDecodeError("truncated WXF header")
    if start == 3:
        body, unused, finished = inflate(memoryview(data)[3:], lim)
        if not finished:
            raise WXFDecodeError("truncated zlib stream in 8C: document")
        if unused:
            raise WXFDecodeError(f"{len(unused)} trailing bytes after the zlib stream")
        data, start = body, 0
    try:
        value, stop = build(data, start, lim, zero_copy=True)
    except Truncated:
        raise WXFDecodeError(f"truncated WXF document ({len(data)} bytes)") from None
    if stop != len(data):
        raise WXFDecodeError(f"{len(data) - stop} trailing bytes after the expression")
    return value
