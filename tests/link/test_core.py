"""The sans-IO core on its own: two in-memory Connections wired together, golden bytes."""

from __future__ import annotations

import hashlib
import hmac
import struct
import uuid

import numpy as np
import pytest

from wstp_jupyter import wxf
from wstp_jupyter.link import (
    NEED_DATA,
    AuthenticationError,
    Close,
    Connected,
    Connection,
    ErrorCode,
    Expression,
    ExpressionDropped,
    LocalProtocolError,
    RemoteProtocolError,
    Role,
    State,
    UrgentMessage,
)
from wstp_jupyter.wxf import wl

NONCE_C = bytes(range(32))
NONCE_L = bytes(range(32, 64))
CID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def events(conn: Connection) -> list[object]:
    out = []
    while (ev := conn.next_event()) is not NEED_DATA:
        out.append(ev)
        if isinstance(ev, Close):
            break
    return out


def pump(a: Connection, b: Connection) -> tuple[list[object], list[object]]:
    """Exchange protocol bytes until both sides are quiet; returns the events each saw."""
    seen_a: list[object] = []
    seen_b: list[object] = []
    for _ in range(10):
        out_a, out_b = a.data_to_send(), b.data_to_send()
        if not out_a and not out_b:
            break
        if out_a:
            b.receive_data(out_a)
        if out_b:
            a.receive_data(out_b)
        seen_b += events(b)
        seen_a += events(a)
    return seen_a, seen_b


def pair(key_c: object = None, key_l: object = None) -> tuple[Connection, Connection]:
    c = Connection(Role.CONNECTOR, key=key_c, connection_id=CID, nonce=NONCE_C)  # type: ignore[arg-type]
    l_ = Connection(Role.LISTENER, key=key_l, nonce=NONCE_L)  # type: ignore[arg-type]
    return c, l_


def test_handshake_golden_bytes() -> None:
    c, l_ = pair(b"secret", b"secret")
    hello_c = c.data_to_send()
    hello_l = l_.data_to_send()
    # header: kind 0x01, flags 0, reserved 0, length 60 (little-endian u32)
    assert hello_c[:8] == bytes.fromhex("01 00 0000 3c000000")
    assert hello_c[8:16] == b"WSTPJLNK"
    assert hello_c[16:18] == b"\x01\x00"  # version 1
    assert hello_c[18:20] == b"\x00\x01"  # role connector, flags: keyed
    assert hello_c[20:52] == NONCE_C and hello_c[52:68] == CID.bytes
    assert hello_l[18:20] == b"\x01\x01" and hello_l[52:68] == bytes(16)
    l_.receive_data(hello_c)
    assert l_.next_event() is NEED_DATA and l_.state is State.AWAIT_AUTH
    c.receive_data(hello_l)
    assert c.next_event() is NEED_DATA and c.state is State.AWAIT_WELCOME
    auth = c.data_to_send()
    transcript = hello_c[8:] + hello_l[8:]
    proof_c = hmac.new(
        b"secret", b"wstp-jupyter/1 connector proof" + transcript, hashlib.sha256
    ).digest()
    assert auth == bytes.fromhex("02 00 0000 20000000") + proof_c
    l_.receive_data(auth)
    assert l_.next_event() == Connected(connection_id=CID, peer_version=1)
    welcome = l_.data_to_send()
    proof_l = hmac.new(
        b"secret", b"wstp-jupyter/1 listener proof" + transcript + CID.bytes, hashlib.sha256
    ).digest()
    assert welcome == bytes.fromhex("03 00 0000 30000000") + proof_l + CID.bytes
    c.receive_data(welcome)
    assert c.next_event() == Connected(connection_id=CID, peer_version=1)
    assert c.state is State.ESTABLISHED and l_.state is State.ESTABLISHED


def established() -> tuple[Connection, Connection]:
    c, l_ = pair()
    seen_c, seen_l = pump(c, l_)
    assert isinstance(seen_c[0], Connected) and isinstance(seen_l[0], Connected)
    return c, l_


