"""Kernel options from argv and environment, and profile files."""

from __future__ import annotations

import pytest

from wstp_jupyter.kernel import KernelOptions, OptionsError, parse_options


def test_defaults_are_local() -> None:
    options, rest = parse_options(["-f", "conn.json"], {})
    assert options == KernelOptions()
    assert not options.uses_server
    assert rest == ["-f", "conn.json"]
    assert "local" in options.describe()


def test_argv_options_and_passthrough() -> None:
    argv = ["-f", "c.json", "--server", "31415@127.0.0.1", "--pool", "Big", "--kernel-id", "k1",
            "--profile", "work", "--IPKernelApp.log_level=10"]
    options, rest = parse_options(argv, {})
    assert options.server == "31415@127.0.0.1"
    assert (options.pool, options.kernel_id, options.profile) == ("Big", "k1", "work")
    assert options.uses_server
    assert rest == ["-f", "c.json", "--IPKernelApp.log_level=10"]
    text = options.describe()
    assert "31415@127.0.0.1" in text and "pool Big" in text and "kernel k1" in text


def test_environment_fills_missing_options() -> None:
    env = {"WSTP_JUPYTER_SERVER": "1@h", "WSTP_JUPYTER_POOL": "P", "WSTP_JUPYTER_DISCOVER": ""}
    options, _ = parse_options(["--pool", "Q"], env)
    assert options.server == "1@h"
    assert options.pool == "Q"  # argv wins over the environment
    assert options.discover == ""  # "any server found by DNS-SD"
    options, _ = parse_options(["--discover"], {})
    assert options.discover == "" and options.uses_server
    options, _ = parse_options(["--discover", "lab"], {})
    assert options.discover == "lab"


def test_bad_profile_name() -> None:
    with pytest.raises(OptionsError, match="invalid profile name"):
        parse_options(["--profile", "../etc/passwd"], {})
