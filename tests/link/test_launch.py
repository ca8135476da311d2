"""Launching a peer process (``Link.launch`` and ``link._launch.launch``) with real children."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from wstp_jupyter.link import (
    ErrorCode,
    Link,
    LinkError,
    LinkTimeout,
    Protocol,
    RemoteProtocolError,
)
from wstp_jupyter.link._launch import LaunchError, LaunchTimeout, launch, read_captured
from wstp_jupyter.wxf import wl

REPO = Path(__file__).resolve().parents[2]
ECHO_PEER = str(Path(__file__).with_name("echo_peer.py"))
# Reports its working directory and link arguments on stderr, then fails before connecting.
DIE_LOUDLY = (
    "import os, sys; sys.stderr.write(os.getcwd() + ' ' + ' '.join(sys.argv[1:]));"
    " sys.exit(3)"
)


def test_exit_before_connecting_reports_status_and_piped_stderr(tmp_path: Path) -> None:
    with pytest.raises(LaunchError) as info:
        Link.launch(
            [sys.executable, "-c", DIE_LOUDLY], timeout=20, stderr=subprocess.PIPE, cwd=tmp_path
        )
    err = info.value
    assert isinstance(err, LinkError) and not isinstance(err, LinkTimeout)
    assert err.code == ErrorCode.WSELAUNCHFAILED and err.returncode == 3
    assert err.stderr.startswith(f"{tmp_path} -linkmode connect -linkprotocol TCPIP -linkname ")
    assert "code 3" in str(err) and err.stderr in str(err)


def test_stderr_captured_in_a_file_and_environment_passed() -> None:
    script = "import os, sys; sys.stderr.write(os.environ['PROBE']); sys.exit(4)"
    with tempfile.TemporaryFile() as captured, pytest.raises(LaunchError) as info:
        launch([sys.executable, "-c", script], env={"PROBE": "from env"}, stderr=captured)
    assert info.value.returncode == 4 and info.value.stderr == "from env"


def test_timeout_kills_the_process_and_is_a_link_timeout() -> None:
    script = "import sys, time; sys.stderr.write('waiting'); sys.stderr.flush(); time.sleep(60)"
    with pytest.raises(LaunchTimeout) as info:
        Link.launch([sys.executable, "-c", script], timeout=5, stderr=subprocess.PIPE)
    assert isinstance(info.value, LinkTimeout)
    assert info.value.returncode is not None and info.value.returncode < 0  # killed
    assert info.value.stderr == "waiting"


def test_a_program_that_cannot_start() -> None:
    with pytest.raises(LaunchError, match="cannot launch") as info:
        launch(["/nonexistent/wstp-peer"], timeout=5)
    assert info.value.returncode is None


def test_local_protocol_link_options_and_bytes_key() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    link = launch(
        [sys.executable, ECHO_PEER],
        protocol=Protocol.Local,
        key=b"launch-key",
        env=env,
        link_options={"max_frame_size": 1 << 20},
        timeout=30,
    )
    try:
        assert link.protocol is Protocol.Local and link.active
        link.put(wl.f("x" * 1000))
        assert link.get(timeout=10) == wl.f("x" * 1000)
        link.put("y" * (2 << 20))  # echoed back: over the limit given to this end
        with pytest.raises(RemoteProtocolError, match="frame"):
            link.get(timeout=10)
    finally:
        link.close()
        assert link.process is not None
        link.process.wait(timeout=10)


def test_read_captured_tolerates_closed_and_missing_files() -> None:
    assert read_captured(None) == ""
    with tempfile.TemporaryFile() as f:
        f.write(b"abc\xff")
        assert read_captured(f) == "abc\ufffd"
    assert read_captured(f) == ""