def test_listener_assigns_connection_id_when_none_given() -> None:
    c = Connection(Role.CONNECTOR)
    l_ = Connection(Role.LISTENER)
    seen_c, seen_l = pump(c, l_)
    assert seen_c[0].connection_id == seen_l[0].connection_id  # type: ignore[attr-defined]
    assert seen_c[0].connection_id.version == 4  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("event", "golden"),
    [
        (Expression(expr=wl.f(1)), "10000000 09000000 383a 6601 730166 4301"),
        (Expression(expr="hi"), "10000000 06000000 383a 53026869"),
        (UrgentMessage(code=3), "11000000 08000000 03000000 00000000"),
        (UrgentMessage(code=200, arg=7), "11000000 08000000 c8000000 07000000"),
        (Close(code=0, reason="bye"), "12000000 07000000 00000000 627965"),
    ],
)
def test_event_golden_bytes_both_directions(event: object, golden: str) -> None:
    c, l_ = established()
    data = c.send(event)  # type: ignore[arg-type]
    assert data == bytes.fromhex(golden)
    l_.receive_data(data)
    assert l_.next_event() == event
    c2, l2 = established()
    assert l2.send(event) == bytes.fromhex(golden)  # type: ignore[arg-type]
    c2.receive_data(bytes.fromhex(golden))
    assert c2.next_event() == event


def test_byte_at_a_time_and_many_frames() -> None:
    c, l_ = established()
    blob = b"".join(c.send(Expression(expr=[i, "x" * i])) for i in range(50))
    blob += c.send(UrgentMessage(code=2))
    got: list[object] = []
    for i in range(len(blob)):
        l_.receive_data(blob[i : i + 1])
        got += events(l_)
    assert [e.expr for e in got[:-1]] == [[i, "x" * i] for i in range(50)]  # type: ignore[attr-defined]
    assert got[-1] == UrgentMessage(code=2)


def test_big_frame_goes_through_get_buffer_zero_extra_copies() -> None:
    c, l_ = established()
    arr = np.arange(300_000, dtype=np.float64)  # 2.4 MB: the big-frame path
    data = c.send(Expression(expr=arr))
    pos = 0
    while pos < len(data):
        buf = l_.get_buffer()
        n = min(len(buf), len(data) - pos, 100_000)
        buf[:n] = data[pos : pos + n]
        l_.buffer_updated(n)
        pos += n
    (ev,) = events(l_)
    assert isinstance(ev, Expression)
    np.testing.assert_array_equal(ev.expr, arr)  # type: ignore[arg-type]


def test_wrong_key_rejected_on_both_sides_before_any_expression() -> None:
    c, l_ = pair(b"one", b"two")
    l_.receive_data(c.data_to_send())
    c.receive_data(l_.data_to_send())
    assert c.next_event() is NEED_DATA
    # The connector pipelines an expression right behind its proof: it must never be read.
    sneaky = c.data_to_send() + bytes.fromhex("10000000 09000000 383a 6601 730166 4301")
    l_.receive_data(sneaky)
    with pytest.raises(AuthenticationError, match="keys differ"):
        l_.next_event()
    assert l_.state is State.ERROR
    c.receive_data(l_.data_to_send())
    with pytest.raises(AuthenticationError):
        c.next_event()
    with pytest.raises(AuthenticationError):  # the error sticks
        l_.next_event()


@pytest.mark.parametrize(("kc", "kl", "why"), [
    ("k", None, "connector uses a key but the listener has none"),
    (None, "k", "listener uses a key but the connector has none"),
])  # fmt: skip
def test_missing_key_is_named(kc: object, kl: object, why: str) -> None:
    c, l_ = pair(kc, kl)
    l_.receive_data(c.data_to_send())
    c.receive_data(l_.data_to_send())
    c.next_event()
    l_.receive_data(c.data_to_send())
    with pytest.raises(AuthenticationError, match=why):
        l_.next_event()


