"""Golden bytes: every vector of the WXF reference, byte for byte in both directions."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from wstp_jupyter import wxf
from wstp_jupyter.wxf import BigReal, NumericArray, Symbol, dumps, loads, wl
from wstp_jupyter.wxf._decoder import read_varint
from wstp_jupyter.wxf._encoder import varint

VECTORS: list[tuple[str, object, str]] = [
    ("0", 0, "38 3a 43 00"),
    ("-1", -1, "38 3a 43 ff"),
    ("127", 127, "38 3a 43 7f"),
    ("128", 128, "38 3a 6a 80 00"),
    ("-129", -129, "38 3a 6a 7f ff"),
    ("2^31", 2**31, "38 3a 4c 00 00 00 80 00 00 00 00"),
    ("2^63", 2**63, "38 3a 49 13 39 32 32 33 33 37 32 30 33 36 38 35 34 37 37 35 38 30 38"),
    (
        "-2^70",
        -(2**70),
        "38 3a 49 17 2d 31 31 38 30 35 39 31 36 32 30 37 31 37 34 31 31 33 30 33 34 32 34",
    ),
    ("1.5", 1.5, "38 3a 72 00 00 00 00 00 00 f8 3f"),
    ("abc", "abc", "38 3a 53 03 61 62 63"),
    ("e-acute", "é", "38 3a 53 02 c3 a9"),
    ("Pi", wl.Pi, "38 3a 73 02 50 69"),
    ("Global`x", wl.Global.x, "38 3a 73 08 47 6c 6f 62 61 6c 60 78"),
    ("f[x, 1]", wl.f(wl.x, 1), "38 3a 66 02 73 01 66 73 01 78 43 01"),
    ("{1, 2}", [1, 2], "38 3a 66 02 73 04 4c 69 73 74 43 01 43 02"),
    ("ByteArray", b"\x01\x02", "38 3a 42 02 01 02"),
    ("<|a -> 1|>", {"a": 1}, "38 3a 41 01 2d 53 01 61 43 01"),
    ("Decimal 1.25", Decimal("1.25"), "38 3a 52 08 31 2e 32 35 60 60 32 38"),
    ("Rational", Fraction(1, 3), "38 3a 66 02 73 08 52 61 74 69 6f 6e 61 6c 43 01 43 03"),
    (
        "Complex",
        complex(1.0, 2.0),
        "38 3a 66 02 73 07 43 6f 6d 70 6c 65 78 72 00 00 00 00 00 00 f0 3f "
        "72 00 00 00 00 00 00 00 40",
    ),
    ("Null", None, "38 3a 73 04 4e 75 6c 6c"),
    ("True", True, "38 3a 73 04 54 72 75 65"),
    ("Rule", wl.Rule(wl.a, wl.b), "38 3a 66 02 73 04 52 75 6c 65 73 01 61 73 01 62"),
    (
        "RuleDelayed",
        wl.RuleDelayed(wl.a, wl.b),
        "38 3a 66 02 73 0b 52 75 6c 65 44 65 6c 61 79 65 64 73 01 61 73 01 62",
    ),
    (
        "Packed Integer8",
        np.array([[1, 2], [3, 4]], dtype=np.int8),
        "38 3a c1 00 02 02 02 01 02 03 04",
    ),
    (
        "Packed Integer64",
        np.array([1, 2], dtype=np.int64),
        "38 3a c1 03 01 02 01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00",
    ),
    (
        "NumericArray UnsignedInteger8",
        NumericArray(np.array([1, 2, 3], dtype=np.uint8)),
        "38 3a c2 10 01 03 01 02 03",
    ),
    (
        "NumericArray Real64",
        NumericArray(np.array([1.0, 2.0])),
        "38 3a c2 23 01 02 00 00 00 00 00 00 f0 3f 00 00 00 00 00 00 00 40",
    ),
    (
        "NumericArray Integer64 2x2",
        NumericArray(np.array([[1, 2], [3, 4]], dtype=np.int64)),
        "38 3a c2 03 02 02 02 01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 "
        "03 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00",
    ),
    (
        "NumericArray ComplexReal64",
        NumericArray(np.array([1 + 2j])),
        "38 3a c2 34 01 01 00 00 00 00 00 00 f0 3f 00 00 00 00 00 00 00 40",
    ),
    ("Quit[]", wl.Quit(), "38 3a 66 00 73 04 51 75 69 74"),
]


@pytest.mark.parametrize(("name", "value", "hexbytes"), VECTORS, ids=[v[0] for v in VECTORS])
def test_vector_encodes_exactly(name: str, value: object, hexbytes: str) -> None:
    assert dumps(value) == bytes.fromhex(hexbytes)


@pytest.mark.parametrize(("name", "value", "hexbytes"), VECTORS, ids=[v[0] for v in VECTORS])
def test_vector_decodes_to_value(name: str, value: object, hexbytes: str) -> None:
    decoded = loads(bytes.fromhex(hexbytes))
    if isinstance(value, Decimal):
        assert decoded == BigReal("1.25``28")
        assert decoded.to_decimal() == value
    else:
        assert wxf.deep_equal(decoded, value)
        assert dumps(decoded) == bytes.fromhex(hexbytes)


def test_packed_integer64_decodes_to_ndarray() -> None:
    arr = loads(bytes.fromhex(VECTORS[25][2]))
    assert isinstance(arr, np.ndarray)
    assert arr.dtype == np.int64
    assert arr.tolist() == [1, 2]


def test_reference_decoding_checks() -> None:
    assert loads(b"8:A\x01:S\x01aC\x05") == wxf.Association([wl.RuleDelayed("a", 5)])
    big = loads(b"8:R\x1a3.14159265358979323846`20.")
    assert isinstance(big, BigReal)
    assert big.to_decimal() == Decimal("3.14159265358979323846")
    assert big.precision == 20.0
    assert dumps(big) == b"8:R\x1a3.14159265358979323846`20."


def test_compressed_30_element_list() -> None:
    value = list(range(1, 31))
    doc = dumps(value, compress=True)
    assert doc[:3] == b"8C:"
    import zlib

    inflated = zlib.decompress(doc[3:])
    assert inflated[:14] == bytes.fromhex("66 1e 73 04 4c 69 73 74 43 01 43 02 43 03")
    assert loads(doc) == value


@pytest.mark.parametrize(
    ("value", "hexbytes"),
    [
        (0, "00"),
        (1, "01"),
        (127, "7f"),
        (128, "80 01"),
        (300, "ac 02"),
        (16383, "ff 7f"),
        (16384, "80 80 01"),
        (2**35, "80 80 80 80 80 01"),
        (2**63 - 1, "ff ff ff ff ff ff ff ff 7f"),
    ],
)
def test_varint(value: int, hexbytes: str) -> None:
    raw = bytes.fromhex(hexbytes)
    assert varint(value) == raw
    assert read_varint(raw, 0) == (value, len(raw))


def test_varint_rejects_out_of_range() -> None:
    with pytest.raises(wxf.WXFEncodeError):
        varint(-1)
    with pytest.raises(wxf.WXFEncodeError):
        varint(2**63)


@pytest.mark.parametrize(
    "raw",
    [
        "ff ff ff ff ff ff ff ff 80 01",  # 9th byte with a continuation bit: 10 bytes
        "80 00",  # non-minimal zero
        "ff 80 00",  # non-minimal
    ],
)
def test_varint_overlong_is_rejected(raw: str) -> None:
    doc = b"8:S" + bytes.fromhex(raw)
    with pytest.raises(wxf.WXFDecodeError, match="varint"):
        loads(doc)


def test_integer_width_boundaries() -> None:
    cases = {
        -128: b"C",
        127: b"C",
        -129: b"j",
        128: b"j",
        -32768: b"j",
        32767: b"j",
        -32769: b"i",
        32768: b"i",
        -(2**31): b"i",
        2**31 - 1: b"i",
        -(2**31) - 1: b"L",
        -(2**63): b"L",
        2**63 - 1: b"L",
        -(2**63) - 1: b"I",
    }
    for value, token in cases.items():
        doc = dumps(value)
        assert doc[2:3] == token, value
        assert loads(doc) == value
        # The vectorised list path must pick the same widths.
        assert dumps([value] * 20) == b"8:f\x14s\x04List" + doc[2:] * 20


def test_symbol_normalises_system_context() -> None:
    assert dumps(Symbol("System`Plus")) == dumps(wl.Plus) == b"8:s\x04Plus"
    assert loads(b"8:s\x0bSystem`Plus") == wl.Plus
    assert loads(b"8:s\x0bSystem`True") is True
