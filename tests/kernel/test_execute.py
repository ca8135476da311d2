"""Execution through jupyter_client on one warm kernel: results, counts, streams, errors, stdin."""

from __future__ import annotations

import base64

from jupyter_client.blocking.client import BlockingKernelClient

from tests.kernel.conftest import Execution, execute, shell_request


def test_result_and_execution_count_follow_in_out(ekc: BlockingKernelClient) -> None:
    kc = ekc
    first = execute(kc, "1 + 1")
    assert first.status == "ok"
    assert first.plain() == ["2"]
    n = first.reply["content"]["execution_count"]
    assert first.results[0]["execution_count"] == n
    second = execute(kc, "$Line")
    assert second.reply["content"]["execution_count"] == n + 1
    # $Line is the kernel's own In number: the two counters are the same thing.
    assert second.plain() == [str(n + 1)]
    third = execute(kc, f"Out[{n}] + 40")
    assert third.plain() == ["42"]


def test_print_streams_while_the_cell_runs(ekc: BlockingKernelClient) -> None:
    kc = ekc
    run = execute(kc, 'Print["first"]; Pause[1]; Print["second"]; 7')
    assert run.status == "ok"
    streams = run.of_type("stream")
    assert [m["content"]["text"] for m in streams] == ["first\n", "second\n"]
    first_at = run.arrival[run.messages.index(streams[0])]
    second_at = run.arrival[run.messages.index(streams[1])]
    # "first" was published before the Pause ended, not batched with the result.
    assert second_at - first_at > 0.3
    assert run.plain() == ["7"]


def test_messages_go_to_stderr_and_do_not_fail(kc: BlockingKernelClient) -> None:
    run = execute(kc, "1/0")
    assert run.status == "ok"
    assert "Power::infy: Infinite expression 1/0 encountered." in run.stream("stderr")
    assert run.plain() == ["ComplexInfinity"]


def test_several_outputs_and_semicolon(ekc: BlockingKernelClient) -> None:
    kc = ekc
    run = execute(kc, "a = 6 * 7\na + 1")
    assert run.plain() == ["42", "43"]
    counts = [r["execution_count"] for r in run.results]
    assert counts[1] == counts[0] + 1
    quiet = execute(kc, "b = a^2;")
    assert quiet.status == "ok" and quiet.results == []
    assert execute(kc, "b").plain() == ["1764"]


def test_syntax_error_is_an_error_reply(ekc: BlockingKernelClient) -> None:
    kc = ekc
    run = execute(kc, "1 + + * 2")
    assert run.status == "error"
    content = run.reply["content"]
    assert content["ename"] == "SyntaxError"
    assert "Syntax" in content["evalue"]
    errors = run.of_type("error")
    assert len(errors) == 1 and errors[0]["content"]["ename"] == "SyntaxError"
    assert execute(kc, "2 + 2").plain() == ["4"]


def test_abort_is_an_error_reply(ekc: BlockingKernelClient) -> None:
    kc = ekc
    run = execute(kc, 'Print["before"]; Abort[]; Print["after"]')
    assert run.status == "error"
    assert run.reply["content"]["ename"] == "Aborted"
    assert run.stream("stdout") == "before\n"


def test_rich_results(kc: BlockingKernelClient) -> None:
    tex = execute(kc, "Sqrt[x]/2")
    data = tex.results[0]["data"]
    assert "text/latex" in data and "sqrt" in data["text/latex"]
    plot = execute(kc, "Plot[Sin[t], {t, 0, 3}]", timeout=60)
    data = plot.results[0]["data"]
    assert data["image/svg+xml"].lstrip().startswith(("<svg", "<?xml"))
    assert data["text/plain"] == "-Graphics-"
    png = base64.b64decode(data["image/png"])
    assert png.startswith(b"\x89PNG")
    assert plot.results[0]["metadata"]["image/png"]["width"] > 0


def test_display_data(kc: BlockingKernelClient) -> None:
    run = execute(kc, "WSTPJupyter`Display[x^2]; 5")
    displays = run.of_type("display_data")
    assert len(displays) == 1
    assert "x" in displays[0]["content"]["data"]["text/plain"]
    assert run.plain() == ["5"]


def _shown(run: Execution) -> list[str]:
    """The cell's output messages in arrival order, as short labels."""
    labels = []
    for msg in run.messages:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            labels.append(f"{content['name']}:{content['text'].strip()}")
        elif kind == "clear_output":
            labels.append(f"clear:{content['wait']}")
        elif kind in ("display_data", "execute_result"):
            labels.append(f"{kind}:{content['data']['text/plain']}")
        else:
            labels.append(kind)
    return labels


