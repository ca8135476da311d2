"""Pieces of the WXF reader: limits, varints, symbols, numbers, arrays, headers, finishers.

Everything here is called from the decoder's loop (:mod:`._decoder`) or the incremental
scanner, never per simple atom. Each function checks lengths against :class:`Limits` and against
the bytes present before it allocates, and raises ``Truncated`` when the buffer ends early.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from math import gcd
from typing import Any, Final

from wstp_jupyter.wxf._atoms import Association, BigReal, NumericArray
from wstp_jupyter.wxf._constants import ARRAY_TYPES, ArrayType
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

# Each reads the value after a one-byte token, unpacking at the token's own offset.
UNPACK_H: Final = struct.Struct("<xh").unpack_from
UNPACK_I: Final = struct.Struct("<xi").unpack_from
UNPACK_Q: Final = struct.Struct("<xq").unpack_from
UNPACK_D: Final = struct.Struct("<xd").unpack_from


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


_BIG_INT: Final = re.compile(rb"-?[0-9]+")

# Symbols decoded to Python values, by their exact WXF name bytes.
_PRESET: Final[dict[bytes, object]] = {b"True": True, b"False": False, b"Null": None}
AS_HEAD: Final[dict[object, Symbol]] = {True: TRUE, False: FALSE, None: NULL}
# The decoder compares heads by identity, so these names always yield the module's instances.
_CANONICAL: Final[dict[str, Symbol]] = {
    s.name: s for s in (LIST, RULE, RULE_DELAYED, RATIONAL, COMPLEX, ASSOCIATION)
}
SEED: Final[dict[bytes, object]] = {
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


# Decoded symbols by their name bytes, shared across documents: symbols are immutable, and small
# documents (one packet on a link) would otherwise spend most of their decoding time building the
# same few Symbol objects again. The decoder reads SYMBOLS directly and calls symbol_value on a
# miss; HEADS holds the same for call heads (True/False/Null as heads stay symbols). Both are
# bounded so that hostile input cannot grow them without limit; the seeds keep the canonical
# instances the decoder compares by identity.
SYMBOLS: Final[dict[bytes, object]] = dict(SEED)
HEADS: Final[dict[bytes, Symbol]] = {b"List": LIST}
_CACHE_MAX: Final = 4096


def symbol_value(raw: bytes, at: int) -> object:
    """The decoded value of the symbol named ``raw`` (cached in ``SYMBOLS``)."""
    cached = SYMBOLS.get(raw, SYMBOLS)
    if cached is not SYMBOLS:
        return cached
    value = _symbol_value(raw, at)
    if len(SYMBOLS) >= _CACHE_MAX:
        SYMBOLS.clear()
        SYMBOLS.update(SEED)
    SYMBOLS[bytes(raw)] = value
    return value


def head_symbol(raw: bytes, at: int) -> Symbol:
    """The head ``Symbol`` named ``raw`` (cached in ``HEADS``)."""
    value = symbol_value(raw, at)
    head = value if isinstance(value, Symbol) else AS_HEAD[value]
    if len(HEADS) >= _CACHE_MAX:
        HEADS.clear()
        HEADS[b"List"] = LIST
    HEADS[bytes(raw)] = head
    return head


def _symbol_value(raw: bytes, at: int) -> object:
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


def finish_func(head: object, args: list[Any]) -> object:
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


def finish_assoc(items: list[Any], marks: list[int]) -> object:
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


def array_header(
    data: Any, pos: int, tok: int, at: int, limits: Limits
) -> tuple[ArrayType, list[int], int, int]:
    """Read an array's element type, rank and dimensions (``pos``: after the 0xC1/0xC2 token).

    ``at`` is the token's offset as error messages give it. Used by the builder and by the
    incremental scanner, so both accept and refuse exactly the same headers.

    Returns:
        ``(element type, dimensions, element count, offset of the data)``.

    Raises:
        IndexError / Truncated: the buffer ends inside the header.
        WXFDecodeError: unknown type, a type a PackedArray cannot hold, rank 0;
            ``WXFLimitError`` for a rank over 64 or more than ``max_length`` elements.
    """
    code = data[pos]
    spec = ARRAY_TYPES.get(code)
    if spec is None:
        raise WXFDecodeError(f"unknown array element type 0x{code:02x} at offset {at + 1}")
    if tok == 0xC1 and not spec.packable:
        raise WXFDecodeError(f"a PackedArray cannot hold {spec.name} (offset {at + 1})")
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
    return spec, dims, count, pos


def read_array(data: Any, pos: int, tok: int, limits: Limits, zero_copy: bool) -> tuple[Any, int]:
    at = pos - 1
    end = len(data)
    if pos >= end:
        raise Truncated
    spec, dims, count, pos = array_header(data, pos, tok, at, limits)
    nbytes = count * spec.itemsize
    if nbytes > limits.max_size:
        raise WXFLimitError(f"array of {nbytes} bytes exceeds max_size (offset {at})")
    stop = pos + nbytes
    if stop > end:
        raise Truncated
    import numpy as np  # only documents with arrays need it

    arr = np.frombuffer(data, dtype=spec.dtype, count=count, offset=pos).reshape(dims)
    if not zero_copy:
        arr = arr.copy()
    if tok == 0xC2:
        na = NumericArray.__new__(NumericArray)
        na._array = arr
        return na, stop
    return arr, stop


def read_text(data: Any, pos: int, limits: Limits, what: str) -> tuple[Any, int, int]:
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


def read_number(raw: bytes, tok: int, at: int) -> object:
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