def _expect_remote_error(conn: Connection, data: bytes, match: str) -> None:
    conn.data_to_send()  # our own HELLO, if still pending
    conn.receive_data(data)
    with pytest.raises(RemoteProtocolError, match=match):
        conn.next_event()
    close = conn.data_to_send()
    assert close[:1] == b"\x12"  # the peer is told why
    assert conn.state is State.ERROR


def test_expression_before_handshake_is_refused() -> None:
    _, l_ = pair()
    _expect_remote_error(
        l_, bytes.fromhex("10000000 09000000 383a 6601 730166 4301"), "EXPRESSION frame not allowed"
    )


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (bytes.fromhex("7f000000 00000000"), "unknown frame kind"),
        (bytes.fromhex("10010000 03000000") + b"8:C", "nonzero flags"),
        (bytes.fromhex("11000000 04000000 01000000"), "MESSAGE frame must be 8 bytes"),
        (bytes.fromhex("11000000 08000000 0d000000 00000000"), "not a WSTP code"),
        (bytes.fromhex("10000000 03000000") + b"9:C", "undecodable WXF"),
        (bytes.fromhex("10000000 05000000") + b"8:C\x01\x02", "trailing bytes"),
        (bytes.fromhex("01000000 3c000000") + bytes(60), "HELLO frame not allowed"),
    ],
)
def test_malformed_frames(data: bytes, match: str) -> None:
    _, l_ = established()
    _expect_remote_error(l_, data, match)


def test_frame_size_limit_is_checked_at_the_header() -> None:
    c = Connection(Role.CONNECTOR)
    l_ = Connection(Role.LISTENER, max_frame_size=1000)
    pump(c, l_)
    # Only the header arrives: the limit must fire without waiting for (or allocating) payload.
    l_.receive_data(struct.pack("<BBHI", 0x10, 0, 0, 10**9))
    with pytest.raises(RemoteProtocolError, match="exceeds the limit") as info:
        l_.next_event()
    assert info.value.code == ErrorCode.WSEPBIG


def test_wxf_depth_limit_drops_the_expression_and_keeps_the_connection() -> None:
    c = Connection(Role.CONNECTOR, limits=wxf.Limits(max_depth=100))
    l_ = Connection(Role.LISTENER, limits=wxf.Limits(max_depth=10))
    pump(c, l_)
    deep: object = 1
    for _ in range(50):
        deep = [deep]
    l_.receive_data(c.send(Expression(expr=wl.EvaluatePacket(deep))))
    l_.receive_data(c.send(Expression(expr=wl.f(1))))
    dropped = l_.next_event()
    assert isinstance(dropped, ExpressionDropped)
    assert dropped.code == ErrorCode.WSEDEPTH
    assert "receiver limit" in dropped.reason and "max_depth 10" in dropped.reason
    assert dropped.head == wl.EvaluatePacket
    # The frame's length kept the stream in sync: the next expression reads, nothing to send.
    assert l_.next_event() == Expression(expr=wl.f(1))
    assert l_.state is State.ESTABLISHED and l_.data_to_send() == b""
    l_.receive_data(c.send(Expression(expr=deep)))
    again = l_.next_event()
    assert isinstance(again, ExpressionDropped) and again.head == wl.List


def test_other_limits_drop_too_and_undecodable_documents_stay_fatal() -> None:
    c = Connection(Role.CONNECTOR)
    l_ = Connection(Role.LISTENER, limits=wxf.Limits(max_length=10, max_size=1000))
    pump(c, l_)
    l_.receive_data(c.send(Expression(expr="x" * 20)))
    l_.receive_data(c.send(Expression(expr=wxf.Expr(wl.f, *range(20)))))
    l_.receive_data(c.wxf_parts([wxf.dumps("y" * 5000, compress=True)])[0])
    l_.receive_data(c.send(Expression(expr=2)))
    got = events(l_)
    assert [type(e) for e in got] == [ExpressionDropped] * 3 + [Expression]
    assert got[1].head == wl.f and got[0].head is None
    assert "max_size" in got[2].reason
    l_.receive_data(F_EXPR_BAD)
    with pytest.raises(RemoteProtocolError, match="undecodable"):
        l_.next_event()
    assert l_.state is State.ERROR


