"""A short path for small documents: one packet on a link is a few dozen bytes.

The general decoder (:mod:`._decoder`) is built for large trees: an explicit frame stack, bulk
readers for runs and rows, the collector paused for big documents. For a document such as
``EvaluatePacket[Plus[1, 1]]`` that set-up costs more than the decoding itself. This module reads
the common shapes of small documents -- calls with short symbol or compound heads, integers,
machine reals, short strings and symbols -- with plain recursion, which for documents of at most
``SMALL_MAX`` bytes stays shallow (every level takes at least two bytes).

It either returns exactly what the general decoder would, or raises :class:`NotSmall` and
leaves the document to the general decoder, which then also produces the precise error for
malformed or over-limit input. Any token it does not handle, any length of 128 or more (a
multi-byte varint) and anything that would touch a limit makes it give up; it never reports an
error itself.
"""

from __future__ import annotations

from typing import Any, Final

from wstp_jupyter.wxf._decode_parts import (
    HEADS,
    SYMBOLS,
    UNPACK_D,
    UNPACK_H,
    UNPACK_I,
    UNPACK_Q,
    Limits,
    finish_func,
    head_symbol,
    symbol_value,
)
from wstp_jupyter.wxf._model import COMPLEX, LIST, RATIONAL, Expr

SMALL_MAX: Final = 512  # documents up to this many bytes try the short path first


class NotSmall(Exception):
    """The document needs the general decoder (internal)."""


def build_small(data: bytes, pos: int, limits: Limits) -> tuple[Any, int]:
    """Decode one expression at ``pos`` of a small, complete ``bytes`` document.

    Returns:
        ``(value, offset after the expression)``.

    Raises:
        NotSmall: the input has a shape this path leaves to the general decoder, including
            every malformed, truncated or over-limit input.
    """
    max_length = limits.max_length
    short_max = 0x80 if max_length >= 0x7F else max_length + 1
    try:
        return _read(data, pos, 0, limits.max_depth, short_max)
    except NotSmall:
        raise
    except Exception:  # truncation (IndexError), bad UTF-8, deep recursion...
        raise NotSmall from None


def _read(data: bytes, pos: int, depth: int, max_depth: int, short_max: int) -> tuple[Any, int]:
    tok = data[pos]
    if tok == 0x66:  # f
        n = data[pos + 1]
        if depth >= max_depth or n >= short_max:
            raise NotSmall
        pos += 2
        size = data[pos + 1]
        if data[pos] == 0x73 and size < short_max:
            stop = pos + 2 + size
            raw = data[pos + 2 : stop]
            if len(raw) != size:
                raise NotSmall
            head = HEADS.get(raw)
            if head is None:
                head = head_symbol(raw, pos + 2)
            pos = stop
        else:
            head, pos = _read(data, pos, depth + 1, max_depth, short_max)
        args = []
        for _ in range(n):
            value, pos = _read(data, pos, depth + 1, max_depth, short_max)
            args.append(value)
        if head is LIST:
            return args, pos
        if head is RATIONAL or head is COMPLEX:
            return finish_func(head, args), pos
        e = Expr.__new__(Expr)
        e._head = head
        e._args = tuple(args)
        return e, pos
    if tok == 0x43:  # C
        v = data[pos + 1]
        return (v - 256 if v > 127 else v), pos + 2
    if tok == 0x69:  # i
        return UNPACK_I(data, pos)[0], pos + 5
    if tok == 0x6A:  # j
        return UNPACK_H(data, pos)[0], pos + 3
    if tok == 0x72:  # r
        return UNPACK_D(data, pos)[0], pos + 9
    if tok == 0x4C:  # L
        return UNPACK_Q(data, pos)[0], pos + 9
    if tok in {0x53, 0x73}:  # S, s
        size = data[pos + 1]
        if size >= short_max:
            raise NotSmall
        stop = pos + 2 + size
        raw = data[pos + 2 : stop]
        if len(raw) != size:
            raise NotSmall
        if tok == 0x53:
            return raw.decode(), stop
        sym = SYMBOLS.get(raw, SYMBOLS)
        if sym is SYMBOLS:
            sym = symbol_value(raw, pos + 2)
        return sym, stop
    raise NotSmall


__all__ = ["SMALL_MAX", "NotSmall", "build_small"]
