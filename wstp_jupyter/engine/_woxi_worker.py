"""The Woxi evaluator process: one Woxi session, driven by the engine over a socket.

Run by ``_woxi.WoxiBackend`` as ``python -m wstp_jupyter.engine._woxi_worker FD MAGIC FIFO``:

* fd ``FD`` is the control socket. Requests and replies are frames (4-byte big-endian length,
  then a ``marshal``-ed dict); a frame that starts a promoted copy's life is preceded by
  ``MAGIC`` so the engine can find it after killing a process in the middle of a frame.
* fds 1 and 2 are one packet-mode pipe (``O_DIRECT``): Woxi writes ``Print`` output (stdout)
  and messages (stderr) there while it runs, each ``write`` one packet, in order.
* ``FIFO`` answers ``Input[]``/``InputString[]``: Woxi's own read nothing in library mode, so
  they are redefined to print a marker packet and read the front end's answer from the FIFO.

**Why a process, and why a fork per input.** Woxi cannot be interrupted. For each main
evaluation the worker keeps a *standby* copy of itself, which blocks on a pipe only the
evaluating process holds open. If the engine must stop the evaluation it kills the evaluating
process; the pipe reports end-of-file in the standby, which becomes the worker, in the state of
the session before that input, and says so with a ``promoted`` frame. The copy for the next input
is forked as soon as an input's reply is sent (off the path of the next request; only inputs
change the session). Woxi is single-threaded, so a fork copies a whole session.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import marshal
import os
import re
import signal
import socket
import struct
import sys
import time
import traceback
from typing import Any

from wstp_jupyter.engine._woxi_syntax import (
    ends_with_operator,
    open_construct,
    rewrite_percent,
    split_cell,
)

_HEADER = struct.Struct(">I")
_PARSE_AT = re.compile(r"-->\s*(\d+):(\d+)")
PR_SET_PDEATHSIG = 1
RES = "WSTPJupyter`Private`res"
VALUE = "WSTPJupyter`Private`out$"  # + n: the value of input line n (Out[n] reads it)
HISTORY = 100  # input lines whose In/Out are kept
# The worker's exit status when Woxi failed (a Rust panic reaches Python as an exception);
# any other status is the user's Exit[n]/Quit[n], which ends Woxi's process at once.
CRASH_STATUS = 70  # EX_SOFTWARE
# $OutputForms a main-loop result may be wrapped in (Out[n] is stored without the wrapper and
# the prompt names it: "Out[5]//TeXForm= "). Woxi's ToString writes those in WOXI_WRITES as
# the Wolfram kernel's text does; the engine writes the others from the wire value.
WOXI_WRITES = frozenset({
    "TeXForm", "MathMLForm", "MatrixForm", "TableForm", "NumberForm", "ScientificForm",
    "EngineeringForm", "BaseForm", "CForm", "FortranForm",
})
OUTPUT_FORMS = WOXI_WRITES | {"InputForm", "OutputForm", "FullForm", "StandardForm",
                              "TraditionalForm"}


def _setup_code(mark: str, fifo: str) -> str:
    """WL definitions: ``Out[-k]``/``Out[]`` relative to ``$Line``; ``Input``, ``InputString``
    and the ``Link*`` functions (``_woxi_links``) that ask the engine. (``Quit[]`` ends this
    process at once, whatever its definitions say; the engine recognises it by the exit status
    0 of a process it did not kill.)"""
    from wstp_jupyter.engine._woxi_links import definitions as link_definitions

    q = '"' + mark.replace("\\", "\\\\").replace('"', '\\"') + '"'
    f = '"' + fifo.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return (
        "Unprotect[In, Out, Input, InputString];"
        "Out[k_Integer?Negative] := Out[$Line + k];"
        "Out[] := Out[$Line - 1];"
        f"WSTPJupyter`Private`ask[kind_, p_] := Module[{{r}}, Print[{q} <> kind <> "
        'StringReplace[ToString[p], "\\n" -> " "]]; '
        f"r = ReadString[{f}]; "
        f'Which[r === {q} <> "A", Abort[], r === {q} <> "E", EndOfFile, True, r]];'
        'InputString[p_ : ""] := WSTPJupyter`Private`ask["S", p];'
        'Input[p_ : ""] := With[{r = WSTPJupyter`Private`ask["E", p]}, '
        "If[r === EndOfFile, r, ToExpression[r]]];"
        "Protect[In, Out, Input, InputString];"
        + link_definitions(mark, fifo)
        + "$Line = 0;"
    )


class Worker:
    """Serves requests from the engine until the control socket closes."""

    def __init__(self, ctl: socket.socket, magic: bytes, mark: str, fifo: str) -> None:
        import woxi

        self.woxi = woxi
        self.ctl = ctl
        self.magic = magic
        self.standby: tuple[int, int] | None = None  # pid, write end of its pipe
        woxi.interpret(_setup_code(mark, fifo))

    # -- frames ------------------------------------------------------------------------
    def send(self, message: dict[str, Any], *, prefix: bytes = b"") -> None:
        data = marshal.dumps(message)
        self.ctl.sendall(prefix + _HEADER.pack(len(data)) + data)

    def receive(self) -> dict[str, Any] | None:
        head = self._exact(_HEADER.size)
        if head is None:
            return None
        body = self._exact(_HEADER.unpack(head)[0])
        return None if body is None else dict(marshal.loads(body))

    def _exact(self, n: int) -> bytes | None:
        chunks = bytearray()
        while len(chunks) < n:
            chunk = self.ctl.recv(n - len(chunks))
            if not chunk:
                return None
            chunks += chunk
        return bytes(chunks)

    # -- the loop ----------------------------------------------------------------------
    def serve(self) -> None:
        while True:
            request = self.receive()
            if request is None:
                self.dismiss_standby()
                return
            op = request.get("op")
            evaluates = op in ("line", "eval")
            if evaluates:
                if self.standby is None and not self.fork_standby():
                    continue  # this process is the promoted standby: serve on
                assert self.standby is not None
                self.send({"ev": "standby", "pid": self.standby[0]})
            try:
                reply = getattr(self, "op_" + str(op))(request)
            except self.woxi.WolframError as exc:
                reply = {"error": str(exc)}
            self.send({"ev": "done", **reply})
            if evaluates:
                # The copy for the next input is made now, while the engine handles this reply
                # and the user reads it, not when the next input is already waiting. (Only
                # inputs change the session: the other requests read it.) The old copy is
                # killed first and reaped after the fork, so its exit overlaps the fork.
                old = self.dismiss_standby(wait=False)
                if not self.fork_standby():
                    continue  # the promoted copy: ``old`` was its dead parent's child
                _reap(old)

    def fork_standby(self) -> bool:
        """Fork the standby copy; False in the copy once it has been promoted."""
        sys.stdout.flush()
        read_end, write_end = os.pipe()
        # Taken before the fork: were the copy to ask after it, a worker killed in between (its
        # engine died) would already be gone and the copy would wait below for ever.
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            os.close(write_end)
            if os.read(read_end, 1):  # dismissed (never sent: it is killed); be safe
                os._exit(0)
            os.close(read_end)
            # Promoted: wait until the dead worker's children are handed on, then die with
            # the engine like the worker did.
            while os.getppid() == parent:
                time.sleep(0.001)
            _die_with_parent()
            # The pipe also ends when the engine dies (and the worker with it); then this copy
            # was handed to init, not to the engine, and must not live on alone.
            if os.getppid() != _ENGINE_PID:
                os._exit(0)
            self.standby = None
            self.send({"ev": "promoted", "pid": os.getpid()}, prefix=self.magic)
            return False
        os.close(read_end)
        self.standby = (pid, write_end)
        return True

    def dismiss_standby(self, *, wait: bool = True) -> int | None:
        """Kill the standby copy; reap it too unless ``wait`` is false (then the caller reaps
        the returned pid with :func:`_reap`)."""
        if self.standby is None:
            return None
        pid, write_end = self.standby
        self.standby = None
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        os.close(write_end)
        if wait:
            _reap(pid)
            return None
        return pid

    # -- operations --------------------------------------------------------------------
    def op_split(self, request: dict[str, Any]) -> dict[str, Any]:
        """The cell's expressions, or where the first syntax error is (see :func:`check_cell`)."""
        return check_cell(self.woxi, str(request["code"]))

    def op_line(self, request: dict[str, Any]) -> dict[str, Any]:
        """Evaluate one top-level expression as input line ``n``.

        The value goes to a variable of its own, ``Out[n]`` is defined to read it: in Woxi
        every assignment copies the value, and a large result should be copied once.
        """
        n = int(request["n"])
        code = rewrite_percent(str(request["code"]))
        var = f"{VALUE}{n}"
        # Keep the last HISTORY lines, as $HistoryLength does in Mathics3: Woxi would keep all.
        old = n - HISTORY
        forget = f"Quiet[Out[{old}] =.; In[{old}] =.; {VALUE}{old} =.];" if old > 0 else ""
        self.woxi.interpret(
            f"$Line = {n}; Unprotect[In, Out]; {var} =.; In[{n}] := ({code}\n); "
            f"Out[{n}] := {var}; {forget} Protect[In, Out];"
        )
        reply = self.evaluate(code, var)
        if not reply["aborted"]:
            reply.update(self.strip_form(var))
        reply["line"] = int(self.woxi.interpret("$Line"))
        return reply

    def strip_form(self, var: str) -> dict[str, Any]:
        """A result wrapped in an output form (``TeXForm[x^2]``), as the main loop treats it:
        ``Out[n]`` keeps the value without the wrapper, and the reply names the form
        (``form``) and, for the forms Woxi writes itself, that form's text (``formtext``).
        The reply's ``wxf`` (taken before) keeps the wrapper. A ``Definition`` gets Woxi's
        text of it (``formtext`` alone). Empty for any other result and for a wrapper Woxi
        leaves unevaluated (wrong arguments, options it does not know)."""
        interpret = self.woxi.interpret
        head = interpret(f"Head[{var}]")
        if head in ("Definition", "FullDefinition"):
            # Woxi's own text is the definitions (``f[x_] := x + 1``); the value is opaque.
            return {"formtext": interpret(f"ToString[{var}]")}
        if head not in OUTPUT_FORMS:
            return {}
        text: str | None = None
        if head in WOXI_WRITES:
            text = interpret(f"ToString[{var}]")
            if text.startswith(head + "["):
                return {}
            text = _ascii_times(text)
        elif interpret(f"Length[{var}]") != "1":
            return {}
        interpret(f"{var} = First[{var}];")
        return {"form": head, "formtext": text}

    def op_eval(self, request: dict[str, Any]) -> dict[str, Any]:
        """Evaluate outside the main loop (no In/Out)."""
        self.woxi.interpret(f"{RES} =.;")
        return self.evaluate(str(request["code"]), RES)

    def evaluate(self, code: str, var: str) -> dict[str, Any]:
        text = self.woxi.interpret(f"{var} = ({code}\n)")
        # Abort[] ends the whole evaluation: the assignment never happened.
        aborted = text == "$Aborted" and self.woxi.interpret(f"ValueQ[{var}]") == "False"
        if aborted:
            self.woxi.interpret(f"{var} = $Aborted;")
        return {"text": text, "aborted": aborted, **wire_of(self.woxi.interpret, var)}

    def op_call(self, request: dict[str, Any]) -> dict[str, Any]:
        """A helper evaluation whose text result is all that is needed."""
        return {"text": self.woxi.interpret(str(request["code"]))}


