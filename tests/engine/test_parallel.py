"""Parallel computing in the kernel process: local subkernels, the parallel functions, output of
subkernels, abort, and subkernels that die mid-computation.

One master kernel with two local subkernels serves the whole module (each subkernel is a
Mathics3 process: seconds to start). The tests run in file order: the last ones kill subkernels.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from wstp_jupyter.engine._subkernels import SpecError, Target, parse_url
from wstp_jupyter.wxf import Symbol, wl

from .helpers import Session, head, read_until_end, start_session


@pytest.fixture(scope="module")
def master() -> Iterator[Session]:
    session = start_session()
    yield session
    session.kernel.close()  # its subkernels see their links close and exit


def results(packets: list[Any]) -> list[str]:
    return [p.args[0] for p in packets if head(p) == "ReturnTextPacket"]


def enter(master: Session, code: str) -> list[Any]:
    """``EnterTextPacket[code]`` and its packets; generous: launching subkernels on a loaded
    machine takes tens of seconds."""
    master.link.put(wl.EnterTextPacket(code))
    return read_until_end(master.link, timeout=300)


def one(master: Session, code: str) -> str:
    (value,) = results(enter(master, code))
    return value


def texts(packets: list[Any]) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Print texts and ``(symbol, tag, text)`` of messages among ``packets``."""
    prints: list[str] = []
    messages: list[tuple[str, str, str]] = []
    pending: tuple[str, str] | None = None
    for p in packets:
        if head(p) == "MessagePacket":
            pending = (p.args[0].name, p.args[1])
        elif head(p) == "TextPacket":
            if pending is not None:
                messages.append((*pending, p.args[0]))
                pending = None
            else:
                prints.append(p.args[0])
    return prints, messages


def read_until_print(master: Session, text: str, seen: list[Any]) -> None:
    """Read the master's packets (kept in ``seen``) until a Print ``text`` arrives."""
    while True:
        packet = master.link.get(timeout=120)
        seen.append(packet)
        if head(packet) == "TextPacket" and packet.args[0] == text:
            return
        assert head(packet) != "InputNamePacket", seen


def finish(master: Session, seen: list[Any]) -> list[Any]:
    while head(seen[-1]) != "InputNamePacket":
        seen.append(master.link.get(timeout=120))
    return seen


def test_kernel_urls() -> None:
    assert parse_url("local?3") == (Target("local"), 3)
    assert parse_url("wstp://example.org") == (
        Target("wstp://example.org:31415", "example.org", 31415, None), None)
    assert parse_url("wstp://10.0.0.2:4000/Workers?2") == (
        Target("wstp://10.0.0.2:4000/Workers", "10.0.0.2", 4000, "Workers"), 2)
    for bad in ("ssh://host", "wstp://", "wstp://h:99999", "local?0", "wstp://h?x"):
        with pytest.raises(SpecError):
            parse_url(bad)


def test_first_use_launches_the_configured_kernels(master: Session) -> None:
    assert one(master, "{$KernelID, $KernelCount, $ConfiguredKernels}") == "{0, 0, Automatic}"
    # A bad configured specification is reported (and proves the value is read).
    packets = enter(master, '$ConfiguredKernels = {"ftp://x"}; ParallelEvaluate[1]')
    assert results(packets) == ["$Failed"]
    assert [m[:2] for m in texts(packets)[1]] == [("LaunchKernels", "spec"),
                                                   ("Parallel", "nokernel")]
    enter(master, '$ConfiguredKernels = {1, "local"};')
    # No LaunchKernels: the first parallel function launches them, as in Wolfram.
    assert one(master, "ParallelEvaluate[$KernelID]") == "{1, 2}"
    assert one(master, "Kernels[]") == '{KernelObject[1, "local"], KernelObject[2, "local"]}'
    assert one(master, "InputForm[Kernels[][[1]]]") == 'KernelObject[1, "local"]'
    assert one(master, "{$KernelCount, $KernelID}") == "{2, 0}"
    packets = enter(master, "LaunchKernels[]")
    assert results(packets) == ["$Failed"]
    assert texts(packets)[1][0][:2] == ("LaunchKernels", "nodef")


