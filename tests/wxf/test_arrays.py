"""Packed and numeric arrays: every element type, layouts, byte orders and the empty policy."""

from __future__ import annotations

import numpy as np
import pytest
from wolframclient.deserializers import binary_deserialize

from wstp_jupyter.wxf import NumericArray, WXFEncodeError, dump_chunks, dumps, loads

PACKABLE = {
    "i1": 0x00,
    "<i2": 0x01,
    "<i4": 0x02,
    "<i8": 0x03,
    "<f4": 0x22,
    "<f8": 0x23,
    "<c8": 0x33,
    "<c16": 0x34,
}
UNSIGNED = {"u1": 0x10, "<u2": 0x11, "<u4": 0x12, "<u8": 0x13}


def _sample(dtype: str) -> np.ndarray:
    base = np.arange(1, 7).reshape(2, 3)
    if dtype.lstrip("<").startswith("c"):
        return (base + 1j * base).astype(dtype)
    return base.astype(dtype)


@pytest.mark.parametrize(("dtype", "code"), PACKABLE.items())
def test_packable_dtypes_travel_as_packed_arrays(dtype: str, code: int) -> None:
    arr = _sample(dtype)
    doc = dumps(arr)
    assert doc[2] == 0xC1 and doc[3] == code
    assert doc[4:7] == b"\x02\x02\x03"
    assert doc[7:] == arr.tobytes()
    back = loads(doc)
    assert isinstance(back, np.ndarray)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    assert np.array_equal(back, arr)
    assert np.array_equal(np.asarray(binary_deserialize(doc)), arr)


@pytest.mark.parametrize(("dtype", "code"), {**PACKABLE, **UNSIGNED}.items())
def test_numeric_arrays_of_every_type(dtype: str, code: int) -> None:
    arr = _sample(dtype)
    forced = dumps(NumericArray(arr))
    assert forced[2] == 0xC2 and forced[3] == code
    back = loads(forced)
    assert isinstance(back, NumericArray)
    assert back == NumericArray(arr)
    assert np.array_equal(binary_deserialize(forced), arr)
    if dtype in UNSIGNED:
        assert dumps(arr) == forced  # unsigned data has no packed form


def test_big_endian_and_non_contiguous_are_converted() -> None:
    arr = np.arange(12, dtype=">i4").reshape(3, 4)
    assert dumps(arr) == dumps(arr.astype("<i4"))
    assert np.array_equal(loads(dumps(arr)), arr)
    strided = np.arange(20, dtype=np.float64)[::2]
    assert not strided.flags.c_contiguous
    assert np.array_equal(loads(dumps(strided)), strided)
    fortran = np.asfortranarray(np.arange(6).reshape(2, 3))
    assert np.array_equal(loads(dumps(fortran)), fortran)


def test_other_dtypes() -> None:
    assert loads(dumps(np.array([True, False]))) == [True, False]
    half = np.array([0.5, 1.5], dtype=np.float16)
    back = loads(dumps(half))
    assert back.dtype == np.float32 and back.tolist() == [0.5, 1.5]
    assert loads(dumps(np.array(["a", "b"]))) == ["a", "b"]
    assert loads(dumps(np.array(7))) == 7
    with pytest.raises(WXFEncodeError):
        dumps(np.array([1], dtype="datetime64[s]"))


def test_empty_array_policy() -> None:
    # Encoding: an empty array becomes nested Lists (WL has no empty packed array literal).
    assert loads(dumps(np.zeros((0,)))) == []
    assert loads(dumps(np.zeros((2, 0)))) == [[], []]
    with pytest.raises(WXFEncodeError):
        dumps(NumericArray(np.zeros((0,), np.uint8)))
    # Decoding: a zero dimension is accepted and gives an empty array of that shape.
    back = loads(b"8:\xc1\x03\x02\x02\x00")
    assert isinstance(back, np.ndarray) and back.shape == (2, 0) and back.dtype == np.int64


def test_large_float_array_is_one_copy_each_way() -> None:
    arr = np.random.default_rng(3).random(1_000_000)
    chunks = dump_chunks(arr)
    assert len(chunks) == 2 and isinstance(chunks[1], memoryview)
    assert np.shares_memory(np.frombuffer(chunks[1], np.float64), arr)
    doc = dumps(arr)
    assert len(doc) == 2 + 4 + 2 + 8_000_000  # header, C1 type rank, varint(1e6), data
    assert np.array_equal(loads(doc), arr)