def check_cell(woxi: Any, text: str) -> dict[str, Any]:
    """Cut a cell into its expressions and parse each (``Hold``: nothing is evaluated).

    Returns:
        ``{"chunks": [...]}``, or ``{"syntax": position, "incomplete": bool, "message": str}``
        for the first expression that does not parse.
    """
    chunks = split_cell(text)
    for offset, chunk in chunks:
        problem = syntax_error(woxi, chunk)
        if problem is not None:
            position, message = problem
            return {
                "syntax": offset + position,
                "incomplete": ends_with_operator(chunk) or open_construct(chunk),
                "message": message,
            }
    return {"chunks": [chunk for _, chunk in chunks]}


def syntax_error(woxi: Any, chunk: str) -> tuple[int, str] | None:
    """``(position, parser message)`` of the first syntax error in ``chunk``, or ``None``."""
    try:
        woxi.interpret("Hold[\n" + chunk + "\n];")
    except woxi.WolframError as exc:
        text = str(exc)
        found = _PARSE_AT.search(text)
        if found is None:
            return None
        line, column = int(found.group(1)) - 2, int(found.group(2)) - 1
        lines = chunk.split("\n")
        if line < 0:
            return 0, text
        if line >= len(lines):
            return len(chunk), text
        return sum(len(x) + 1 for x in lines[:line]) + min(column, len(lines[line])), text
    return None