def test_parallel_functions_with_automatic_definitions(master: Session) -> None:
    enter(master, "f[x_] := x^2 + a; a = 10; g[x_Integer] /; x > 2 := -x; g[x_] := f[x];")
    expected = {
        "ParallelMap[f, Range[6]]": "{11, 14, 19, 26, 35, 46}",
        "ParallelMap[g, h[1, 2, 3, 4]]": "h[11, 14, -3, -4]",
        'ParallelMap[f, Range[5], Method -> "FinestGrained"]': "{11, 14, 19, 26, 35}",
        'ParallelMap[f, Range[5], Method -> "CoarsestGrained"]': "{11, 14, 19, 26, 35}",
        "ParallelTable[g[i], {i, 4}]": "{11, 14, -3, -4}",
        "ParallelTable[i + j, {i, 3}, {j, 2}]": "{{2, 3}, {3, 4}, {4, 5}}",
        "ParallelTable[i, {i, 10, 1, -3}]": "{10, 7, 4, 1}",
        "ParallelSum[f[i], {i, 100}]": str(sum(i * i + 10 for i in range(1, 101))),
        "ParallelProduct[i, {i, 20}]": "2432902008176640000",
        "ParallelArray[f, 3]": "{11, 14, 19}",
        "ParallelCombine[Total, {1, 2, 3, 4, 5}, Plus]": "15",
        "ParallelCombine[Map[f, #] &, {1, 2, 3}]": "{11, 14, 19}",
        "Parallelize[Table[f[i], {i, 3}]]": "{11, 14, 19}",
        "Parallelize[g /@ {1, 5}]": "{11, -5}",
        "Parallelize[Sum[i, {i, 10}]]": "55",
        "e = {ParallelSubmit[f[1]], ParallelSubmit[$KernelID > 0]}; WaitAll[e]": "{11, True}",
        "Table[ParallelSubmit[{k}, f[k]], {k, 3}] // WaitAll": "{11, 14, 19}",
        "{r, o, rest} = WaitNext[{ParallelSubmit[f[2]]}]; {r, Head[o], rest}":
            "{14, EvaluationObject, {}}",
        # A changed definition travels again.
        "a = 1000; ParallelMap[f, {1, 2}]": "{1001, 1004}",
    }
    for code, want in expected.items():
        assert one(master, code) == want, code
    # DistributeDefinitions names symbols; ParallelEvaluate sends only those (as Wolfram).
    assert one(master, "ParallelEvaluate[u]") == "{u, u}"
    assert one(master, "u = 7; w[x_] := x + u; DistributeDefinitions[w]") == "{w, 7}"
    assert one(master, "ParallelEvaluate[{u, w[1]}]") == "{{7, 8}, {7, 8}}"
    packets = enter(master, "Parallelize[1 + 1]")
    assert results(packets) == ["2"]
    assert texts(packets)[1][0][:2] == ("Parallelize", "nopar1")


def test_subkernel_print_and_messages_reach_the_master_marked(master: Session) -> None:
    packets = enter(master, 'ParallelEvaluate[Print["hello from ", $KernelID]; 1/0]')
    assert results(packets) == ["{ComplexInfinity, ComplexInfinity}"]
    prints, messages = texts(packets)
    assert sorted(prints) == ["(kernel 1) hello from 1\n", "(kernel 2) hello from 2\n"]
    assert sorted(messages) == [
        ("Power", "infy", f"(kernel {n}) Power::infy: Infinite expression 1/0 encountered.")
        for n in (1, 2)
    ]


def test_abort_reaches_the_subkernels_and_leaves_them_usable(master: Session) -> None:
    # The loop would run for hours: any answer at all means the subkernels were aborted.
    master.link.put(wl.EnterTextPacket(
        'ParallelEvaluate[Print["go"]; Do[Null, {10^9}]; 1]'))
    seen: list[Any] = []
    while sum(1 for p in seen if head(p) == "TextPacket") < 2:
        seen.append(master.link.get(timeout=120))
    master.kernel.abort()
    assert results(finish(master, seen)) == ["$Aborted"]
    assert one(master, "ParallelEvaluate[$KernelID]") == "{1, 2}"
    assert one(master, "ParallelMap[f, {1}]") == "{1001}"


def _pids(master: Session) -> dict[int, int]:
    value = one(master, "ParallelEvaluate[{$KernelID, $ProcessID}]")
    pairs = value.strip("{}").split("}, {")
    return {int(k): int(p) for k, p in (pair.split(", ") for pair in pairs)}


def test_a_dying_subkernel_hands_its_work_to_the_others(master: Session) -> None:
    pids = _pids(master)
    master.link.put(wl.EnterTextPacket(
        'ParallelMap[(Print["start ", #]; If[$KernelID == 2, Pause[30]]; #^2) &, Range[6], '
        'Method -> "FinestGrained"]'))
    seen: list[Any] = []
    while not any(head(p) == "TextPacket" and p.args[0].startswith("(kernel 2) start")
                  for p in seen):
        seen.append(master.link.get(timeout=120))
        assert head(seen[-1]) != "InputNamePacket", seen
    os.kill(pids[2], signal.SIGKILL)
    packets = finish(master, seen)
    assert results(packets) == ["{1, 4, 9, 16, 25, 36}"]
    tags = [(s, t) for s, t, _ in texts(packets)[1]]
    assert tags == [("KernelObject", "rdead"), ("KernelObject", "req")]
    assert 'KernelObject[2, "local"]' in texts(packets)[1][0][2]
    assert one(master, "Kernels[]") == '{KernelObject[1, "local"]}'


def test_with_no_subkernel_left_the_computation_fails_clearly(master: Session) -> None:
    pids = _pids(master)
    master.link.put(wl.EnterTextPacket('ParallelMap[(Print["start"]; Pause[30]; #) &, {1, 2}]'))
    seen: list[Any] = []
    read_until_print(master, "(kernel 1) start\n", seen)
    os.kill(pids[1], signal.SIGKILL)
    packets = finish(master, seen)
    assert results(packets) == ["$Failed"]
    tags = [(s, t) for s, t, _ in texts(packets)[1]]
    assert tags == [("KernelObject", "rdead"), ("KernelObject", "req"), ("Parallel", "nokernel")]
    assert one(master, "{$KernelCount, Kernels[]}") == "{0, {}}"
    assert master.evaluate(Symbol("$KernelCount"))[-1] == wl.ReturnPacket(0)
