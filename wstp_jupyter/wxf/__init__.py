"""The expression model and the WXF codec (no I/O).

WXF is the Wolfram Language's binary expression format (``BinarySerialize``). This package maps
it to Python: :class:`Symbol` and :class:`Expr` for symbolic structure, natural Python values for
atoms, :class:`BigReal`, :class:`Association` and :class:`NumericArray` where no built-in type is
exact. :func:`dumps` / :func:`loads` convert whole documents; :class:`Decoder` reads a stream of
documents incrementally under receiver :class:`Limits`. See docs/wxf.md for the type mapping.
"""

from __future__ import annotations

from wstp_jupyter.wxf._atoms import Association, BigReal, NumericArray
from wstp_jupyter.wxf._decoder import Limits, loads, peek_head
from wstp_jupyter.wxf._encoder import dump_chunks, dumps
from wstp_jupyter.wxf._errors import (
    WXFDecodeError,
    WXFDepthError,
    WXFEncodeError,
    WXFError,
    WXFLimitError,
)
from wstp_jupyter.wxf._incremental import NEED_DATA, Decoder
from wstp_jupyter.wxf._inputform import input_form
from wstp_jupyter.wxf._model import (
    ABORTED,
    ASSOCIATION,
    COMPLEX,
    DIRECTED_INFINITY,
    FAILED,
    FALSE,
    INDETERMINATE,
    LIST,
    NULL,
    RATIONAL,
    RULE,
    RULE_DELAYED,
    TRUE,
    Expr,
    Symbol,
    deep_equal,
    wl,
)

__all__ = [
    "ABORTED",
    "ASSOCIATION",
    "COMPLEX",
    "DIRECTED_INFINITY",
    "FAILED",
    "FALSE",
    "INDETERMINATE",
    "LIST",
    "NEED_DATA",
    "NULL",
    "RATIONAL",
    "RULE",
    "RULE_DELAYED",
    "TRUE",
    "Association",
    "BigReal",
    "Decoder",
    "Expr",
    "Limits",
    "NumericArray",
    "Symbol",
    "WXFDecodeError",
    "WXFDepthError",
    "WXFEncodeError",
    "WXFError",
    "WXFLimitError",
    "deep_equal",
    "dump_chunks",
    "dumps",
    "input_form",
    "loads",
    "peek_head",
    "wl",
]
