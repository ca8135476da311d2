"""Hostile input: Hypothesis and a bounded, seeded fuzz run of random and mutated frames, against
the sans-IO decoder and against a live LinkServer (which must keep serving well-behaved
clients). Bounded in count (10,000 frames each) and in time."""

from __future__ import annotations

import random
import socket
import struct
import threading
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wstp_jupyter.link import (
    NEED_DATA,
    Close,
    Connected,
    Connection,
    Expression,
    Link,
    LinkError,
    LinkServer,
    Protocol,
    Role,
    UrgentMessage,
)
from wstp_jupyter.wxf import Symbol, wl

FRAMES = 10_000

exprs = st.recursive(
    st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
    | st.booleans() | st.none()
    | st.builds(Symbol, st.sampled_from(["x", "Global`y", "Plus", "a`b`c"])),
    lambda children: st.lists(children, max_size=4)
    | st.builds(lambda h, a: Symbol(h)(*a), st.sampled_from(["f", "g"]),
                st.lists(children, max_size=3)),
    max_leaves=20,
)  # fmt: skip


def established(**options: object) -> tuple[Connection, Connection]:
    c = Connection(Role.CONNECTOR)
    l_ = Connection(Role.LISTENER, **options)  # type: ignore[arg-type]
    l_.receive_data(c.data_to_send())
    c.receive_data(l_.data_to_send())
    assert c.next_event() is NEED_DATA and l_.next_event() is NEED_DATA
    l_.receive_data(c.data_to_send())
    assert isinstance(l_.next_event(), Connected)
    c.receive_data(l_.data_to_send())
    assert isinstance(c.next_event(), Connected)
    return c, l_


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(exprs, min_size=1, max_size=5), st.integers(1, 64))
def test_hypothesis_round_trip_in_any_chunking(values: list[object], chunk: int) -> None:
    c, l_ = established()
    data = b"".join(c.send(Expression(expr=v)) for v in values)
    got = []
    for i in range(0, len(data), chunk):
        l_.receive_data(data[i : i + chunk])
        while (ev := l_.next_event()) is not NEED_DATA:
            got.append(ev.expr)  # type: ignore[union-attr]
    assert got == values


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), st.booleans())
def test_hypothesis_arbitrary_bytes_only_raise_link_errors(
    data: bytes, after_handshake: bool
) -> None:
    conn = established()[1] if after_handshake else Connection(Role.LISTENER)
    conn.receive_data(data)
    try:
        for _ in range(400):
            ev = conn.next_event()
            if ev is NEED_DATA or isinstance(ev, Close):
                break
            assert isinstance(ev, Expression | UrgentMessage | Connected)
    except LinkError:
        pass


def valid_frames(rng: random.Random) -> list[bytes]:
    c, _ = established()
    pool = [1, "s" * 10, [1, 2.5, "x"], wl.f(wl.g(1), [2, 3]), {"k": [1]}, 2**100, b"\x00\x01"]
    out = [c.send(Expression(expr=rng.choice(pool))) for _ in range(40)]
    out += [
        c.send(UrgentMessage(code=rng.choice([1, 2, 3, 128, 255]), arg=rng.randrange(2**32)))
        for _ in range(10)
    ]
    return out


def mutate(frame: bytes, rng: random.Random) -> bytes:
    """One random corruption of a valid frame."""
    b = bytearray(frame)
    choice = rng.randrange(7)
    if choice == 0:  # flip bytes anywhere
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif choice == 1:  # random kind
        b[0] = rng.randrange(256)
    elif choice == 2:  # lie about the length
        struct.pack_into("<I", b, 4, rng.choice([0, 1, 2, len(b) + 7, 2**31, 2**32 - 1]))
    elif choice == 3:  # truncate
        del b[rng.randrange(1, len(b)) :]
    elif choice == 4:  # corrupt the WXF payload only, keeping the framing
        if len(b) > 10:
            b[rng.randrange(8, len(b))] = rng.randrange(256)
    elif choice == 5:  # nonzero flags
        b[1] = rng.randrange(1, 256)
    else:  # pure noise
        b = bytearray(rng.randbytes(rng.randint(1, 64)))
    return bytes(b)


