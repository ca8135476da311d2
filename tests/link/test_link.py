"""The blocking Link over real sockets (loopback only), per protocol."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from wstp_jupyter.link import (
    ALL_PACKETS,
    AuthenticationError,
    CallPacket,
    ErrorCode,
    EvaluatePacket,
    Link,
    LinkClosed,
    LinkError,
    LinkTimeout,
    LocalProtocolError,
    MenuPacket,
    MessagePacket,
    Packet,
    PacketCode,
    Protocol,
    RemoteProtocolError,
    ReturnPacket,
    TextPacket,
    TokenType,
    UrgentMessage,
    channel,
    user_packet,
    wait_ready,
)
from wstp_jupyter.wxf import Expr, Symbol, wl

REPO = Path(__file__).resolve().parents[2]


def sample(cls: type) -> object:
    """One instance of each packet class."""
    args = {
        "InputPacket": ("? ",),
        "TextPacket": ("hello\n",),
        "ReturnPacket": (wl.f(1),),
        "ReturnTextPacket": ("2",),
        "MessagePacket": (Symbol("Power"), "infy"),
        "MenuPacket": (1, "Interrupt> "),
        "CallPacket": (wl.FrontEnd.Ping(1),),
        "InputNamePacket": ("In[1]:= ",),
        "OutputNamePacket": ("Out[1]= ",),
        "SyntaxPacket": (3,),
        "EvaluatePacket": (wl.Plus(1, 1),),
        "EnterTextPacket": ("1+1",),
        "EnterExpressionPacket": (wl.Plus(1, 1),),
        "ReturnExpressionPacket": (2,),
        "BeginDialogPacket": (1,),
        "EndDialogPacket": (1,),
        "InputStringPacket": (),
        "ExpressionPacket": ([1, 2],),
    }.get(cls.__name__)
    return cls(*args) if args is not None else cls(args=(1,))


def test_every_packet_round_trips_with_its_code(pair: tuple[Link, Link]) -> None:
    a, b = pair
    for cls in ALL_PACKETS:
        packet = sample(cls)
        b.put_packet(packet)  # type: ignore[arg-type]
        assert a.next_packet(timeout=5) == cls.code
        assert a.get_packet() == packet
    assert EvaluatePacket.code == 13 and PacketCode.INPUTSTRPKT == 21
    assert CallPacket(7, [1]).to_expr() == Expr(Symbol("CallPacket"), 7, [1])


def test_expressions_both_ways_and_close(pair: tuple[Link, Link]) -> None:
    a, b = pair
    values = [1, -(2**80), 2.5, "text ü", [1, [2, 3]], {"a": 1}, wl.Global.x, None, True]
    for v in values:
        a.put(v)
    assert [b.get(timeout=5) for _ in values] == values
    b.put(wl.f(b"bytes"))
    assert a.get(timeout=5) == wl.f(b"bytes")
    a.close()
    with pytest.raises(LinkClosed):
        b.get(timeout=5)
    with pytest.raises(LinkClosed):
        a.put(1)


def test_get_timeout_loses_nothing(pair: tuple[Link, Link]) -> None:
    a, b = pair
    with pytest.raises(LinkTimeout):
        a.get(timeout=0.05)
    assert not a.ready(0)
    b.put(42)
    assert a.ready(5)
    assert a.get() == 42


def test_urgent_message_overtakes_queued_expressions(pair: tuple[Link, Link]) -> None:
    a, b = pair
    for i in range(20):
        b.put(i)
    b.put_message(UrgentMessage.ABORT)
    b.put(99)
    deadline = time.monotonic() + 5
    msg = None
    while msg is None and time.monotonic() < deadline:
        msg = a.get_message()
    assert msg == UrgentMessage(code=3, arg=0)
    assert [a.get(timeout=5) for _ in range(21)] == [*range(20), 99]
    assert a.get_message() is None


def test_handler_fires_while_owner_is_busy(pair: tuple[Link, Link]) -> None:
    a, b = pair
    fired = threading.Event()
    seen: list[UrgentMessage] = []

    def handler(msg: UrgentMessage) -> None:
        seen.append(msg)
        fired.set()

    a.set_message_handler(handler)
    b.put("queued ahead")
    threading.Timer(0.05, lambda: b.put_message(UrgentMessage.INTERRUPT, 5)).start()
    # The owning thread is busy computing and never reads the link.
    start = time.monotonic()
    while not fired.is_set() and time.monotonic() - start < 5:
        sum(range(10_000))
    assert seen == [UrgentMessage(code=2, arg=5)]
    assert a.get(timeout=5) == "queued ahead"  # reads still work with the reader thread
    b.put(1)
    assert a.get(timeout=5) == 1


def test_received_counts_what_came_before_each_message(pair: tuple[Link, Link]) -> None:
    a, b = pair
    counts: list[int] = []
    done = threading.Event()

    def handler(msg: UrgentMessage) -> None:
        counts.append(a.received)  # every expression sent before this message has arrived
        if msg.arg == 2:
            done.set()

    a.set_message_handler(handler)
    for i in range(3):
        b.put(i)
    b.put_message(UrgentMessage.ABORT, 1)
    b.put_many(3, 4)
    b.put_message(UrgentMessage.ABORT, 2)
    assert done.wait(5)
    assert counts == [3, 5]
    assert [a.get(timeout=5) for _ in range(5)] == [0, 1, 2, 3, 4]
    assert a.received == 5  # reading does not change the count


def test_user_message_codes_and_bad_codes(pair: tuple[Link, Link]) -> None:
    a, b = pair
    b.put_message(UrgentMessage.FIRST_USER + 1, 2**32 - 1)
    deadline = time.monotonic() + 5
    while (m := a.get_message()) is None and time.monotonic() < deadline:
        time.sleep(0.001)
    assert m == UrgentMessage(code=129, arg=2**32 - 1) and m.name == "USER+1"
    for code, arg in ((0, 0), (13, 0), (256, 0), (1, -1)):
        with pytest.raises(LocalProtocolError) as info:
            b.put_message(code, arg)
        assert info.value.code == ErrorCode.WSEBADPARAM


def test_token_api(pair: tuple[Link, Link]) -> None:
    a, b = pair
    b.put_function("EvaluatePacket", 1)
    b.put_function("f", 4)
    b.put_integer(2**70)
    b.put_real(1.5)
    b.put_string("s")
    b.put_function(None, 1)  # compound head g[1][x]
    b.put_function("g", 1)
    b.put_integer(1)
    b.put_symbol("x")
    b.end_packet()
    assert a.next_packet(timeout=5) == PacketCode.EVALUATEPKT
    assert a.get_type() == TokenType.WSTKFUNC
    assert a.get_function() == ("f", 4)
    with pytest.raises(LocalProtocolError) as info:
        a.get_string()  # an integer is next
    assert info.value.code == ErrorCode.WSEGSEQ
    assert a.get_integer() == 2**70
    assert a.get_real() == 1.5
    assert a.get_next() == TokenType.WSTKSTR and a.get_string() == "s"
    assert a.get_arg_count() == 1
    assert a.test_head("g") == 1 and a.get_integer() == 1
    assert a.get_symbol() == "x"
    b.put(wl.h("a", 1))
    a.new_packet()  # the packet is used up: go on to the next one
    with pytest.raises(LocalProtocolError):
        a.test_head("k")  # wrong head: nothing consumed
    assert a.test_head("h") == 2
    with pytest.raises(LocalProtocolError, match="partly read"):
        a.get()
    a.new_packet()


def test_reading_past_the_end_of_a_packet_raises_and_keeps_the_next(
    pair: tuple[Link, Link],
) -> None:
    a, b = pair
    b.put_packet(TextPacket("one"))
    b.put_packet(TextPacket("two"))
    assert a.next_packet(timeout=5) == PacketCode.TEXTPKT
    assert a.get_string() == "one"
    for read in (a.get_string, a.get_type, a.get_integer):
        with pytest.raises(LocalProtocolError) as info:
            read()  # WSTP's WSEGETENDPACKET, at once: it neither waits nor reads "two"
        assert info.value.code == ErrorCode.WSEGETENDPACKET
    assert a.next_packet(timeout=5) == PacketCode.TEXTPKT
    assert a.get_string() == "two"
    b.put("three")
    assert a.get(timeout=5) == "three"  # a whole-expression read leaves a used-up packet


def test_token_put_misuse_is_refused_and_nothing_is_sent(pair: tuple[Link, Link]) -> None:
    a, b = pair
    b.put_function("f", 2)
    b.put_integer(1)
    with pytest.raises(LocalProtocolError) as info:
        b.end_packet()
    assert info.value.code == ErrorCode.WSEPSEQ
    with pytest.raises(LocalProtocolError):
        b.put(5)  # a sequence is open
    b.put_string("two")
    b.end_packet()
    with pytest.raises(LocalProtocolError) as info:
        b.end_packet()
    with pytest.raises(LocalProtocolError) as info:
        b.put_integer("1")  # type: ignore[arg-type]
    assert info.value.code == ErrorCode.WSEPBTK
    b.put_integer(3)
    with pytest.raises(LocalProtocolError, match="already complete"):
        b.put_integer(4)
    b.end_packet()
    assert a.get(timeout=5) == wl.f(1, "two")
    assert a.get(timeout=5) == 3


def test_get_packet_on_a_non_packet_keeps_it(pair: tuple[Link, Link]) -> None:
    a, b = pair
    b.put(wl.NotAPacket(1))
    with pytest.raises(RemoteProtocolError) as info:
        a.get_packet(timeout=5)
    assert info.value.code == ErrorCode.WSEUNKNOWNPACKET
    assert a.get() == wl.NotAPacket(1)
    b.put(wl.TextPacket(1))  # wrong argument type
    with pytest.raises(RemoteProtocolError, match="must be str"):
        a.get_packet(timeout=5)
    assert a.next_packet() == PacketCode.TEXTPKT


def test_put_many_sends_in_order_or_nothing(pair: tuple[Link, Link]) -> None:
    a, b = pair
    big = np.arange(20_000, dtype=np.float64)  # past the single-send size: sendmsg path
    a.put_many(TextPacket("one").to_expr(), wl.f(2), big, "four")
    assert b.get_packet(5) == TextPacket("one")
    assert b.get(5) == wl.f(2)
    assert np.array_equal(b.get(5), big)  # type: ignore[arg-type]
    assert b.get(5) == "four"
    with pytest.raises(LocalProtocolError):
        a.put_many("fine", object())  # the second cannot be encoded: the first is not sent
    a.put_many()
    a.put("after")
    assert b.get(5) == "after"


def test_bulk_array(pair: tuple[Link, Link]) -> None:
    a, b = pair
    arr = np.random.default_rng(1).random((1000, 1250))  # 10 MB
    t = threading.Thread(target=b.put, args=(arr,))
    t.start()
    got = a.get(timeout=20)
    t.join()
    np.testing.assert_array_equal(got, arr)  # type: ignore[arg-type]


def test_wait_ready_over_several_links() -> None:
    pairs = [channel(p) for p in (Protocol.TCPIP, Protocol.Local, Protocol.IntraProcess)]
    try:
        readers = [a for a, _ in pairs]
        assert wait_ready(readers, timeout=0.05) == []
        threading.Timer(0.05, lambda: pairs[1][1].put("x")).start()
        assert wait_ready(readers, timeout=5) == [readers[1]]
        readers[2].set_message_handler(lambda m: None)  # a link with a reader thread
        pairs[2][1].put("y")
        assert set(wait_ready(readers, timeout=5)) >= {readers[1]}
        deadline = time.monotonic() + 5
        while readers[2] not in wait_ready(readers, 1) and time.monotonic() < deadline:
            pass
        assert readers[2] in wait_ready(readers, 0)
    finally:
        for a, b in pairs:
            a.close()
            b.close()


def test_user_packets(pair: tuple[Link, Link]) -> None:
    a, b = pair
    progress = user_packet(200, "WSTPJupyterTest`ProgressPacket")
    assert user_packet(200, "WSTPJupyterTest`ProgressPacket") is progress  # both ends define it
    assert progress.code == 200 and progress.head == "WSTPJupyterTest`ProgressPacket"
    a.put_packet(progress(args=(3, "of 10")))
    assert b.next_packet(5) == 200
    assert b.get_integer() == 3 and b.get_string() == "of 10"
    a.put(wl.WSTPJupyterTest.ProgressPacket(4))
    packet = b.get_packet(5)
    assert isinstance(packet, progress) and packet.args == (4,)
    with pytest.raises(ValueError, match=r"128\.\.255"):
        user_packet(127, "WSTPJupyterTest`Low")
    with pytest.raises(ValueError, match="already the packet"):
        user_packet(201, "WSTPJupyterTest`ProgressPacket")
    with pytest.raises(ValueError, match="already the packet"):
        user_packet(200, "WSTPJupyterTest`Other")
    with pytest.raises(ValueError, match="already the packet"):
        user_packet(130, "ReturnPacket")


def test_loopback_put_many_is_all_or_nothing() -> None:
    link = Link.loopback()
    with pytest.raises(LocalProtocolError):
        link.put_many(1, object())
    assert not link.ready()
    link.put_many(1, "two")
    assert [link.get(1), link.get(1)] == [1, "two"]


def test_loopback_is_fifo() -> None:
    lb = Link.loopback()
    for v in (1, "two", wl.f(3)):
        lb.put(v)
    lb.put_packet(TextPacket("t"))
    assert [lb.get(), lb.get(), lb.get()] == [1, "two", wl.f(3)]
    assert lb.get_packet() == TextPacket("t")
    with pytest.raises(LinkTimeout):
        lb.get(timeout=0.01)
    lb.put_message(3)
    assert lb.get_message() == UrgentMessage(code=3)
    lb.close()
    with pytest.raises(LinkClosed):
        lb.put(1)


def test_listen_names_and_connect_later() -> None:
    listener = Link.listen(Protocol.TCPIP)
    port, host = listener.name.split("@")
    assert host == "127.0.0.1" and int(port) > 0
    early = Link.connect(Protocol.TCPIP, listener.name)  # returns at once
    t = threading.Thread(target=listener.activate, args=(5,))
    t.start()
    early.put(MenuPacket(1, "Interrupt> ").to_expr())
    t.join()
    assert listener.get_packet(timeout=5) == MenuPacket(1, "Interrupt> ")
    listener.close()
    early.close()
    ipv6 = Link.listen(Protocol.TCPIP, "0@::1")
    assert ipv6.name.endswith("@::1")
    ipv6.close()
    with pytest.raises(LocalProtocolError):
        Link.connect(Protocol.TCPIP, "notaport@host").activate(1)


def test_one_loopback_rule() -> None:
    from wstp_jupyter.link import is_loopback_host

    for host in ("127.0.0.1", "127.0.1.1", "::1", "[::1]", "localhost"):
        assert is_loopback_host(host), host
    for host in ("0.0.0.0", "::", "192.0.2.1", "no-such-host.invalid"):
        assert not is_loopback_host(host), host


def test_listening_without_key_beyond_loopback_is_refused() -> None:
    with pytest.raises(AuthenticationError, match="without a key"):
        Link.listen(Protocol.TCPIP, "0@0.0.0.0")
    keyed = Link.listen(Protocol.TCPIP, "0@0.0.0.0", key="s3cret")
    keyed.close()


@pytest.mark.parametrize("protocol", [Protocol.TCPIP, Protocol.Local])
def test_wrong_key_both_sides(protocol: Protocol) -> None:
    listener = Link.listen(protocol, key=b"right")
    failures: list[BaseException] = []

    def serve() -> None:
        try:
            listener.activate(5)
        except BaseException as exc:
            failures.append(exc)

    t = threading.Thread(target=serve)
    t.start()
    client = Link.connect(protocol, listener.name, key="wrong")
    with pytest.raises(AuthenticationError):
        client.activate(5)
    t.join()
    assert isinstance(failures[0], AuthenticationError)
    # The listening link keeps listening: the right key still gets in.
    good = Link.connect(protocol, listener.name, key=b"right")
    t = threading.Thread(target=listener.activate, args=(5,))
    t.start()
    good.put(1)
    t.join()
    assert listener.get(timeout=5) == 1
    listener.close()
    good.close()


def test_listener_survives_garbage_client() -> None:
    listener = Link.listen(Protocol.TCPIP)
    port = int(listener.name.split("@")[0])
    junk = socket.create_connection(("127.0.0.1", port))
    junk.sendall(b"GET / HTTP/1.1\r\n\r\n")
    good = Link.connect(Protocol.TCPIP, listener.name)
    t = threading.Thread(target=good.activate, args=(5,))
    t.start()
    listener.activate(5)
    t.join()
    assert junk.recv(100)[:1] in (b"\x01", b"")  # it got our HELLO (and a CLOSE), then EOF
    junk.close()
    good.put("ok")
    assert listener.get(timeout=5) == "ok"
    listener.close()
    good.close()


def test_peer_protocol_error_surfaces_after_queued_expressions() -> None:
    listener = Link.listen(Protocol.TCPIP)
    raw = Link.connect(Protocol.TCPIP, listener.name)
    t = threading.Thread(target=listener.activate, args=(5,))
    t.start()
    raw.activate(5)
    t.join()
    raw.put("first")
    assert raw._sock is not None
    raw._sock.sendall(bytes.fromhex("7f000000 00000000"))  # an unknown frame kind
    assert listener.get(timeout=5) == "first"
    with pytest.raises(RemoteProtocolError, match="unknown frame kind"):
        listener.get(timeout=5)
    with pytest.raises(LinkClosed):
        raw.get(timeout=5)  # the offender is told and disconnected
    listener.close()
    raw.close()


def test_launch_runs_a_peer_process() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    link = Link.launch(
        [sys.executable, str(Path(__file__).with_name("echo_peer.py"))], env=env, timeout=30
    )
    try:
        assert link.process is not None and link.process.poll() is None
        link.put_packet(EvaluatePacket(wl.Plus(1, 1)))
        assert link.get_packet(timeout=10) == EvaluatePacket(wl.Plus(1, 1))
        link.put_message(UrgentMessage.ABORT)
        assert link.get(timeout=10) == ["message", 3, 0]
    finally:
        link.close()
        assert link.process is not None
        assert link.process.wait(timeout=10) == 0


def test_launch_failure_is_reported() -> None:
    with pytest.raises(LinkError) as info:
        Link.launch([sys.executable, "-c", "raise SystemExit(3)"], timeout=20)
    assert info.value.code == ErrorCode.WSELAUNCHFAILED and "code 3" in str(info.value)


def test_connection_id_is_presented(pair: tuple[Link, Link]) -> None:
    a, b = pair
    assert a.connection_id == b.connection_id and isinstance(a.connection_id, uuid.UUID)


def test_packets_messages_and_returns() -> None:
    assert MessagePacket(Symbol("Power"), "infy").to_expr() == wl.MessagePacket(wl.Power, "infy")
    assert ReturnPacket.from_expr(wl.ReturnPacket(2)) == ReturnPacket(2)
    # A packet built here that does not fit is this side's error, not the peer's.
    with pytest.raises(LocalProtocolError, match="takes 1 arguments") as info:
        ReturnPacket.from_expr(wl.ReturnPacket(1, 2))
    assert info.value.code == ErrorCode.WSEUNKNOWNPACKET
    with pytest.raises(LocalProtocolError, match="not a packet"):
        Packet.from_expr(wl.NotAPacket(1))


@pytest.mark.parametrize("protocol", [Protocol.TCPIP, Protocol.Local, Protocol.IntraProcess])
def test_connect_write_then_serve_in_one_thread(protocol: Protocol) -> None:
    # The order a user writes in one thread: the connecting end's write does not wait for the
    # listening end, which is only served afterwards.
    server = Link.listen(protocol)
    client = Link.connect(protocol, server.name)
    client.put_packet(EvaluatePacket(wl.Plus(1, 1)))
    client.put_message(UrgentMessage.INTERRUPT)
    client.put("second")
    server.activate(timeout=5)
    assert server.get_packet(timeout=5) == EvaluatePacket(wl.Plus(1, 1))
    assert server.get(timeout=5) == "second"
    assert server.get_message() == UrgentMessage(code=UrgentMessage.INTERRUPT)
    server.put_packet(ReturnPacket(2))
    assert client.get_packet(timeout=5) == ReturnPacket(2)
    client.close()
    server.close()


def test_a_background_activation_that_fails_is_reported_by_the_next_call() -> None:
    listener = Link.listen(Protocol.TCPIP, key="right")
    client = Link.connect(Protocol.TCPIP, listener.name, key="wrong")
    client.put("lost")  # queued; the handshake runs in the background
    with pytest.raises(AuthenticationError):
        listener.activate(5)
    with pytest.raises(AuthenticationError):
        client.get(timeout=5)
    with pytest.raises(AuthenticationError):
        client.put("again")
    client.close()
    listener.close()


def test_closing_a_link_that_activates_in_the_background_stops_it() -> None:
    listener = Link.listen(Protocol.TCPIP)  # never served
    client = Link.connect(Protocol.TCPIP, listener.name)
    client.put("waits")
    client.close()  # the leak check proves the activation thread is gone
    with pytest.raises(LinkClosed):
        client.put("after")
    listener.close()


def test_the_package_quick_start_runs_as_printed() -> None:
    import textwrap

    import wstp_jupyter.link as package

    doc = package.__doc__ or ""
    block = doc.split("Quick start", 1)[1].split("::\n", 1)[1]
    code = textwrap.dedent("\n".join(
        line for line in block.splitlines() if not line or line.startswith("    ")))
    names: dict[str, object] = {}
    exec(compile(code, "wstp_jupyter.link quick start", "exec"), names)
    for name in ("client", "server"):
        names[name].close()  # type: ignore[attr-defined]
