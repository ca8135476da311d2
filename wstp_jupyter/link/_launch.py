"""Starting a peer process on a fresh listening link (``LinkLaunch``).

:func:`launch` listens on a free name, starts the command with ``-linkmode connect
-linkprotocol P -linkname NAME`` appended and the key in ``WSTP_JUPYTER_LINK_KEY``, then activates
the link in short steps while watching the process, so a child that dies during startup is noticed
at once instead of at the timeout. On any failure the child is gone and the link is closed before
the error is raised; :class:`LaunchError` carries the exit status and whatever the child wrote on
a captured stderr. ``Link.launch`` and the engine's kernel launcher are both this function.
"""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

from wstp_jupyter._process import stop
from wstp_jupyter.link._constants import ErrorCode
from wstp_jupyter.link._errors import LinkError, LinkTimeout
from wstp_jupyter.link._link import _REGISTERED, KEY_ENV, Link
from wstp_jupyter.link._names import Protocol

# How long one activation attempt waits before the process is polled again.
_POLL_INTERVAL = 0.1


class LaunchError(LinkError):
    """The launched process exited before it connected (``WSELAUNCHFAILED``).

    Attributes:
        returncode: the process's exit status (negative: killed by that signal), or ``None``
            when the process could not be started at all.
        stderr: what it wrote on stderr when stderr was captured (``subprocess.PIPE`` or a
            readable, seekable binary file), else ``""``.
    """

    default_code = ErrorCode.WSELAUNCHFAILED

    def __init__(self, message: str, *, returncode: int | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class LaunchTimeout(LaunchError, LinkTimeout):
    """The launched process did not connect in time; it has been killed.

    Also a ``LinkTimeout`` (as ``Link.launch`` always raised); ``returncode`` is the status of
    the killed process and ``stderr`` what it wrote before.
    """

    default_code = ErrorCode.WSELAUNCHFAILED


def read_captured(stream: IO[bytes] | None) -> str:
    """Everything written so far to a captured stderr file, decoded leniently.

    ``stream`` is a readable, seekable binary file the child writes to (a temporary file keeps a
    chatty child from blocking on a full pipe). Returns ``""`` for ``None``, a closed file or one
    that cannot be re-read.
    """
    if stream is None or stream.closed:
        return ""
    try:
        stream.flush()
        stream.seek(0)
        return stream.read().decode("utf-8", "replace")
    except (OSError, ValueError, io.UnsupportedOperation):
        return ""


def _stderr_of(proc: subprocess.Popen[bytes], target: object) -> str:
    """The captured stderr of a process that has exited (``target`` is Popen's ``stderr=``)."""
    if target == subprocess.PIPE and proc.stderr is not None:
        try:
            _, err = proc.communicate(timeout=5.0)
        except subprocess.TimeoutExpired:
            # A grandchild still holds the pipe open; report nothing rather than hang.
            return ""
        return (err or b"").decode("utf-8", "replace")
    if hasattr(target, "seek") and hasattr(target, "read"):
        return read_captured(target)  # type: ignore[arg-type]
    return ""


def _failure(
    proc: subprocess.Popen[bytes], stderr_target: object, message: str, *, timed_out: bool
) -> LaunchError:
    text = _stderr_of(proc, stderr_target)
    if text:
        message = f"{message}; stderr:\n{text.rstrip()}"
    cls = LaunchTimeout if timed_out else LaunchError
    return cls(message, returncode=proc.returncode, stderr=text)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # A launch that failed has no link to close politely: the signal stages, without grace.
    stop(proc, grace=0.0)


def link_arguments(protocol: Protocol | str, name: str) -> list[str]:
    """The arguments that make a launched process connect to the listener ``name``.

    Separate from :func:`launch` for code that listens by other means (an asyncio listener)
    yet starts its peer the same way.
    """
    proto = Protocol.parse(protocol).value
    return ["-linkmode", "connect", "-linkprotocol", proto, "-linkname", name]


def launch(
    command: Sequence[str],
    *,
    protocol: Protocol | str = Protocol.TCPIP,
    key: bytes | str | None = None,
    timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
    link_options: Mapping[str, Any] | None = None,
    **popen: Any,
) -> Link:
    """Listen, start ``command`` as the peer, and activate the link.

    Args:
        command: the program and its own arguments; the link arguments are appended.
        protocol: ``TCPIP`` (default, loopback) or ``Local``.
        key: the link key; a random one when ``None``. The child finds it in the environment
            variable ``WSTP_JUPYTER_LINK_KEY``.
        timeout: seconds the process has to connect and finish the handshake.
        env: the child's environment (default: this process's); the key is added to a copy.
        link_options: options for ``Link.listen`` (``max_frame_size``, ``limits``,
            ``handshake_timeout``).
        **popen: keyword options for ``subprocess.Popen`` (``stdin``, ``stdout``, ``stderr``,
            ``cwd``, ...). With ``stderr=subprocess.PIPE`` or a readable, seekable binary file,
            a failure's error carries the child's stderr; the caller must drain a pipe itself
            once the launch has succeeded.

    Returns:
        The active link; ``link.process`` is the ``Popen``. Closing the link does not kill it.

    Raises:
        LaunchError: (``WSELAUNCHFAILED``) the process could not be started or exited before
            connecting; ``returncode`` and ``stderr`` say how.
        LaunchTimeout: it did not connect within ``timeout`` seconds; it has been killed.
    """
    if key is None:
        key = secrets.token_hex(16)
    key_text = key.decode("utf-8") if isinstance(key, bytes) else key
    child_env = dict(os.environ if env is None else env)
    child_env[KEY_ENV] = key_text
    link = Link.listen(protocol, None, key=key, **(link_options or {}))
    try:
        proc = subprocess.Popen(
            [*command, *link_arguments(link.protocol, link.name)], env=child_env, **popen
        )
    except OSError as exc:
        link.close()
        raise LaunchError(f"cannot launch {command[0]!r}: {exc}") from exc
    link.process = proc
    stderr_target = popen.get("stderr")
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                link.activate(timeout=_POLL_INTERVAL)
                return link
            except LinkTimeout:
                if proc.poll() is not None:
                    raise _failure(
                        proc,
                        stderr_target,
                        f"launched process exited with code {proc.returncode} before connecting",
                        timed_out=False,
                    ) from None
                if time.monotonic() >= deadline:
                    _stop(proc)
                    raise _failure(
                        proc,
                        stderr_target,
                        f"launched process did not connect within {timeout} s",
                        timed_out=True,
                    ) from None
    except BaseException:
        # Whatever ended the wait (a failure above, a handshake error, KeyboardInterrupt), the
        # half-started peer must not outlive it.
        _stop(proc)
        link.close()
        raise


__all__ = ["LaunchError", "LaunchTimeout", "launch", "link_arguments", "read_captured"]


_REGISTERED["launch"] = launch  # Link.launch (see _link's module docstring)
