"""The link state machine, as tables.

A connection has a role (the side that connected, or the side that listened/accepted) and a
state. Inbound frames are looked up in ``INBOUND``; a missing entry is a protocol error naming
role, state and frame kind. Outbound events are looked up in ``OUTBOUND``; a missing entry is a
``LocalProtocolError``. Nothing else in the package decides what is legal when.

Handshake (docs/protocol.md): both sides send HELLO at once. The connector answers the listener's
HELLO with AUTH (its proof); the listener checks it and answers with WELCOME (its own proof and
the connection id). Only then do EXPRESSION and MESSAGE frames flow, in both directions. CLOSE is
legal at any time and ends the link.
"""

from __future__ import annotations

from enum import Enum

from wstp_jupyter.link._frames import FrameKind


class Role(Enum):
    """Which end of the handshake this side plays."""

    CONNECTOR = "connector"
    LISTENER = "listener"


class State(Enum):
    """Where a connection is in its life."""

    AWAIT_HELLO = "await-hello"  # sent our HELLO, waiting for the peer's
    AWAIT_AUTH = "await-auth"  # listener: waiting for the connector's proof
    AWAIT_WELCOME = "await-welcome"  # connector: sent our proof, waiting for WELCOME
    ESTABLISHED = "established"
    CLOSED = "closed"  # a CLOSE was sent or received, or the stream ended
    ERROR = "error"  # a protocol error; nothing more is read


C, L = Role.CONNECTOR, Role.LISTENER
K = FrameKind
S = State

# (role, state, inbound frame kind) -> state after the frame.
INBOUND: dict[tuple[Role, State, int], State] = {
    (C, S.AWAIT_HELLO, K.HELLO): S.AWAIT_WELCOME,
    (L, S.AWAIT_HELLO, K.HELLO): S.AWAIT_AUTH,
    (L, S.AWAIT_AUTH, K.AUTH): S.ESTABLISHED,
    (C, S.AWAIT_WELCOME, K.WELCOME): S.ESTABLISHED,
}
for _role in Role:
    INBOUND[(_role, S.ESTABLISHED, K.EXPRESSION)] = S.ESTABLISHED
    INBOUND[(_role, S.ESTABLISHED, K.MESSAGE)] = S.ESTABLISHED
    for _state in (S.AWAIT_HELLO, S.AWAIT_AUTH, S.AWAIT_WELCOME, S.ESTABLISHED):
        INBOUND[(_role, _state, K.CLOSE)] = S.CLOSED

# Outbound user events (by class name) legal in each state.
OUTBOUND: dict[State, frozenset[str]] = {
    S.AWAIT_HELLO: frozenset({"Close"}),
    S.AWAIT_AUTH: frozenset({"Close"}),
    S.AWAIT_WELCOME: frozenset({"Close"}),
    S.ESTABLISHED: frozenset({"Expression", "UrgentMessage", "Close"}),
    S.CLOSED: frozenset(),
    S.ERROR: frozenset(),
}

HANDSHAKE_STATES = frozenset({S.AWAIT_HELLO, S.AWAIT_AUTH, S.AWAIT_WELCOME})