def wire_of(interpret: Any, var: str = "WSTPJupyter`Private`res") -> dict[str, Any]:
    """The value of ``var`` as WXF bytes (``wxf``), else its InputForm text (``inputform``).

    Woxi cannot serialize arbitrary-precision reals (they travel as their text inside
    ``WSTPJupyter`BigReal``) nor its graphics objects (they travel as ``Graphics[primitives]``
    with their SVG in ``svg``; ``opaque`` names the head).
    """
    data = _b64(interpret(f"Quiet[BaseEncode[BinarySerialize[{var}]]]"))
    if data is not None:
        return {"wxf": data}
    head = interpret(f"Head[{var}]")
    if head in ("Graphics", "Graphics3D"):
        svg = interpret(f'ExportString[{var}, "SVG"]')
        data = _b64(interpret(f"Quiet[BaseEncode[BinarySerialize[{head}[{var}[[1]]]]]]"))
        if data is not None:
            return {"wxf": data, "opaque": head, "svg": svg}
        return {"inputform": f"-{head}-", "opaque": head, "svg": svg}
    data = _b64(interpret(
        # (A PatternTest: Woxi 0.3.0 matches ``r_Real /; cond`` against whole expressions.)
        f"Quiet[BaseEncode[BinarySerialize[{var} /. r_Real?(Precision[#] =!= "
        "MachinePrecision &) :> WSTPJupyter`BigReal[ToString[r, InputForm]]]]]"
    ))
    if data is not None:
        return {"wxf": data}
    return {"inputform": interpret(f"ToString[{var}, InputForm]")}


