"""The wstpserver command line and environment: precedence, validation, the startup lines."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from wstp_jupyter.server import ConfigError, resolve_options
from wstp_jupyter.server._logging import INFORMATION, TRACE, parse_log_level
from wstp_jupyter.server.cli import DEFAULT_PORT, is_loopback

from .helpers import ServerProcess


def test_defaults(tmp_path: Path) -> None:
    opts = resolve_options([], {"XDG_CONFIG_HOME": str(tmp_path)})
    assert opts.port == DEFAULT_PORT == 31415
    assert opts.interface == "127.0.0.1"
    assert opts.advertise is None and opts.key is None and opts.log_file is None


def test_command_line_beats_environment_beats_default(tmp_path: Path) -> None:
    env = {"WSTPSERVER_PORT": "4000", "WSTPSERVER_INTERFACE": "::1",
           "XDG_CONFIG_HOME": str(tmp_path)}
    assert resolve_options([], env).port == 4000
    assert resolve_options([], env).interface == "::1"
    assert resolve_options(["--port", "5000", "-i", "127.0.0.1"], env).port == 5000
    assert resolve_options(["-i", "127.0.0.1"], env).interface == "127.0.0.1"


def test_advertise_and_disable(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert resolve_options(["--advertise"], env).advertise == ""
    assert resolve_options(["-a", "lab"], env).advertise == "lab"
    env["WSTPSERVER_DISABLE_ADVERTISING"] = "1"
    assert resolve_options(["-a", "lab"], env).advertise is None


def test_wide_interface_needs_a_key(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    with pytest.raises(ConfigError, match="authentication key is required"):
        resolve_options(["--interface", "0.0.0.0"], env)
    key = tmp_path / "key"
    key.write_text("s3cret\n")
    opts = resolve_options(["--interface", "0.0.0.0", "--key-file", str(key)], env)
    assert opts.key == b"s3cret"
    assert resolve_options(["-i", "0.0.0.0"], {**env, "WSTPSERVER_KEY": "k"}).key == b"k"
    assert is_loopback("localhost") and is_loopback("::1") and not is_loopback("0.0.0.0")


@pytest.mark.parametrize("port", ["-1", "70000", "http"])
def test_bad_port(tmp_path: Path, port: str) -> None:
    with pytest.raises(ConfigError, match="bad port"):
        resolve_options(["--port", port], {"XDG_CONFIG_HOME": str(tmp_path)})


def test_log_levels() -> None:
    assert parse_log_level("error") == parse_log_level("1") == INFORMATION
    assert parse_log_level("TRACE") == parse_log_level("3") == TRACE
    with pytest.raises(ConfigError, match="bad log level"):
        parse_log_level("loud")


def test_check_prints_resolved_settings(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wstp_jupyter.server", "--check", "-p", "1234"],
        check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path),
             "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert proc.returncode == 0, proc.stderr
    assert "port: 1234" in proc.stdout and "wstp_jupyter.engine" in proc.stdout


def test_refuses_wide_interface_without_key(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "wstp_jupyter.server", "-i", "0.0.0.0"],
                          check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert "authentication key is required" in proc.stderr


def test_startup_lines_and_log_file(tmp_path: Path) -> None:
    """A pool without warm kernels starts at once; the log says where and with which command."""
    log = tmp_path / "server.log"
    config = {"Pools": {"Lazy": {"MinimumKernelNumber": 0, "KernelPath": "/bin/false"}}}
    server = ServerProcess(config, tmp_path, "-l", "1")
    try:
        assert 'Using "/bin/false" as the kernel command of pool "Lazy"' in server.log
        assert f"Listening for new connections on port {server.port} and interface 127.0.0.1" \
            in server.log
        assert "WSTPServer: Logger (0, " in server.log and "): Information:" in server.log
    finally:
        assert server.stop() == 0
    assert "Shutting down" in server.log
    conf = tmp_path / "wstpserver.conf"  # written by ServerProcess above
    proc = subprocess.Popen([sys.executable, "-m", "wstp_jupyter.server", "-p", "0",
                             "-c", str(conf), "--log-file", str(log)],
                            stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while "Server ready" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "Listening for new connections" in log.read_text()
    assert "Listening" not in out  # everything went to the file
