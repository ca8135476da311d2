"""WXF writer: Python values and model objects to one WXF document.

How it works: one loop writes into a local ``bytearray`` with ``+=`` (cheaper than collecting
pieces and joining them) and walks compound values with an explicit stack of iterators, so any
depth works without recursion. Given a ``max_depth`` (a receiver's ``Limits.max_depth``), the
writer refuses a value that nests deeper, counting levels as the decoder does: every function
or association token opened below ``max_depth`` others is one too many. Dispatch is on the
exact type, most frequent types first; an atom costs no function call. Symbols carry their
encoded bytes. Long homogeneous lists of ints or floats are written by numpy in one vectorised
step. Large buffers (array data, byte strings)
are not copied into the bytearray but kept as separate chunks, so ``dumps`` copies them exactly
once, into the final document, and :func:`dump_chunks` not at all.

Mapping (see docs/wxf.md): ``int`` -> the smallest integer token or BigInteger; ``float`` ->
Real64 (inf/-inf/nan -> ``DirectedInfinity[1]``/``DirectedInfinity[-1]``/``Indeterminate``);
``str`` -> String; ``bytes``/``bytearray``/``memoryview`` -> ByteArray; ``True``/``False``/``None``
-> symbols; ``list``/``tuple`` -> ``List``; ``dict`` -> Association of rules; ``Fraction`` ->
``Rational``; ``complex`` -> ``Complex``; ``Decimal`` -> BigReal; numpy arrays -> PackedArray
(unsigned dtypes -> NumericArray); ``NumericArray`` -> NumericArray.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterator
from typing import Any, Final

from wstp_jupyter.wxf._encode_parts import (
    F_HDR,
    INT8,
    LIST_HDR,
    LIST_SYM,
    S_HDR,
    VECTOR_MIN,
    Raw,
    big_int,
    dict_parts,
    float_special,
    other,
    pack_i,
    pack_j,
    pack_L,
    pack_r,
    varint,
    vector_run,
)
from wstp_jupyter.wxf._errors import WXFDepthError, WXFEncodeError, WXFError
from wstp_jupyter.wxf._model import Expr, Symbol

# Buffers at least this big become chunks of their own instead of being copied into the output.
_CHUNK_MIN: Final = 1 << 16


def _too_deep(max_depth: int) -> WXFDepthError:
    return WXFDepthError(f"the value nests deeper than max_depth {max_depth}")


def _encode(root: object, max_depth: int) -> list[Any]:
    chunks: list[Any] = []
    out = bytearray(b"8:")
    stack: list[Iterator[Any]] = []
    # Stack heights at which the open iterator belongs to no compound token (a plan of other()
    # that only converts a value): those levels are not nesting on the wire. The depth of the
    # next token is len(stack) - len(hollow); len(stack) alone is an upper bound, so the exact
    # count is only taken near the limit.
    hollow: list[int] = []
    it: Iterator[Any] = iter((root,))
    while True:
        for x in it:
            t = x.__class__
            if t is int:
                if -128 <= x < 128:
                    out += INT8[x + 128]
                elif -32768 <= x < 32768:
                    out += pack_j(0x6A, x)
                elif -2147483648 <= x < 2147483648:
                    out += pack_i(0x69, x)
                elif -9223372036854775808 <= x < 9223372036854775808:
                    out += pack_L(0x4C, x)
                else:
                    out += big_int(x)
            elif t is str:
                b = x.encode()
                n = len(b)
                out += S_HDR[n] if n < 128 else b"S" + varint(n)
                out += b
            elif t is float:
                out += pack_r(0x72, x) if x - x == 0.0 else float_special(x)
            elif t is Symbol:
                out += x._wxf
            elif t is Expr:
                if len(stack) >= max_depth and len(stack) - len(hollow) >= max_depth:
                    raise _too_deep(max_depth)
                args = x._args
                n = len(args)
                out += F_HDR[n] if n < 128 else b"f" + varint(n)
                head = x._head
                if head.__class__ is Symbol:
                    out += head._wxf
                    if n:
                        stack.append(it)
                        it = iter(args)
                        break
                else:
                    stack.append(it)
                    it = iter((head, *args))
                    break
            elif t is list:
                if len(stack) >= max_depth and len(stack) - len(hollow) >= max_depth:
                    raise _too_deep(max_depth)
                n = len(x)
                out += LIST_HDR[n] if n < 128 else b"f" + varint(n) + LIST_SYM
                if n >= VECTOR_MIN:
                    run = vector_run(x)
                    if run is not None:
                        out += run
                        continue
                if n:
                    stack.append(it)
                    it = iter(x)
                    break
            elif t is dict:
                if len(stack) >= max_depth and len(stack) - len(hollow) >= max_depth:
                    raise _too_deep(max_depth)
                out += b"A" + varint(len(x))
                if x:
                    stack.append(it)
                    it = dict_parts(x.items())
                    break
            elif t is Raw:
                out += x
            else:
                prefix, children, payload = other(x)
                compound = prefix[:1] in (b"f", b"A")
                if compound and len(stack) - len(hollow) >= max_depth:
                    raise _too_deep(max_depth)
                out += prefix
                if payload is not None:
                    if len(payload) >= _CHUNK_MIN:
                        chunks.append(out)
                        chunks.append(payload)
                        out = bytearray()
                    else:
                        out += payload
                if children is not None:
                    stack.append(it)
                    it = children
                    if not compound:
                        hollow.append(len(stack))
                    break
        else:
            if not stack:
                break
            if hollow and hollow[-1] == len(stack):
                hollow.pop()
            it = stack.pop()
    if out or not chunks:
        chunks.append(out)
    return chunks


def dump_chunks(expr: object, *, max_depth: int | None = None) -> list[Any]:
    """Return an uncompressed WXF document as a list of bytes-like chunks.

    Joining the chunks gives :func:`dumps`'s result. Array data and byte strings of 64 KiB or
    more appear as zero-copy ``memoryview`` chunks of the caller's objects (C-contiguous,
    little-endian numpy data), so the chunks can go straight to ``socket.sendmsg``; they are
    valid while those objects are left unchanged.

    Args:
        expr: the value.
        max_depth: refuse a value nested deeper than this (a receiver's ``Limits.max_depth``,
            counted as the decoder counts it); ``None``: any depth.

    Raises:
        WXFDepthError: ``expr`` nests deeper than ``max_depth`` (nothing is returned).
        WXFEncodeError: a part of ``expr`` has no WXF form.
    """
    try:
        return _encode(expr, sys.maxsize if max_depth is None else max_depth)
    except UnicodeEncodeError as exc:
        raise WXFEncodeError(f"string is not valid Unicode text: {exc.reason}") from None
    except WXFEncodeError:
        raise
    except (WXFError, OverflowError, ValueError, TypeError) as exc:
        raise WXFEncodeError(str(exc)) from exc


def dumps(expr: object, *, compress: bool = False, max_depth: int | None = None) -> bytes:
    """Serialize ``expr`` as one WXF document.

    Args:
        expr: a model object or a natural Python value (see the module docstring for the mapping).
        compress: write ``8C:`` and a zlib stream instead of ``8:`` and the raw expression.
        max_depth: refuse a value nested deeper than this (see :func:`dump_chunks`).

    Returns:
        The document, header included.

    Raises:
        WXFEncodeError: a part of ``expr`` has no WXF form (unsupported type, unencodable text,
            an empty ``NumericArray``, a numpy dtype with no element type); ``WXFDepthError``
            when it nests deeper than ``max_depth``.
    """
    chunks = dump_chunks(expr, max_depth=max_depth)
    if compress:
        body = zlib.compressobj()
        parts = [b"8C:", body.compress(memoryview(chunks[0])[2:])]
        parts.extend(body.compress(c) for c in chunks[1:])
        parts.append(body.flush())
        return b"".join(parts)
    if len(chunks) == 1:
        return bytes(chunks[0])
    return b"".join(chunks)
