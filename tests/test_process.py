"""The one staged process stop (wstp_jupyter._process): each stage is reached only when the one
before did not end the process, and the last one takes the child's whole process group."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from wstp_jupyter._process import stop, stop_async

# Ignores SIGTERM, starts a grandchild in its own process group and prints that one's pid.
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(600)
"""
POLITE = "import sys; sys.stdin.read()"  # ends when its input (our "link") closes


def _gone(pid: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.02)
    return False


def _stubborn() -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE,
                            start_new_session=True)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def test_polite_close_is_enough_for_a_willing_child() -> None:
    proc = subprocess.Popen([sys.executable, "-c", POLITE], stdin=subprocess.PIPE)
    assert proc.stdin is not None
    assert stop(proc, close=proc.stdin.close, grace=60) == 0


def test_sigkill_of_the_group_ends_a_child_that_ignores_sigterm() -> None:
    proc, grandchild = _stubborn()
    closed: list[bool] = []
    code = stop(proc, close=lambda: closed.append(True), grace=0.2)
    assert code == -signal.SIGKILL
    assert closed == [True]
    assert _gone(grandchild)


def test_async_stop_survives_cancellation_of_its_caller() -> None:
    async def main() -> tuple[int | None, int]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", STUBBORN, stdout=asyncio.subprocess.PIPE,
            start_new_session=True)
        assert proc.stdout is not None
        grandchild = int(await proc.stdout.readline())
        task = asyncio.create_task(stop_async(proc, grace=0.5))
        await asyncio.sleep(0)  # the stop has begun
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return proc.returncode, grandchild

    code, grandchild = asyncio.run(main())
    assert code == -signal.SIGKILL
    assert _gone(grandchild)


def test_a_child_in_our_own_group_is_signalled_alone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    assert os.getpgid(proc.pid) == os.getpgrp()
    assert stop(proc, grace=0.2) == -signal.SIGTERM  # and this test process is still here