F_EXPR_BAD = struct.pack("<BBHI", 0x10, 0, 0, 4) + b"8:\xff\x00"


def test_sender_refuses_what_the_peer_would_drop() -> None:
    c, _ = established()
    ok: object = 1
    for _ in range(1024):
        ok = wl.f(ok)
    assert c.send(Expression(expr=ok))  # exactly the limit: allowed
    with pytest.raises(LocalProtocolError, match="deeper than 1024") as info:
        c.send(Expression(expr=wl.g(ok)))
    assert info.value.code == ErrorCode.WSEDEPTH
    # Lower limits of its own only protect a receiver; higher ones are assumed on both ends.
    small = Connection(Role.CONNECTOR, limits=wxf.Limits(max_depth=3), max_frame_size=100)
    pump(small, Connection(Role.LISTENER))
    assert small.send(Expression(expr=ok)) and small.send(Expression(expr="x" * 200))
    big = Connection(Role.CONNECTOR, limits=wxf.Limits(max_depth=2000))
    pump(big, Connection(Role.LISTENER, limits=wxf.Limits(max_depth=2000)))
    assert big.send(Expression(expr=wl.g(ok)))
    big.send_max_frame_size = 100  # (the 1 GiB default is too big to build here)
    with pytest.raises(LocalProtocolError, match="frame limit of 100 bytes") as info:
        big.send(Expression(expr="x" * 200))
    assert info.value.code == ErrorCode.WSEPBIG
    with pytest.raises(LocalProtocolError, match="frame limit"):
        big.wxf_parts([b"8:", memoryview(wxf.dumps("x" * 200))[2:]])
    assert big.state is State.ESTABLISHED
    assert big.send(Expression(expr="x" * 50))


def test_eof_mid_frame_and_clean_eof() -> None:
    _, l_ = established()
    l_.receive_data(bytes.fromhex("10000000 09000000 383a"))
    l_.receive_data(b"")
    with pytest.raises(RemoteProtocolError, match="middle of a frame"):
        l_.next_event()
    _, l2 = established()
    l2.receive_data(b"")
    assert l2.next_event() == Close(code=ErrorCode.WSEDEAD, reason="the peer ended the stream")
    assert l2.state is State.CLOSED


def test_local_errors() -> None:
    c, _ = pair()
    with pytest.raises(LocalProtocolError, match="state await-hello"):
        c.send(Expression(expr=1))
    c, _ = established()
    with pytest.raises(LocalProtocolError, match="outside 1-12 and 128-255"):
        c.send(UrgentMessage(code=50))
    with pytest.raises(LocalProtocolError, match="cannot encode"):
        c.send(Expression(expr=object()))
    c.send(Close())
    with pytest.raises(LocalProtocolError) as info:
        c.send(Expression(expr=1))
    assert info.value.code == ErrorCode.WSECLOSED


def test_bad_handshake_fields() -> None:
    c, l_ = pair()
    hello = bytearray(c.data_to_send())
    hello[8:16] = b"HTTP/1.1"
    _expect_remote_error(l_, bytes(hello), "not a wstp-jupyter peer")
    c, l_ = pair()
    hello = bytearray(c.data_to_send())
    hello[16] = 9
    _expect_remote_error(l_, bytes(hello), "unsupported protocol version 9")
    _, l_ = pair()
    _, l2 = pair()
    _expect_remote_error(l_, l2.data_to_send(), "same role")


def test_documented_evaluate_packet_frame() -> None:
    """The EvaluatePacket[1 + 1] example in docs/protocol.md, byte for byte."""
    c, _ = established()
    golden = (
        bytes.fromhex("10000000 20000000 383a 6601 730e")
        + b"EvaluatePacket"
        + bytes.fromhex("6602 7304")
        + b"Plus"
        + bytes.fromhex("4301 4301")
    )
    assert c.send(Expression(expr=wl.EvaluatePacket(wl.Plus(1, 1)))) == golden