def test_fuzz_core_decoder_10000_frames() -> None:
    rng = random.Random(20240531)
    frames = valid_frames(rng)
    _, conn = established(max_frame_size=1 << 20)
    errors = delivered = 0
    start = time.monotonic()
    for _ in range(FRAMES):
        if rng.random() < 0.5:
            conn.receive_data(rng.choice(frames))
            ev = conn.next_event()
            assert isinstance(ev, Expression | UrgentMessage)
            assert conn.next_event() is NEED_DATA
            delivered += 1
            continue
        # A mutated frame goes to a fresh connection followed by the end of the stream, so a
        # frame that merely waits for more bytes is judged too.
        _, victim = established(max_frame_size=1 << 20)
        victim.receive_data(mutate(rng.choice(frames), rng))
        victim.receive_data(b"")
        try:
            for _ in range(100):
                ev = victim.next_event()
                if isinstance(ev, Close):
                    break
                assert isinstance(ev, Expression | UrgentMessage)
            else:
                raise AssertionError("no end after end of stream")
        except LinkError:
            errors += 1
    assert errors > 2000 and delivered > 2000  # both paths were exercised
    assert time.monotonic() - start < 60


def _client_handshake(port: int) -> tuple[socket.socket, Connection]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn = Connection(Role.CONNECTOR)
    sock.sendall(conn.data_to_send())
    while True:
        conn.receive_data(sock.recv(65536))
        ev = conn.next_event()
        sock.sendall(conn.data_to_send())
        if isinstance(ev, Connected):
            return sock, conn


def _drain_until_eof(sock: socket.socket, timeout: float) -> bool:
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
        return True
    except (TimeoutError, OSError) as exc:
        return not isinstance(exc, TimeoutError)


def test_fuzz_live_link_server_10000_frames() -> None:
    rng = random.Random(7)
    frames = valid_frames(rng)
    finished: list[str] = []
    lock = threading.Lock()
    echoes: list[threading.Thread] = []

    def echo(link: Link) -> None:
        outcome = "closed"
        try:
            while True:
                link.put(link.get(timeout=10))
        except LinkError as exc:
            outcome = "timeout" if "in time" in str(exc) else "closed"
        finally:
            link.close()
            with lock:
                finished.append(outcome)

    def on_link(link: Link) -> None:
        t = threading.Thread(target=echo, args=(link,), name="fuzz-echo", daemon=True)
        echoes.append(t)
        t.start()

    # Short enough to bound the run (garbage that stalls waits for it), long enough that a
    # real client's handshake finishes in time on a loaded machine.
    server = LinkServer(callback=on_link, handshake_timeout=1.0, max_frame_size=1 << 20)
    sent = 0
    connections = 0
    start = time.monotonic()
    try:
        # Garbage before or instead of a handshake, 50 clients at a time.
        while sent < 500:
            batch = []
            for _ in range(50):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                s.sendall(
                    mutate(Connection(Role.CONNECTOR).data_to_send(), rng)
                    + rng.randbytes(rng.randint(0, 40))
                )
                batch.append(s)
            sent += len(batch)
            for s in batch:
                # Dropped at once, or after the (short) handshake timeout at the latest.
                assert _drain_until_eof(s, 5), "a garbage client was never disconnected"
                s.close()
        phase_times = [time.monotonic() - start]
        # Authenticated clients that send valid frames with mutated ones mixed in.
        while sent < FRAMES:
            sock, _conn = _client_handshake(server.port)
            connections += 1
            burst = [rng.choice(frames) for _ in range(rng.randint(20, 60))]
            for i in range(len(burst)):
                if rng.random() < 0.04:
                    burst[i] = mutate(burst[i], rng)
            sock.sendall(b"".join(burst))
            sent += len(burst)
            sock.shutdown(socket.SHUT_WR)
            assert _drain_until_eof(sock, 10), "the server left a connection hanging"
            sock.close()
        phase_times.append(time.monotonic() - start)
        # A well-behaved client is still served.
        good = Link.connect(Protocol.TCPIP, server.name)
        good.put(wl.Hello(1))
        assert good.get(timeout=5) == wl.Hello(1)
        good.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            server.pending_handshakes or any(t.is_alive() for t in echoes)
        ):
            time.sleep(0.02)
        assert server.pending_handshakes == 0
        assert not any(t.is_alive() for t in echoes), "stuck connections"
        assert "timeout" not in finished
        assert len(finished) == connections + 1
    finally:
        server.close()
    print("fuzz phases (s):", phase_times)
    assert time.monotonic() - start < 60
