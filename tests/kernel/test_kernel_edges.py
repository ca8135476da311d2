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
        for code in ("Quit[]", "Exit[]"):
            quit_run = execute(kc, code)
            assert quit_run.status == "ok", quit_run.reply
            assert not quit_run.of_type("error")
            assert "quit" in quit_run.stream("stderr").lower()
            fresh = execute(kc, "quitValue", timeout=120)
            assert fresh.status == "ok", fresh.reply
            assert fresh.plain() == ["quitValue"]  # the definition went with the old kernel
            assert fresh.reply["content"]["execution_count"] == 1  # In[1] again
    finally:
        stop_kernel(km, kc)
