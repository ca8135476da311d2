"""Launching a kernel process from the front-end side, and shutting it down without orphans.

``launch()`` starts ``python -m wstp_jupyter.engine -wstp`` with ``Link.launch``, which listens,
appends the link arguments, passes the key in ``WSTP_JUPYTER_LINK_KEY`` and activates while
watching the process.
Its stderr goes to a temporary file (so a chatty child never blocks on a full pipe); if the process
exits first, or the startup timeout passes, :class:`StartupError` carries that stderr. Nothing is
read from the link: the caller reads the first ``InputNamePacket``.

``KernelProcess.close()`` is the package's one staged stop (:func:`wstp_jupyter._process.stop`):
ask politely (``Quit[]`` and close the links, which alone makes the kernel exit), wait, SIGTERM,
wait, SIGKILL of the kernel's process group.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
import tempfile
from typing import IO

from wstp_jupyter._process import stop
from wstp_jupyter.engine._errors import StartupError
from wstp_jupyter.engine._sidelinks import open_parallel_links
from wstp_jupyter.link import LaunchError, Link, LinkError, LinkTimeout, UrgentMessage
from wstp_jupyter.link._launch import read_captured
from wstp_jupyter.wxf import Expr, Symbol


class KernelProcess:
    """A running kernel process and the front end's end of its links.

    Attributes:
        link: the main link (active).
        process: the ``subprocess.Popen``.
        key: the link key the kernel was given.
        service / preemptive: set by :meth:`open_parallel_links`, else ``None``.
    """

    def __init__(
        self, link: Link, process: subprocess.Popen[bytes], key: str, stderr: IO[bytes]
    ) -> None:
        self.link = link
        self.process = process
        self.key = key
        self.service: Link | None = None
        self.preemptive: Link | None = None
        self._stderr = stderr

    @property
    def pid(self) -> int:
        """The kernel's process id."""
        return int(self.process.pid)

    def open_parallel_links(self, timeout: float = 30.0) -> tuple[Link, Link]:
        """Open the service and preemptive links (the front end's side of the exchange).

        Call it while the kernel is idle, after reading its ``InputNamePacket``.

        Returns:
            ``(service, preemptive)``, also kept as ``.service`` / ``.preemptive``.

        Raises:
            EngineError: the kernel did not follow the exchange.
            LinkError: a link could not be opened.
        """
        if self.service is None or self.preemptive is None:
            self.service, self.preemptive = open_parallel_links(
                self.link, key=self.key, timeout=timeout
            )
        return self.service, self.preemptive

    def interrupt(self) -> None:
        """Send the interrupt urgent message (the kernel answers with a ``MenuPacket``)."""
        self.link.put_message(UrgentMessage.INTERRUPT)

    def abort(self) -> None:
        """Send the abort urgent message (the running evaluation returns ``$Aborted``)."""
        self.link.put_message(UrgentMessage.ABORT)

    def stderr_text(self) -> str:
        """What the kernel wrote on stderr so far (empty once closed)."""
        return read_captured(self._stderr)

    def close(self, timeout: float = 3.0) -> int:
        """Stop the kernel: ``Quit[]`` and close the links, wait, SIGTERM, wait, SIGKILL.

        Returns:
            The process's exit code. Idempotent.
        """
        def ask_to_quit() -> None:
            if self.process.poll() is None:
                # The abort ends a running evaluation so that Quit[] is read at once; closing
                # the main link alone would make the kernel exit as well.
                with contextlib.suppress(LinkError):
                    self.link.put_message(UrgentMessage.ABORT)
                    self.link.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol("Quit"))))
            for link in (self.service, self.preemptive, self.link):
                if link is not None:
                    link.close()

        code = stop(self.process, close=ask_to_quit, grace=timeout)
        self._stderr.close()
        return code

    def __enter__(self) -> KernelProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.process.poll() is None else f"exited {self.process.returncode}"
        return f"<KernelProcess pid={self.pid} {state} link={self.link.name!r}>"


def kernel_command(python: str | None = None) -> list[str]:
    """The command that starts a kernel process (without link arguments)."""
    return [python or sys.executable, "-m", "wstp_jupyter.engine", "-wstp"]


def launch(
    *,
    protocol: str = "TCPIP",
    key: str | None = None,
    env: dict[str, str] | None = None,
    startup_timeout: float = 60.0,
    python: str | None = None,
    extra_args: tuple[str, ...] = (),
) -> KernelProcess:
    """Start a kernel process connected to a fresh link (``WolframKernelProcess::launch``).

    Args:
        protocol: ``"TCPIP"`` (loopback) or ``"Local"`` (Unix socket).
        key: the link key; a random one by default.
        env: the child's environment (default: this process's), the key is added to it.
        startup_timeout: seconds to wait for the kernel to connect (Mathics3 needs ~4 s).
        python: the interpreter to run (default ``sys.executable``).
        extra_args: more kernel arguments (e.g. ``("-backend", "mathics")``).

    Returns:
        The :class:`KernelProcess`; its first packet is ``InputNamePacket["In[1]:= "]``.

    Raises:
        StartupError: the process exited or did not connect in time; the message includes its
            stderr.
    """
    key = key or secrets.token_hex(16)
    # Kept open for the kernel's lifetime (closed by KernelProcess.close), hence no ``with``.
    stderr = tempfile.TemporaryFile(prefix="wstp-engine-stderr-")  # noqa: SIM115
    try:
        link = Link.launch(
            [*kernel_command(python), *extra_args],
            protocol=protocol,
            key=key,
            timeout=startup_timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            # Its own process group: a Ctrl-C meant for the front end does not reach it, and
            # the last stage of close() ends whatever it started as well.
            start_new_session=True,
        )
    except LaunchError as exc:
        stderr.close()
        raise StartupError(_startup_failure(exc, startup_timeout)) from None
    except BaseException:
        stderr.close()
        raise
    assert link.process is not None  # set by every successful launch
    return KernelProcess(link, link.process, key, stderr)


def _startup_failure(exc: LaunchError, startup_timeout: float) -> str:
    if isinstance(exc, LinkTimeout):
        what = f"did not connect within {startup_timeout} s"
    elif exc.returncode is None:
        what = f"could not be started ({exc})"
    else:
        what = f"exited with code {exc.returncode} before connecting"
    return f"the kernel process {what}; stderr:\n{exc.stderr}"


__all__ = ["KernelProcess", "kernel_command", "launch"]