def test_displays_and_clear_output_keep_their_place_among_prints(
    kc: BlockingKernelClient,
) -> None:
    # Print, displays and clear_output travel as packets on the main link, in the order the
    # evaluation made them: the kernel publishes them in that order, every time.
    for _ in range(3):
        run = execute(kc, "Print[1]; WSTPJupyter`ClearOutput[]; Print[2]")
        assert _shown(run) == ["stdout:1", "clear:False", "stdout:2"]
        run = execute(kc, "Print[1]; WSTPJupyter`Display[y^3]; Print[2]; "
                          "WSTPJupyter`ClearOutput[True]; 4")
        assert _shown(run) == ["stdout:1", "display_data:y^3", "stdout:2", "clear:True",
                               "execute_result:4"]
    assert execute(kc, "WSTPJupyter`ClearOutput[]").plain() == []


def test_store_history_false_does_not_advance_the_execution_count(
    kc: BlockingKernelClient,
) -> None:
    # Jupyter's rule: only store_history=True requests advance execution_count. Here such a
    # request is evaluated outside the main loop, so $Line and In/Out stay as they were.
    before = execute(kc, "1").reply["content"]["execution_count"]
    run = execute(kc, 'Print["p"]; WSTPJupyter`Display[z]; 6 * 7', store_history=False)
    assert run.status == "ok", run.reply
    assert run.reply["content"]["execution_count"] == before
    assert _shown(run) == ["stdout:p", "display_data:z", "execute_result:42"]
    quiet = execute(kc, "unstored = 5;", store_history=False)
    assert quiet.status == "ok" and quiet.results == []
    assert quiet.reply["content"]["execution_count"] == before
    after = execute(kc, "{$Line, unstored}")
    assert after.reply["content"]["execution_count"] == before + 1
    assert after.plain() == [f"{{{before + 1}, 5}}"]


def test_input_string_and_input_over_stdin(ekc: BlockingKernelClient) -> None:
    kc = ekc
    run = execute(kc, 'StringJoin["hi ", InputString["name? "]]', allow_stdin=True,
                  stdin_answers=["Ada"])
    assert run.status == "ok", run.reply
    assert run.plain() == ["hi Ada"]
    run = execute(kc, 'Input["n? "] + 1', allow_stdin=True, stdin_answers=["6*7"])
    assert run.plain() == ["43"]
    # An answer that does not parse: a Syntax:: message (as for a cell), and $Failed.
    run = execute(kc, "Input[]", allow_stdin=True, stdin_answers=["1 +* 2"])
    assert run.stream("stderr").startswith("Syntax::sntx"), run.stream("stderr")
    assert run.plain() == ["$Failed"]


def test_input_without_stdin_fails_clearly(ekc: BlockingKernelClient) -> None:
    kc = ekc
    run = execute(kc, 'InputString["name? "]', allow_stdin=False, timeout=30)  # no hang
    assert run.status == "error"
    assert run.reply["content"]["ename"] == "StdinNotImplementedError"
    assert "allow_stdin" in run.reply["content"]["evalue"]
    assert execute(kc, "3 + 3").plain() == ["6"]
    # What the cell did before Input[] stays; nothing speaks of an interrupt.
    run = execute(kc, 'beforeInput = 5; Input["n? "]', allow_stdin=False, timeout=30)
    assert run.reply["content"]["ename"] == "StdinNotImplementedError"
    assert run.stream("stderr") == ""
    assert execute(kc, "beforeInput").plain() == ["5"]


def test_silent_and_user_expressions(ekc: BlockingKernelClient) -> None:
    kc = ekc
    before = execute(kc, "$Line").reply["content"]["execution_count"]
    silent = execute(kc, "silentValue = 99", silent=True)
    assert silent.status == "ok" and silent.messages == []
    run = execute(kc, "silentValue + 1", user_expressions={"sq": "silentValue^2"})
    assert run.plain() == ["100"]
    assert run.reply["content"]["execution_count"] == before + 1
    sq = run.reply["content"]["user_expressions"]["sq"]
    assert sq["status"] == "ok" and sq["data"]["text/plain"] == "9801"


def test_empty_cell(ekc: BlockingKernelClient) -> None:
    kc = ekc
    run = execute(kc, "   \n")
    assert run.status == "ok" and run.messages == []