_TIMES_SIGN = " \u00d7 "


def _ascii_times(text: str) -> str:
    """Woxi writes ``ScientificForm`` as ``1.2345 \\u00d7 10`` (a multiplication sign) under
    its exponent; OutputForm writes a product with a space. The exponent line above moves left
    with the base."""
    lines = text.split("\n")
    if _TIMES_SIGN not in lines[-1]:
        return text
    lines[-1] = lines[-1].replace(_TIMES_SIGN, " ")
    lines[:-1] = [line[2:] if line.startswith("  ") else line for line in lines[:-1]]
    return "\n".join(lines)


def _reap(pid: int | None) -> None:
    if pid is not None:
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)


def _b64(text: str) -> bytes | None:
    if not text or text.startswith(("BaseEncode", "$Failed")):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    return data if data.startswith(b"8:") else None


_ENGINE_PID = 0  # the engine process that started the worker (a copy's subreaper)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent (the engine) dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def main(argv: list[str]) -> int:
    global _ENGINE_PID  # set once, before any copy is forked
    fd, magic, fifo = int(argv[0]), bytes.fromhex(argv[1]), argv[2]
    _ENGINE_PID = os.getppid()
    _die_with_parent()
    ctl = socket.socket(fileno=fd)
    try:
        worker = Worker(ctl, magic, magic.hex(), fifo)
        worker.send({"ev": "ready", "pid": os.getpid()})
        worker.serve()
    except (BrokenPipeError, ConnectionResetError):
        pass
    except BaseException:  # a panic inside Woxi: tell it apart from the user's Exit[n]
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(CRASH_STATUS)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
