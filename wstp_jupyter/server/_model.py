"""The kernel life cycle as a transition table.

A kernel of the server moves through these states::

    STARTING --launched--> INITIALIZING --initialized--> IDLE --attached--> ATTACHED
    ATTACHED --attached--> ATTACHED          (a second client shares it)
    ATTACHED --released--> DETACHED          (last client gone, kept alive)
    DETACHED --attached--> ATTACHED          (reconnect by ID, or reuse by the pool)
    any live state --closing--> CLOSING --exited--> CLOSED
    any live state --died--> DEAD

Transitions are looked up in :data:`TRANSITIONS`, never decided by scattered ``if``s; an illegal
one raises :class:`KernelStateError` naming the kernel, its state and the event, which in the
server means a bug, not bad input.
"""

from __future__ import annotations

from enum import Enum

from wstp_jupyter.server._errors import ServerError


class KernelState(Enum):
    """Where a kernel is in its life cycle (the value is what ``GetServerInformation`` shows)."""

    STARTING = "Starting"
    INITIALIZING = "Initializing"
    IDLE = "Idle"
    ATTACHED = "Attached"
    DETACHED = "Detached"
    CLOSING = "Closing"
    CLOSED = "Closed"
    DEAD = "Dead"


class KernelEvent(Enum):
    """What happens to a kernel (past tense, like lifecycle events)."""

    LAUNCHED = "launched"
    INITIALIZED = "initialized"
    ATTACHED = "attached"
    RELEASED = "released"
    CLOSING = "closing"
    EXITED = "exited"
    DIED = "died"


S, E = KernelState, KernelEvent
_LIVE = (S.STARTING, S.INITIALIZING, S.IDLE, S.ATTACHED, S.DETACHED)

TRANSITIONS: dict[tuple[KernelState, KernelEvent], KernelState] = {
    (S.STARTING, E.LAUNCHED): S.INITIALIZING,
    (S.INITIALIZING, E.INITIALIZED): S.IDLE,
    (S.IDLE, E.ATTACHED): S.ATTACHED,
    (S.ATTACHED, E.ATTACHED): S.ATTACHED,
    (S.DETACHED, E.ATTACHED): S.ATTACHED,
    (S.ATTACHED, E.RELEASED): S.DETACHED,
    **{(s, E.CLOSING): S.CLOSING for s in _LIVE},
    **{(s, E.DIED): S.DEAD for s in _LIVE},
    (S.CLOSING, E.EXITED): S.CLOSED,
    (S.CLOSING, E.DIED): S.CLOSED,
    (S.CLOSING, E.CLOSING): S.CLOSING,
}

#: States in which a kernel can be handed to a client that asks its pool for one.
AVAILABLE = frozenset({S.IDLE, S.DETACHED})
#: States that count towards a pool's MaximumKernelNumber.
COUNTED = frozenset(_LIVE)
#: States that will become available without a client's help (for MinimumKernelNumber).
WARMING = frozenset({S.STARTING, S.INITIALIZING, S.IDLE})


class KernelStateError(ServerError):
    """An event that the kernel's current state does not allow."""


def next_state(kernel_id: str, state: KernelState, event: KernelEvent) -> KernelState:
    """Look up the state that ``event`` leads to from ``state``.

    Raises:
        KernelStateError: the transition is not in :data:`TRANSITIONS`.
    """
    try:
        return TRANSITIONS[state, event]
    except KeyError:
        raise KernelStateError(
            f"kernel {kernel_id} in state {state.value} cannot handle event {event.value}"
        ) from None