def test_aborted_as_a_value_is_a_result_and_stops_nothing(ekc: BlockingKernelClient) -> None:
    kc = ekc
    # TimeConstrained returns $Aborted when time runs out: a value, not an abort.
    timed = execute(kc, "TimeConstrained[Pause[3], 0.5]")
    assert timed.status == "ok", timed.reply
    assert timed.plain() == ["$Aborted"] and not timed.of_type("error")
    # A cell after one whose value is $Aborted runs ("Run All" goes on).
    literal = kc.execute("$Aborted")
    queued = kc.execute("ranAfterAborted = 1")
    assert shell_request(kc, literal)["content"]["status"] == "ok"
    assert shell_request(kc, queued)["content"]["status"] == "ok"
    lines = execute(kc, "abortedValue = $Aborted\nafterAborted = 2")
    assert lines.status == "ok", lines.reply
    assert lines.plain() == ["$Aborted", "2"]
    # A real abort still fails its cell and skips the queued ones.
    aborted = kc.execute('Abort[]; Print["not shown"]')
    skipped = kc.execute("skippedAfterAbort = 1")
    reply = shell_request(kc, aborted)["content"]
    assert reply["status"] == "error" and reply["ename"] == "Aborted"
    assert shell_request(kc, skipped)["content"]["status"] == "aborted"
    assert execute(kc, "{ranAfterAborted, skippedAfterAbort}").plain() == [
        "{1, skippedAfterAbort}"]


def test_silent_requests_report_errors_and_evaluate_user_expressions(
    ekc: BlockingKernelClient,
) -> None:
    kc = ekc
    assert execute(kc, "uv = 10;").status == "ok"
    line = execute(kc, "$Line").reply["content"]["execution_count"]
    for code, ename in (("1 +* 2", "SyntaxError"), ("f[x", "SyntaxError"), ("Abort[]", "Aborted")):
        run = execute(kc, code, silent=True)
        assert run.status == "error", (code, run.reply)
        assert run.reply["content"]["ename"] == ename
        assert run.messages == []  # silent: nothing on iopub, the error included
    ask = {"a": "uv + 1"}
    for code, silent in (("", False), ("  \n ", False), ("", True), ("uv = 20", True)):
        run = execute(kc, code, silent=silent, user_expressions=ask)
        assert run.status == "ok", run.reply
        found = run.reply["content"]["user_expressions"]["a"]
        assert found["status"] == "ok", found
    assert found["data"]["text/plain"] == "21"  # after the code: uv = 20 was evaluated first
    assert execute(kc, "$Line").reply["content"]["execution_count"] == line + 1


def test_store_history_false_fails_as_a_stored_cell_and_shows_every_line(
    ekc: BlockingKernelClient,
) -> None:
    kc = ekc
    count = execute(kc, "1").reply["content"]["execution_count"]
    syntax = execute(kc, "f[x", store_history=False)
    assert syntax.status == "error" and syntax.reply["content"]["ename"] == "SyntaxError"
    assert "sntx" in syntax.reply["content"]["evalue"]
    assert syntax.results == [] and len(syntax.of_type("error")) == 1
    aborted = execute(kc, 'Abort[]\nPrint["after"]', store_history=False)
    assert aborted.status == "error" and aborted.reply["content"]["ename"] == "Aborted"
    assert aborted.results == [] and aborted.stream("stdout") == ""
    lines = execute(kc, "unstoredQ = 1\nunstoredQ + 1\nTimeConstrained[Pause[3], 0.5]",
                    store_history=False)
    assert lines.status == "ok", lines.reply
    assert lines.plain() == ["1", "2", "$Aborted"]
    assert [r["execution_count"] for r in lines.results] == [count] * 3
    assert lines.reply["content"]["execution_count"] == count
    assert execute(kc, "$Line").plain() == [str(count + 1)]  # no In[n] was used
    # Each input is evaluated once (checking its syntax evaluates nothing).
    assert execute(kc, "evaluatedOnce = 0;").status == "ok"
    assert execute(kc, "evaluatedOnce++", store_history=False).plain() == ["0"]
    assert execute(kc, "evaluatedOnce++", silent=True).status == "ok"
    assert execute(kc, "evaluatedOnce").plain() == ["2"]


def test_reply_count_is_the_last_in_number_used(ekc: BlockingKernelClient) -> None:
    # A client's next prompt is the reply's count + 1: it must be the kernel's next In[n].
    kc = ekc
    n = execute(kc, "1 + 1").reply["content"]["execution_count"]
    for code in ("f[x", "]", "", "(* only a comment *)"):
        run = execute(kc, code)
        assert run.reply["content"]["execution_count"] == n, (code, run.reply)
    three = execute(kc, 'Print["hi"]; 1/0\ncountX = 3\ncountX + 1')
    assert [r["execution_count"] for r in three.results] == [n + 1, n + 2, n + 3]
    assert three.reply["content"]["execution_count"] == n + 3
    assert execute(kc, "$Line").plain() == [str(n + 4)]


def test_a_message_is_named_once(ekc: BlockingKernelClient) -> None:
    run = execute(ekc, "1/0")
    stderr = run.stream("stderr")
    assert stderr.count("Power::infy") == 1, stderr
    named = next(line for line in stderr.splitlines() if "Power::infy" in line)
    assert named.startswith("Power::infy: Infinite expression")
