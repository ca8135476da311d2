"""Deep results in Jupyter: a cell whose result, Print output or user expression is thousands
of levels deep shows it (it used to end ``ok`` with no output at all), and what is too deep to
print whole is shown cut, with a message on stderr."""

from __future__ import annotations

from jupyter_client.blocking.client import BlockingKernelClient

from tests.kernel.conftest import execute


def nested(head: str, n: int) -> str:
    return f"{head}[" * n + "x" + "]" * n


def test_deep_results_print_and_the_cell_goes_on(ekc: BlockingKernelClient) -> None:
    run = execute(
        ekc,
        'Print[Nest[g, x, 1100]]; Nest[f, x, 1100]\ndeepJ = 3',
        user_expressions={"deep": "Nest[h, x, 1100]"},
    )
    assert run.status == "ok"
    assert run.stream("stdout").split() == [nested("g", 1100)]
    assert run.plain() == [nested("f", 1100), "3"]
    deep = run.reply["content"]["user_expressions"]["deep"]
    assert deep["status"] == "ok" and deep["data"]["text/plain"] == nested("h", 1100)
    assert execute(ekc, "deepJ + 1").plain() == ["4"]


def test_output_too_deep_is_cut_with_a_message(kc: BlockingKernelClient) -> None:
    run = execute(kc, "Nest[f, x, 20000]")
    assert run.status == "ok"
    assert "General::deepout" in run.stream("stderr")
    assert run.plain() == ["f[" * 100 + "<<1>>" + "]" * 100]
