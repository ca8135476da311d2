"""Byte values of the WXF format (reference.wolfram.com/language/tutorial/WXFFormatDescription).

Tokens are kept as ``int`` because the decoder compares ``data[pos]`` (an int) against them;
the encoder uses the ``bytes`` forms. Array element types map to little-endian numpy dtypes.
"""

from __future__ import annotations

from typing import Final

import numpy as np

# Header: "8:" then one expression, or "8C:" then a zlib stream of one expression.
VERSION: Final = 0x38  # "8"
COMPRESS_MARK: Final = 0x43  # "C"
SEPARATOR: Final = 0x3A  # ":"
HEADER: Final = b"8:"
HEADER_COMPRESSED: Final = b"8C:"

# Expression tokens (WXF format description, "Expression tokens").
FUNCTION: Final = 0x66  # f
SYMBOL: Final = 0x73  # s
STRING: Final = 0x53  # S
BINARY_STRING: Final = 0x42  # B
INTEGER8: Final = 0x43  # C
INTEGER16: Final = 0x6A  # j
INTEGER32: Final = 0x69  # i
INTEGER64: Final = 0x4C  # L
REAL64: Final = 0x72  # r
BIG_INTEGER: Final = 0x49  # I
BIG_REAL: Final = 0x52  # R
PACKED_ARRAY: Final = 0xC1
NUMERIC_ARRAY: Final = 0xC2
ASSOCIATION: Final = 0x41  # A
RULE: Final = 0x2D  # -
RULE_DELAYED: Final = 0x3A  # :

# Varints carry at most 63 bits: 8 bytes with the continuation bit, then a final 9th byte.
VARINT_MAX_BYTES: Final = 9
VARINT_MAX: Final = (1 << 63) - 1

# Array element type code -> (WL name, little-endian numpy dtype, allowed in a PackedArray).
ARRAY_TYPES: Final[dict[int, tuple[str, np.dtype[np.generic], bool]]] = {
    0x00: ("Integer8", np.dtype("i1"), True),
    0x01: ("Integer16", np.dtype("<i2"), True),
    0x02: ("Integer32", np.dtype("<i4"), True),
    0x03: ("Integer64", np.dtype("<i8"), True),
    0x10: ("UnsignedInteger8", np.dtype("u1"), False),
    0x11: ("UnsignedInteger16", np.dtype("<u2"), False),
    0x12: ("UnsignedInteger32", np.dtype("<u4"), False),
    0x13: ("UnsignedInteger64", np.dtype("<u8"), False),
    0x22: ("Real32", np.dtype("<f4"), True),
    0x23: ("Real64", np.dtype("<f8"), True),
    0x33: ("ComplexReal32", np.dtype("<c8"), True),
    0x34: ("ComplexReal64", np.dtype("<c16"), True),
}

# numpy dtype (compared by kind and size, byte order ignored) -> element type code.
DTYPE_CODES: Final[dict[tuple[str, int], int]] = {
    (dt.kind, dt.itemsize): code for code, (_, dt, _) in ARRAY_TYPES.items()
}

# WL element type name -> element type code.
TYPE_NAMES: Final[dict[str, int]] = {name: code for code, (name, _, _) in ARRAY_TYPES.items()}
