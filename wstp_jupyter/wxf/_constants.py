"""Byte values of the WXF format (reference.wolfram.com/language/tutorial/WXFFormatDescription).

Tokens are kept as ``int`` because the decoder compares ``data[pos]`` (an int) against them;
the encoder uses the ``bytes`` forms. Array element types map to little-endian numpy dtypes,
named by their strings so that importing the codec does not import numpy (a process that never
meets an array never pays for it).
"""

from __future__ import annotations

from typing import Final, NamedTuple


class ArrayType(NamedTuple):
    """One WXF array element type."""

    name: str  # the WL name, e.g. "Real64"
    dtype: str  # the little-endian numpy dtype string, e.g. "<f8"
    packable: bool  # allowed in a PackedArray (else NumericArray only)
    kind: str  # numpy dtype kind: "i", "u", "f" or "c"
    itemsize: int  # bytes per element

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

# Array element type code -> its ArrayType.
ARRAY_TYPES: Final[dict[int, ArrayType]] = {
    0x00: ArrayType("Integer8", "i1", True, "i", 1),
    0x01: ArrayType("Integer16", "<i2", True, "i", 2),
    0x02: ArrayType("Integer32", "<i4", True, "i", 4),
    0x03: ArrayType("Integer64", "<i8", True, "i", 8),
    0x10: ArrayType("UnsignedInteger8", "u1", False, "u", 1),
    0x11: ArrayType("UnsignedInteger16", "<u2", False, "u", 2),
    0x12: ArrayType("UnsignedInteger32", "<u4", False, "u", 4),
    0x13: ArrayType("UnsignedInteger64", "<u8", False, "u", 8),
    0x22: ArrayType("Real32", "<f4", True, "f", 4),
    0x23: ArrayType("Real64", "<f8", True, "f", 8),
    0x33: ArrayType("ComplexReal32", "<c8", True, "c", 8),
    0x34: ArrayType("ComplexReal64", "<c16", True, "c", 16),
}

# numpy dtype (compared by kind and size, byte order ignored) -> element type code.
DTYPE_CODES: Final[dict[tuple[str, int], int]] = {
    (t.kind, t.itemsize): code for code, t in ARRAY_TYPES.items()
}

# WL element type name -> element type code.
TYPE_NAMES: Final[dict[str, int]] = {t.name: code for code, t in ARRAY_TYPES.items()}
