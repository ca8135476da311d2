"""``jupyter console`` driven in tmux: results, Print, messages, completion, stdin, exit.

A private tmux server (``-L``) keeps the test away from any user session. The console starts its
own ``wolfram-wstp`` kernel and must shut it down on exit, leaving no kernel process behind.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    def __init__(self) -> None:
        self.socket = f"wstp-test-{uuid.uuid4().hex[:8]}"
        self.last_screen = ""

    def run(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=30, check=False)
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-J", "-S", "-200", "-t", "c")

    def send(self, *keys: str) -> None:
        self.run("send-keys", "-t", "c", *keys)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen.strip():
                self.last_screen = screen
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear; screen:\n{self.screen()}")


@pytest.fixture
def tmux(artifact_dir: Path) -> Iterator[Tmux]:
    t = Tmux()
    command = f"{sys.executable} -m jupyter console --kernel wolfram-wstp"
    t.run("new-session", "-d", "-s", "c", "-x", "140", "-y", "50", command)
    try:
        yield t
    finally:
        (artifact_dir / "console.txt").write_text(t.last_screen)
        t.run("kill-server")


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        children = {pid for pid, ppid in parents.items() if ppid in frontier}
        frontier = children - found
        found |= children
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def test_console_session(tmux: Tmux) -> None:
    tmux.wait_for("In [1]:", timeout=120)
    tmux.send("1 + 1", "Enter")
    tmux.wait_for("Out[1]: 2", timeout=120)  # the first cell waits for the kernel process
    console = int(tmux.run("display-message", "-p", "-t", "c", "#{pane_pid}").strip())
    started = _descendants(console)  # the Jupyter kernel and its kernel process
    assert len(started) >= 2, f"expected a kernel and a kernel process under the console: {started}"

    tmux.send('Print["hello"]; 1/0', "Enter")
    screen = tmux.wait_for("Out[2]: ComplexInfinity")
    assert "hello" in screen
    assert "Power::infy: Infinite expression 1/0 encountered." in screen

    tmux.send("Integrat", "Tab")
    tmux.wait_for("Integrate")
    tmux.send("[t, t]", "Enter")
    tmux.wait_for("Out[3]: t^2/2")

    tmux.send('StringJoin["hi ", InputString["name? "]]', "Enter")
    tmux.wait_for("name? ")
    tmux.send("Ada", "Enter")
    tmux.wait_for("Out[4]: hi Ada")

    tmux.send("f[x", "Enter")  # incomplete: the console waits for more input
    time.sleep(0.5)
    assert "Out[5]" not in tmux.screen()
    tmux.send("]", "Enter")
    tmux.wait_for("Out[5]: f[x]")

    # A syntax error uses no In[n]: the next prompt is In [6] again, as the kernel's next input.
    tmux.send("1 +* 2", "Enter")
    tmux.wait_for("SyntaxError")
    tmux.send("6 * 7", "Enter")
    screen = tmux.wait_for("Out[6]: 42")
    assert "In [7]:" not in screen.split("SyntaxError", 1)[1].split("Out[6]: 42", 1)[0], screen

    tmux.send("C-d")
    tmux.wait_for("exit")
    tmux.send("y", "Enter")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(started):
        time.sleep(0.2)
    assert not _alive(started), "kernel processes left after exit"
