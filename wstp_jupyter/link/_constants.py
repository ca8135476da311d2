"""WSTP's numeric vocabulary: packet codes, token types, urgent-message codes, error codes.

The values are WSTP's own (the 13.2 C interface, ``WSINTERFACE`` 4), so code written against the
C API or wstp-rs reads the same numbers here. Only the numbers are taken from WSTP; the names are
the documented C names without their ``WS`` prefix where that reads better in Python.
"""

from __future__ import annotations

from enum import IntEnum


class PacketCode(IntEnum):
    """Packet codes as returned by ``WSNextPacket`` (WSTP reference, "WSTP Packets")."""

    ILLEGALPKT = 0
    INPUTPKT = 1
    TEXTPKT = 2
    RETURNPKT = 3
    RETURNTEXTPKT = 4
    MESSAGEPKT = 5
    MENUPKT = 6
    CALLPKT = 7
    INPUTNAMEPKT = 8
    OUTPUTNAMEPKT = 9
    SYNTAXPKT = 10
    DISPLAYPKT = 11
    DISPLAYENDPKT = 12
    EVALUATEPKT = 13
    ENTERTEXTPKT = 14
    ENTEREXPRPKT = 15
    RETURNEXPRPKT = 16
    SUSPENDPKT = 17
    RESUMEPKT = 18
    BEGINDLGPKT = 19
    ENDDLGPKT = 20
    INPUTSTRPKT = 21
    FIRSTUSERPKT = 128
    LASTUSERPKT = 255
    # WSTP gives ExpressionPacket no code. 256 lies outside WSTP's one-byte code space, so this
    # project's value can never collide with a WSTP or user packet code.
    EXPRESSIONPKT = 256


class TokenType(IntEnum):
    """Token types of ``WSGetNext`` / ``WSGetType`` (the public five plus the error token)."""

    WSTKERROR = 0
    WSTKFUNC = 70  # 'F'
    WSTKSTR = 34  # '"'
    WSTKSYM = 35  # '#'
    WSTKREAL = 42  # '*'
    WSTKINT = 43  # '+'


class MessageCode(IntEnum):
    """Urgent message codes (``WSTerminateMessage`` ...); 128-255 are free for users."""

    TERMINATE = 1
    INTERRUPT = 2
    ABORT = 3
    ENDPACKET = 4
    SYNCHRONIZE = 5
    IMDYING = 6
    WAITINGACKNOWLEDGMENT = 7
    MARKTOPLEVEL = 8
    LINKCLOSING = 9
    AUTHENTICATEFAILURE = 10
    SUSPENDACTIVITIES = 11
    RESUMEACTIVITIES = 12
    FIRSTUSER = 128
    LASTUSER = 255


class ErrorCode(IntEnum):
    """``WSError`` codes this project raises (a subset of WSTP's table, same values)."""

    WSEUNKNOWN = -1
    WSEOK = 0
    WSEDEAD = 1
    WSEGBAD = 2
    WSEGSEQ = 3
    WSEPBTK = 4
    WSEPSEQ = 5
    WSEPBIG = 6
    WSEOVFL = 7
    WSEMEM = 8
    WSEACCEPT = 9
    WSECONNECT = 10
    WSECLOSED = 11
    WSEDEPTH = 12
    WSENODATA = 16
    WSEFAILED = 19
    WSEGETENDEXPR = 20
    WSEPUTENDPACKET = 21
    WSENEXTPACKET = 22
    WSEUNKNOWNPACKET = 23
    WSEGETENDPACKET = 24
    WSEABORT = 25
    WSEBADPARAM = 29
    WSENOTIMPLEMENTED = 30
    WSEPROTOCOL = 34
    WSEMODE = 35
    WSENAMETAKEN = 40
    WSENOLISTEN = 41
    WSEBADNAME = 42
    WSEBADHOST = 43
    WSERESOURCE = 44
    WSELAUNCHFAILED = 45
    WSEPDATABAD = 47
    WSEGSCONVERT = 49
    WSEBADARGUMENT = 58


def is_valid_message_code(code: int) -> bool:
    """True for WSTP's standard message codes (1-12) and the user range (128-255)."""
    return 1 <= code <= 12 or 128 <= code <= 255
