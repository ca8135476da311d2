"""Configuration file: WSTPServer's JSON with # comments, precise errors, the search path."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wstp_jupyter.server import ConfigError, ServerError, load_config, resolve_config
from wstp_jupyter.server._config import (
    DEFAULT_MAXIMUM_KERNELS,
    embedded_kernel_command,
    find_config_file,
    user_config_path,
)
from wstp_jupyter.server._jsonc import parse

# Wolfram's sample file shape: comment lines, commented-out keys leaving trailing commas.
SAMPLE = """\
# WSTPServer configuration
{
    # "AllowStealingKernels": false,
    "EnableAutomaticKernelConnection": false,
    "SendInputNamePacketUponKernelConnection": false,
    "Pools": {
        "KernelPoolOne": {
            "Default": true,
            "InitializationCode": "x=2+2",
            "KernelOptions": "-noinit --flag 'two words'",
            "KeepAlive": true,
            "MinimumKernelNumber":1,
#           "ReservePreviouslyConnectedKernels": false
        },
#       "KernelPoolTwo": { "ParallelKernelDefault": true }
    }
}
"""


def write(tmp_path: Path, text: str, name: str = "wstpserver.conf") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_wolfram_sample_shape_loads(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, SAMPLE))
    assert cfg.enable_automatic_kernel_connection is False
    assert cfg.allow_stealing_kernels is False  # commented out: the default
    (pool,) = cfg.pools
    assert pool.name == "KernelPoolOne" and pool.default and pool.keep_alive
    assert pool.initialization_code == "x=2+2"
    assert pool.minimum_kernel_number == 1
    assert pool.maximum_kernel_number == DEFAULT_MAXIMUM_KERNELS
    # KernelPath absent: the embedded engine, KernelOptions appended (shell-split).
    assert pool.kernel_command == (*embedded_kernel_command(), "-noinit", "--flag", "two words")
    assert embedded_kernel_command() == (sys.executable, "-m", "wstp_jupyter.engine")


def test_default_pool_first_and_kernel_path(tmp_path: Path) -> None:
    init = write(tmp_path, "y = 1\n", "init.wl")
    cfg = load_config(write(tmp_path, f"""
        {{"AllowSilentKernelReplacement": true,
          "Pools": {{
            "A": {{"MinimumKernelNumber": 0, "MaximumKernelNumber": 2}},
            "B": {{"Default": true, "KernelPath": "/opt/k/WolframKernel",
                   "KernelOptions": ["-x", "y z"], "InitializationFile": "{init.name}",
                   "ReservePreviouslyConnectedKernels": true}}
          }}
        }}"""))
    assert [p.name for p in cfg.pools] == ["B", "A"]
    assert cfg.default_pool.name == "B"
    assert cfg.allow_silent_kernel_replacement
    b = cfg.pool("B")
    assert b is not None
    assert b.kernel_command == ("/opt/k/WolframKernel", "-x", "y z")
    assert b.initialization_file == init.resolve()  # relative to the configuration file
    assert b.reserve_previously_connected_kernels
    assert cfg.pool("A") is not None and cfg.pool("A").maximum_kernel_number == 2  # type: ignore[union-attr]


def test_first_pool_is_default_when_none_marked(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '{"Pools": {"P": {}, "Q": {}}}'))
    assert cfg.default_pool.name == "P"


@pytest.mark.parametrize(
    ("text", "line", "key", "fragment"),
    [
        ('{\n  "Pools": {\n    "A": {\n      "MinimumKernelNumber": "2"\n    }\n  }\n}',
         4, "Pools.A.MinimumKernelNumber", "expected a whole number"),
        ('{\n  "Pools": {\n    "A": {\n      "Colour": 1\n    }\n  }\n}',
         4, "Pools.A.Colour", "unknown pool key"),
        ('{\n  "Frobnicate": true\n}', 2, "Frobnicate", "unknown key"),
        ('{\n  "KeepAlive": true\n}', 2, "KeepAlive", "unknown key"),
        ('{\n  "AllowStealingKernels": 1\n}', 2, "AllowStealingKernels", "true or false"),
        ('{\n  "Pools": {"A": {\n    "MinimumKernelNumber": -1}}}', 3,
         "Pools.A.MinimumKernelNumber", "at least 0"),
        ('{\n  "Pools": {"A": {\n    "MaximumKernelNumber": 0}}}', 3,
         "Pools.A.MaximumKernelNumber", "at least 1"),
        ('{\n  "Pools": {"A": {"MaximumKernelNumber": 1,\n    "MinimumKernelNumber": 3}}}', 3,
         "Pools.A.MinimumKernelNumber", "larger than MaximumKernelNumber"),
        ('{"Pools": {\n "A": {"Default": true},\n "B": {\n  "Default": true}}}', 4,
         "Pools.B.Default", "more than one pool"),
        ('{\n "Pools": {\n  "A": {"KeepAlive": true},\n  "A": {}}}', 4, "Pools.A",
         "duplicate key (first on line 3)"),
        ('{\n "Pools": {}\n}', 2, "Pools", "at least one pool"),
        ('{\n "Pools": {"A": {\n  "InitializationFile": "no-such.wl"}}}', 3,
         "Pools.A.InitializationFile", "no such file"),
        ('{\n "Pools": {"A": {\n  "KernelPath": 3}}}', 3, "Pools.A.KernelPath", "a string"),
        ('{\n "Pools": {"A": {}}\n "X": 1}', 3, "Pools", "expected ',' or '}'"),
        ('{\n "Pools": {"A": {"Default": tru}}}', 2, "Pools.A.Default", "expected a JSON value"),
        ('{\n "Pools": {"A": {\n  "MinimumKernelNumber": 2.0}}}', 3,
         "Pools.A.MinimumKernelNumber", "expected a whole number, got float 2.0"),
        ('{\n "Pools": {"A": {\n  "MaximumKernelNumber": true}}}', 3,
         "Pools.A.MaximumKernelNumber", "expected a whole number, got bool True"),
        ('{\n "Pools": {"A": {\n  "KernelOptions": ["-x",\n   7]}}}', 4,
         "Pools.A.KernelOptions", "expected a string, got int 7"),
        ('{\n "Pools": {"A": {\n  "Engine": "wolfram"}}}', 3, "Pools.A.Engine",
         "must be one of 'mathics3', 'woxi', got str 'wolfram'"),
        ('{\n "Pools": {"A": {\n  "ParallelKernels": "yes"}}}', 3, "Pools.A.ParallelKernels",
         "expected true or false"),
        ('{\n "Pools": {"A": {\n  "KernelPath": "  "}}}', 3, "Pools.A.KernelPath",
         "must not be empty"),
        ('{\n "Pools": {\n  " ": {}}}', 3, "Pools", "a pool name must not be empty"),
        ('{\n "Pools": [1]}', 2, "Pools", "expected an object mapping pool names"),
        ("", 1, None, "empty"),
        ('[1, 2]', 1, None, "a JSON object at the top level"),
    ],
)
def test_errors_name_line_and_key(tmp_path: Path, text: str, line: int, key: str | None,
                                  fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert isinstance(err, ServerError) and isinstance(err, ValueError)
    assert err.line == line, str(err)
    if key is not None:
        assert err.key == key, str(err)
        assert repr(key) in str(err)
    assert fragment in str(err)
    assert str(path) in str(err) and f"line {line}" in str(err)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.conf")


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home_cfg = tmp_path / "xdg" / "WSTPServer" / "wstpserver.conf"
    home_cfg.parent.mkdir(parents=True)
    home_cfg.write_text('{"Pools": {"FromHome": {}}}')
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    if sys.platform.startswith("linux"):
        assert user_config_path(env) == home_cfg
        assert resolve_config(None, env, cwd).default_pool.name == "FromHome"
    (cwd / "wstpserver.conf").write_text('{"Pools": {"FromCwd": {}}}')
    assert resolve_config(None, env, cwd).default_pool.name == "FromCwd"
    env_file = write(tmp_path, '{"Pools": {"FromEnv": {}}}', "env.conf")
    env["WSTPSERVER_CONFIGURATION_FILE"] = str(env_file)
    assert resolve_config(None, env, cwd).default_pool.name == "FromEnv"
    opt_file = write(tmp_path, '{"Pools": {"FromOption": {}}}', "opt.conf")
    assert resolve_config(str(opt_file), env, cwd).default_pool.name == "FromOption"
    # An explicitly named file that does not exist is an error, not a silent fallback.
    assert find_config_file(str(tmp_path / "nope.conf"), env, cwd) == tmp_path / "nope.conf"
    with pytest.raises(ConfigError):
        resolve_config(str(tmp_path / "nope.conf"), env, cwd)


def test_builtin_default(tmp_path: Path) -> None:
    cfg = resolve_config(None, {"XDG_CONFIG_HOME": str(tmp_path)}, tmp_path)
    assert cfg.source is None
    (pool,) = cfg.pools
    assert pool.name == "Default" and pool.default and pool.minimum_kernel_number == 1
    assert not (cfg.allow_stealing_kernels or cfg.allow_silent_kernel_replacement
                or cfg.enable_automatic_kernel_connection
                or cfg.send_input_name_packet_upon_kernel_connection)


def test_server_refuses_to_start_on_invalid_file(tmp_path: Path) -> None:
    bad = write(tmp_path, '{\n  "Pools": {\n    "A": {"MinimumKernelNumber": true}\n  }\n}')
    proc = subprocess.run([sys.executable, "-m", "wstp_jupyter.server", "-p", "0", "-c", str(bad)],
                          check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "line 3" in proc.stderr and "Pools.A.MinimumKernelNumber" in proc.stderr
    assert "Listening" not in proc.stdout


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                               max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.dictionaries(st.text(max_size=6), _json, max_size=5),
       comments=st.lists(st.integers(min_value=0, max_value=200), max_size=5))
def test_reader_agrees_with_json(value: dict[str, object], comments: list[int]) -> None:
    lines = json.dumps(value, indent=1).split("\n")
    for at in sorted(comments, reverse=True):  # comment lines anywhere between lines
        lines.insert(min(at, len(lines)), "  # a comment, with \"quotes\" and { braces")
    assert parse("\n".join(lines)).plain() == value


def test_engine_and_parallel_keys(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, """
        {"Pools": {
            "Fast": {"Engine": "woxi", "ParallelKernels": true, "ParallelKernelDefault": true},
            "Slow": {"Engine": "mathics3"},
            "Plain": {}}}"""))
    fast, slow, plain = (cfg.pool(n) for n in ("Fast", "Slow", "Plain"))
    assert fast is not None and slow is not None and plain is not None
    assert (fast.engine, slow.engine, plain.engine) == ("woxi", "mathics3", "mathics3")
    assert fast.parallel_kernels and fast.parallel_kernel_default
    assert fast.kernel_command == (*embedded_kernel_command(), "-backend", "woxi")
    assert plain.kernel_command == embedded_kernel_command()


def test_the_schema_is_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    from wstp_jupyter.server._schema import SCHEMA

    Draft202012Validator.check_schema(SCHEMA)
