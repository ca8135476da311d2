"""The Woxi engine over a real link: the main loop's promises, streaming, stop, Input[]."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from wstp_jupyter.engine import launch
from wstp_jupyter.link import LinkError, UrgentMessage
from wstp_jupyter.wxf import BigReal, Expr, Symbol

from .helpers import Session, head, read_until_end

pytest.importorskip("woxi")


def start_woxi() -> Session:
    session = Session(launch(extra_args=("--engine", "woxi")))
    assert [head(p) for p in read_until_end(session.link)] == ["InputNamePacket"]
    return session


@pytest.fixture(scope="module")
def woxi() -> Iterator[Session]:
    session = start_woxi()
    yield session
    session.kernel.close()


@pytest.fixture
def fresh_woxi() -> Iterator[Session]:
    session = start_woxi()
    yield session
    session.kernel.close()


def texts(packets: list[Any], name: str) -> list[Any]:
    return [p.args[0] for p in packets if head(p) == name]


def test_in_out_names_percent_and_output_form(woxi: Session) -> None:
    first = woxi.enter("N[Pi]")
    n = int(texts(first, "OutputNamePacket")[0][4:-3])
    assert texts(first, "ReturnTextPacket") == ["3.14159"]
    assert texts(first, "InputNamePacket") == [f"In[{n + 1}]:= "]
    assert texts(woxi.enter("x^2 + 3 x"), "ReturnTextPacket") == ["3 x + x^2"]
    assert texts(woxi.enter("%"), "ReturnTextPacket") == ["3 x + x^2"]
    assert texts(woxi.enter(f"Out[{n}] + 1"), "ReturnTextPacket") == ["4.14159"]
    assert texts(woxi.enter("{1.5, \"s\", 1/3, a -> b}"), "ReturnTextPacket") == [
        "{1.5, s, 1/3, a -> b}"
    ]


def test_output_forms_name_the_prompt_and_out_keeps_the_value(woxi: Session) -> None:
    # As the Wolfram kernel's main loop: "Out[n]//TeXForm= " and the text of that form for a
    # result wrapped in one of $OutputForms; Out[n] holds the value without the wrapper, and
    # EvaluatePacket returns the wrapper itself.
    cases = {
        "Sin[x]^2 // TeXForm": ("TeXForm", "\\sin ^2(x)"),
        "FullForm[x^2 + 1/2]": ("FullForm", "Plus[Rational[1, 2], Power[x, 2]]"),
        'FullForm[{"ab", -2.}]': ("FullForm", 'List["ab", -2.]'),
        "InputForm[{N[Pi], \"s\"}]": ("InputForm", '{3.141592653589793, "s"}'),
        "MatrixForm[{{1, 2}, {3, 4}}]": ("MatrixForm", "1   2\n\n3   4"),
        "NumberForm[N[Pi], 10]": ("NumberForm", "3.141592654"),
        "CForm[x^2]": ("CForm", "Power(x,2)"),
        "OutputForm[N[E]]": ("OutputForm", "2.71828"),
    }
    for code, (form, text) in cases.items():
        packets = woxi.enter(code)
        name = texts(packets, "OutputNamePacket")[0]
        assert name.endswith(f"]//{form}= "), (code, name)
        assert texts(packets, "ReturnTextPacket") == [text], code
        n = int(name[4:name.index("]")])
        assert texts(woxi.enter(f"Head[Out[{n}]] === {form}"), "ReturnTextPacket") == ["False"]
    assert texts(woxi.enter("% // InputForm"), "ReturnTextPacket") == ["False"]
    value = woxi.evaluate(Expr(Symbol("TeXForm"), Symbol("x")))[-1].args[0]
    assert value == Expr(Symbol("TeXForm"), Symbol("Global`x"))
    # A wrapper Woxi leaves unevaluated is an ordinary result, with no form in the prompt.
    packets = woxi.enter("TeXForm[x, y]")
    assert texts(packets, "OutputNamePacket")[0].endswith("]= ")
    assert texts(packets, "ReturnTextPacket") == ["TeXForm[x, y]"]


def test_definition_prints_the_definitions(woxi: Session) -> None:
    # Woxi's own text of them (it writes a product as 2*x where Wolfram writes 2 x).
    woxi.enter("defd[x_] := x + 1; defd[0] = 5;")
    assert texts(woxi.enter("Definition[defd]"), "ReturnTextPacket") == [
        "defd[0] = 5\n \ndefd[x_] := x + 1"]


def test_one_line_per_top_level_expression(woxi: Session) -> None:
    packets = woxi.enter("a = 1\nb = 2 +\n  3\na + b")
    assert texts(packets, "ReturnTextPacket") == ["1", "5", "6"]
    assert len(texts(packets, "OutputNamePacket")) == 3
    assert texts(woxi.enter("c = 7;"), "ReturnTextPacket") == []


def test_print_and_messages_in_order(woxi: Session) -> None:
    packets = woxi.enter("Print[1]; 1/0; Print[2]; 3")
    kinds = [head(p) for p in packets]
    assert kinds == [
        "TextPacket", "MessagePacket", "TextPacket", "TextPacket",
        "OutputNamePacket", "ReturnTextPacket", "InputNamePacket",
    ]
    assert packets[0].args[0] == "1\n"
    assert packets[1].args == (Symbol("Power"), "infy")
    assert "Power::infy" in packets[2].args[0]
    assert packets[3].args[0] == "2\n"


def test_print_streams_while_the_input_runs(woxi: Session) -> None:
    woxi.link.put(Expr(Symbol("EnterTextPacket"), 'Print["early"]; Pause[3]; 1'))
    first = woxi.link.get(timeout=30)
    assert head(first) == "TextPacket" and first.args[0] == "early\n"
    # The result has not come yet: the Print arrived while Pause was running.
    assert not woxi.link.ready(0)
    rest = read_until_end(woxi.link)
    assert texts(rest, "ReturnTextPacket") == ["1"]


def test_syntax_errors(woxi: Session) -> None:
    packets = woxi.enter("f[")
    assert [head(p) for p in packets] == [
        "MessagePacket", "TextPacket", "SyntaxPacket", "InputNamePacket"
    ]
    assert packets[0].args == (Symbol("Syntax"), "sntxi")
    packets = woxi.enter("1 +* 2\nPrint[\"not run\"]")
    assert head(packets[2]) == "SyntaxPacket"
    assert not [p for p in packets if head(p) == "TextPacket" and p.args[0] == "not run\n"]


def test_evaluate_packet_returns_exact_expressions(woxi: Session) -> None:
    assert woxi.evaluate(Expr(Symbol("Plus"), 1, 2))[-1].args[0] == 3
    value = woxi.evaluate(Expr(Symbol("N"), Symbol("Pi")))[-1].args[0]
    assert value == pytest.approx(3.141592653589793)
    big = woxi.evaluate(Expr(Symbol("N"), Symbol("E"), 30))[-1].args[0]
    assert isinstance(big, BigReal) and big.text.startswith("2.71828182845904523536028747135")
    assert woxi.evaluate(Symbol("$Aborted"))[-1].args[0] == Symbol("$Aborted")


def test_abort_stops_within_a_second_and_keeps_definitions(fresh_woxi: Session) -> None:
    s = fresh_woxi
    s.enter("keep = 42;")
    s.link.put(Expr(Symbol("EnterTextPacket"), 'Print["started"]; Do[i^2, {i, 10^10}]'))
    first = s.link.get(timeout=30)
    assert first.args[0] == "started\n"
    s.link.put_message(UrgentMessage.ABORT)
    packets = read_until_end(s.link)
    assert texts(packets, "ReturnTextPacket") == ["$Aborted"]
    messages = [p.args for p in packets if head(p) == "MessagePacket"]
    assert (Symbol("WSTPJupyter"), "woxiabort") in messages
    # How fast (the 1 s goal) is measured in benchmarks/bench_engine.py.
    assert texts(s.enter("keep + 1"), "ReturnTextPacket") == ["43"]


def test_interrupt_menu_pauses_and_continues(fresh_woxi: Session) -> None:
    s = fresh_woxi
    s.link.put(Expr(Symbol("EnterTextPacket"), 'Print["go"]; Pause[1]; Print["done"]; 7'))
    assert s.link.get(timeout=30).args[0] == "go\n"
    s.link.put_message(UrgentMessage.INTERRUPT)
    menu = read_until_end(s.link)
    assert head(menu[-1]) == "MenuPacket"
    s.link.put(Expr(Symbol("EnterTextPacket"), "c"))
    packets = read_until_end(s.link)
    assert texts(packets, "ReturnTextPacket") == ["7"]


def test_input_and_input_string_ask_the_front_end(woxi: Session) -> None:
    woxi.link.put(Expr(Symbol("EnterTextPacket"), 'InputString["name? "]'))
    packets = read_until_end(woxi.link)
    assert head(packets[-1]) == "InputStringPacket" and packets[-1].args[0] == "name? "
    woxi.link.put(Expr(Symbol("TextPacket"), "Ada"))
    assert texts(read_until_end(woxi.link), "ReturnTextPacket") == ["Ada"]
    woxi.link.put(Expr(Symbol("EnterTextPacket"), 'Input["n? "] + 1'))
    packets = read_until_end(woxi.link)
    assert head(packets[-1]) == "InputPacket"
    woxi.link.put(Expr(Symbol("TextPacket"), "41"))
    assert texts(read_until_end(woxi.link), "ReturnTextPacket") == ["42"]


def test_helpers_complete_inspect_is_complete(woxi: Session) -> None:
    woxi.enter("myFunction[x_] := x^2")
    names = woxi.evaluate(Expr(Symbol("WSTPJupyter`Complete"), "Plo"))[-1].args[0]
    assert "Plot" in names
    mine = woxi.evaluate(Expr(Symbol("WSTPJupyter`Complete"), "myFun"))[-1].args[0]
    assert mine == ["myFunction"]
    usage = woxi.evaluate(Expr(Symbol("WSTPJupyter`Inspect"), "Sin"))[-1].args[0]
    assert "sine" in usage and "Listable" in usage
    definition = woxi.evaluate(Expr(Symbol("WSTPJupyter`Inspect"), "myFunction"))[-1].args[0]
    assert definition == "Global`myFunction\n\nmyFunction[x_] := x^2"
    woxi.enter('myFunction::usage = "myFunction[x] squares."; myValue = 3')
    definition = woxi.evaluate(Expr(Symbol("WSTPJupyter`Inspect"), "myFunction"))[-1].args[0]
    assert definition == "myFunction[x] squares.\n\nmyFunction[x_] := x^2"
    value = woxi.evaluate(Expr(Symbol("WSTPJupyter`Inspect"), "myValue"))[-1].args[0]
    assert value == "Global`myValue\n\nmyValue = 3"
    named = woxi.evaluate(Expr(Symbol("WSTPJupyter`Complete"), "\\[Alp"))[-1].args[0]
    assert named == ["\\[Alpha]"]
    # Only the named characters Woxi reads as one character (it keeps others as text).
    every = woxi.evaluate(Expr(Symbol("WSTPJupyter`Complete"), "\\["))[-1].args[0]
    assert "\\[Infinity]" in every and len(every) > 100
    lengths = woxi.evaluate(Expr(Symbol("ToExpression"),
                                 "StringLength /@ {" + ", ".join(f'"{n}"' for n in every) + "}"))
    assert set(lengths[-1].args[0]) == {1}
    for code, verdict in (("f[1]", "complete"), ("f[", "incomplete"), ("1 +", "incomplete")):
        answer = woxi.evaluate(Expr(Symbol("WSTPJupyter`IsComplete"), code))[-1].args[0]
        assert answer == verdict


def test_input_answer_with_bad_syntax_is_a_syntax_message(woxi: Session) -> None:
    woxi.link.put(Expr(Symbol("EnterTextPacket"), "Input[]"))
    assert head(read_until_end(woxi.link)[-1]) == "InputPacket"
    woxi.link.put(Expr(Symbol("TextPacket"), "1 +* 2"))
    packets = read_until_end(woxi.link)
    messages = [p.args for p in packets if head(p) == "MessagePacket"]
    assert [m[0] for m in messages] == [Symbol("Syntax")]  # not ToExpression::sntxi
    assert texts(packets, "ReturnTextPacket") == ["$Failed"]


def test_abort_while_input_waits_keeps_the_session(fresh_woxi: Session) -> None:
    # The front end aborts an Input[] it cannot answer (Jupyter without stdin): the worker
    # computes nothing while it waits, so it is told to abort rather than replaced; what the
    # input did before Input[] stays, as under Mathics3.
    s = fresh_woxi
    s.link.put(Expr(Symbol("EnterTextPacket"), 'kept = 7; Input["q? "]; kept = 8'))
    assert head(read_until_end(s.link)[-1]) == "InputPacket"
    s.link.put_message(UrgentMessage.ABORT)
    packets = read_until_end(s.link)
    assert texts(packets, "ReturnTextPacket") == ["$Aborted"]
    assert not [p for p in packets if head(p) == "MessagePacket"]  # no "woxiabort"
    assert texts(s.enter("kept"), "ReturnTextPacket") == ["7"]
    s.link.put(Expr(Symbol("EnterTextPacket"), 'Input["again? "] + 1'))
    assert head(read_until_end(s.link)[-1]) == "InputPacket"
    s.link.put(Expr(Symbol("TextPacket"), "41"))
    assert texts(read_until_end(s.link), "ReturnTextPacket") == ["42"]


def test_inspect_while_the_worker_is_busy_says_so(fresh_woxi: Session) -> None:
    s = fresh_woxi
    s.enter("busyValue = 1")
    _, preemptive = s.kernel.open_parallel_links()
    s.link.put(Expr(Symbol("EnterTextPacket"), 'Input["wait? "]'))  # busy until answered
    assert head(read_until_end(s.link)[-1]) == "InputPacket"
    preemptive.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol("WSTPJupyter`Inspect"),
                                                       "busyValue")))
    answer = preemptive.get(timeout=30).args[0]
    assert "Woxi is evaluating" in answer
    s.link.put(Expr(Symbol("TextPacket"), "2"))
    assert texts(read_until_end(s.link), "ReturnTextPacket") == ["2"]
    preemptive.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol("WSTPJupyter`Inspect"),
                                                       "busyValue")))
    assert preemptive.get(timeout=30).args[0] == "Global`busyValue\n\nbusyValue = 1"


def test_graphics_become_svg_and_png(woxi: Session) -> None:
    request = Expr(Symbol("WSTPJupyter`MIMEBundle"), Expr(
        Symbol("Plot"), Expr(Symbol("Sin"), Symbol("x")), [Symbol("x"), 0, 1]
    ))
    bundle = woxi.evaluate(request)[-1].args[0].args[0]
    assert bundle["text/plain"] == "-Graphics-"
    assert bundle["image/svg+xml"].lstrip().startswith("<svg")
    assert bundle["image/png"][:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("code", "status"), [("Quit[]", 0), ("Exit[3]", 3)])
def test_quit_ends_the_kernel(fresh_woxi: Session, code: str, status: int) -> None:
    # Exit[n] ends the kernel process with status n (as with Mathics3), not as a crash of Woxi.
    fresh_woxi.link.put(Expr(Symbol("EnterTextPacket"), code))
    with pytest.raises(LinkError):  # the kernel closes the link: nothing more comes
        while True:
            fresh_woxi.link.get(timeout=60)
    assert fresh_woxi.kernel.process.wait(timeout=60) == status


def test_missing_woxi_is_one_line_naming_the_extra() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['woxi'] = None\n"
        "from wstp_jupyter.engine._cli import main\n"
        "main(['-wstp', '--engine', 'woxi', '-linkmode', 'connect', '-linkname', '1@127.0.0.1'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'wstp-jupyter[woxi]'" in lines[0]
    assert "Traceback" not in done.stderr


def test_unknown_engine_is_a_usage_error() -> None:
    from wstp_jupyter.engine._cli import parse_args
    from wstp_jupyter.engine._errors import UsageError

    assert parse_args(["--engine", "woxi", "-linkname", "1@x"]).backend == "woxi"
    assert parse_args(["-linkname", "1@x"]).backend == "mathics3"
    with pytest.raises(UsageError, match="mathics3, woxi"):
        parse_args(["--engine", "mathematica", "-linkname", "1@x"])


def _descendants(pid: int) -> set[int]:
    """Processes below ``pid`` (children, their children...), read from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_no_worker_outlives_a_killed_engine() -> None:
    """The worker and its standby copy (forked after each input) end with the engine, even when
    it is killed outright."""
    s = start_woxi()
    try:
        s.enter("x = 1;")  # an input: the worker forks its standby copy
        engine = s.kernel.process.pid
        workers: set[int] = set()
        deadline = time.monotonic() + 60
        while len(workers) < 2:  # the worker and its standby
            assert time.monotonic() < deadline, "no standby copy appeared"
            workers = _descendants(engine)
            time.sleep(0.05)
        s.kernel.process.kill()
        s.kernel.process.wait(timeout=30)
        deadline = time.monotonic() + 60
        while any(_alive(pid) for pid in workers):
            assert time.monotonic() < deadline, [p for p in workers if _alive(p)]
            time.sleep(0.05)
    finally:
        s.kernel.close()
