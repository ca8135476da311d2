"""Edges of the Jupyter kernel: user_expressions that fail, services right at start-up, Quit[]."""

from __future__ import annotations

from jupyter_client.blocking.client import BlockingKernelClient

from tests.kernel.conftest import execute, shell_request, start_kernel, stop_kernel


def test_user_expressions_report_failures(kc: BlockingKernelClient) -> None:
    run = execute(kc, "ueValue = 6", user_expressions={
        "good": "ueValue * 7",
        "syntax": "1 +* 2",
        "message": "1/0",
    })
    assert run.status == "ok", run.reply
    found = run.reply["content"]["user_expressions"]
    assert found["good"]["status"] == "ok"
    assert found["good"]["data"]["text/plain"] == "42"
    for key in ("syntax", "message"):
        bad = found[key]
        assert bad["status"] == "error", bad
        assert bad["ename"] and bad["evalue"] and isinstance(bad["traceback"], list)
        assert "data" not in bad
    assert "::" in found["syntax"]["ename"]
    assert found["message"]["ename"] == "Power::infy"
    # A failing expression does not disturb the session.
    assert execute(kc, "ueValue").plain() == ["6"]


def test_services_answer_right_after_start() -> None:
    km, kc = start_kernel()
    try:
        complete = shell_request(kc, kc.complete("Pl", 2), timeout=120)["content"]
        assert "Plot" in complete["matches"], complete
        inspect = shell_request(kc, kc.inspect("Plot", 4), timeout=120)["content"]
        assert inspect["found"] is True and "Plot" in inspect["data"]["text/plain"]
    finally:
        stop_kernel(km, kc)


def test_quit_ends_the_session_and_the_next_cell_starts_afresh() -> None:
    km, kc = start_kernel()
    try:
        assert execute(kc, "quitValue = 1", timeout=120).status == "ok"
        assert execute(kc, "2").reply["content"]["execution_count"] == 2
        for code in ("Quit[]", "Exit[]", "Exit[3]", "Quit[2]"):
            quit_run = execute(kc, code)
            assert quit_run.status == "ok", quit_run.reply
            assert not quit_run.of_type("error")
            note = quit_run.stream("stderr")
            assert "quit" in note.lower()
            code_n = code[5:-1] or "0"
            assert (f"exit code {code_n}" in note) == (code_n != "0"), note
            # The next prompt (the reply's count + 1) is In[1] of the fresh kernel.
            assert quit_run.reply["content"]["execution_count"] == 0
            fresh = execute(kc, "quitValue", timeout=120)
            assert fresh.status == "ok", fresh.reply
            assert fresh.plain() == ["quitValue"]  # the definition went with the old kernel
            assert fresh.reply["content"]["execution_count"] == 1  # In[1] again
    finally:
        stop_kernel(km, kc)


def test_history_entries_are_unique_and_a_new_kernel_is_a_new_session() -> None:
    km, kc = start_kernel()
    try:
        assert execute(kc, "1 + 1", timeout=120).status == "ok"
        for code in ("f[x", "]", 'Print["hi"]; 1/0', "h1 = 1\nh2 = 2", "Quit[]", "3 + 3"):
            execute(kc, code)
        tail = shell_request(kc, kc.history(hist_access_type="tail", n=20, output=False,
                                            raw=True))["content"]["history"]
        assert [tuple(h) for h in tail] == [
            (1, 1, "1 + 1"),
            (1, 2, 'Print["hi"]; 1/0'),  # the syntax errors used no In[n]: no entries
            (1, 3, "h1 = 1\nh2 = 2"),  # In[3] and In[4]
            (1, 5, "Quit[]"),
            (2, 1, "3 + 3"),  # the fresh kernel process: session 2, from line 1
        ]
        current = shell_request(kc, kc.history(hist_access_type="range", session=0, start=1,
                                               stop=5, output=True))["content"]["history"]
        assert current == [[2, 1, ["3 + 3", "6"]]]
        before = shell_request(kc, kc.history(hist_access_type="range", session=-1, start=1,
                                              stop=3, output=False))["content"]["history"]
        assert before == [[1, 1, "1 + 1"], [1, 2, 'Print["hi"]; 1/0']]
    finally:
        stop_kernel(km, kc)
