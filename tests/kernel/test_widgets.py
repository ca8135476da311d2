"""Manipulate, Animate, ListAnimate and Dynamic as Jupyter widgets, through jupyter_client.

A front end's view of the protocol: a cell's result opens widget comms (``comm_open`` with each
model's state), its ``execute_result`` carries the widget view next to the static data, and a
``comm_msg`` update of a control's value (what moving a slider sends) makes the kernel update
the Output model with the body evaluated for that value.
"""

from __future__ import annotations

from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient

from tests.kernel.conftest import Execution, execute, iopub_until
from tests.kernel.widget_client import (
    WIDGET_VIEW,
    Models,
    output_text,
    send_update,
    wait_update,
)

pytestmark = pytest.mark.timeout(300)


def run(kc: BlockingKernelClient, code: str) -> tuple[Execution, Models]:
    result = execute(kc, code, timeout=120)
    assert result.status == "ok", result.reply
    models = Models()
    for msg in result.messages:
        models.feed(msg)
    return result, models


def only(models: Models, name: str) -> str:
    found = models.of_model(name)
    assert len(found) == 1, (name, found)
    return found[0]


def shows(text: str) -> Any:
    return lambda state: text in output_text(state)


def test_slider_model_carries_range_step_and_initial_value(kc: BlockingKernelClient) -> None:
    result, models = run(kc, "Manipulate[n^2, {{n, 3}, 1, 10, 1}]")
    slider = models.states[only(models, "IntSliderModel")]
    assert (slider["min"], slider["max"], slider["step"], slider["value"]) == (1, 10, 1, 3)
    assert slider["description"] == "n"
    data = result.results[0]["data"]
    # The widget view, and the static initial state next to it for exports and consoles.
    assert data[WIDGET_VIEW]["model_id"] == only(models, "VBoxModel")
    assert data["text/plain"] == "9"
    assert "application/vnd.wstp-jupyter.interactive+json" not in data
    out = only(models, "OutputModel")
    assert output_text(models.states[out]) == "9"


def test_moving_the_slider_evaluates_the_body_with_the_new_value(kc: BlockingKernelClient) -> None:
    _, models = run(kc, "Manipulate[x^2, {x, 0, 1}]")
    slider = models.states[only(models, "FloatSliderModel")]
    assert (slider["min"], slider["max"], slider["value"]) == (0.0, 1.0, 0.0)
    out = only(models, "OutputModel")
    assert output_text(models.states[out]) == "0"  # an exact start, as in Wolfram's Manipulate
    send_update(kc, only(models, "FloatSliderModel"), {"value": 0.5})
    wait_update(kc, models, out, shows("0.25"))


def test_fast_moves_coalesce_to_the_latest_value(kc: BlockingKernelClient) -> None:
    _, models = run(kc, 'Manipulate[Pause[0.2]; "k=" <> ToString[k], {k, 1, 50, 1}]')
    slider = only(models, "IntSliderModel")
    out = only(models, "OutputModel")
    for value in range(2, 21):
        send_update(kc, slider, {"value": value})
    wait_update(kc, models, out, shows("k=20"))
    # The update running when the moves began, then one with the latest value: far fewer
    # evaluations than moves (each shows its own k).
    seen: list[str] = []
    for value in range(21, 26):
        send_update(kc, slider, {"value": value})
    final = wait_update(kc, models, out, shows("k=25"))
    seen.append(output_text(final))
    assert seen == ["k=25"]


def test_the_body_sees_definitions_made_by_later_cells(kc: BlockingKernelClient) -> None:
    run(kc, "scale = 10;")
    _, models = run(kc, "Manipulate[scale t, {t, 1, 3, 1}]")
    out = only(models, "OutputModel")
    assert output_text(models.states[out]) == "10"
    run(kc, "scale = 100;")
    send_update(kc, only(models, "IntSliderModel"), {"value": 2})
    wait_update(kc, models, out, shows("200"))


def test_messages_show_in_the_output_and_the_controls_stay_usable(
    kc: BlockingKernelClient,
) -> None:
    result, models = run(kc, 'Manipulate[Print["p=", p]; 1/p, {{p, 1}, 0, 2, 1}]')
    out = only(models, "OutputModel")
    # The initial state is rendered with the cell: what it prints goes to the cell's output.
    assert "p=1" in result.stream("stdout")
    assert output_text(models.states[out]) == "1"
    slider = only(models, "IntSliderModel")
    send_update(kc, slider, {"value": 0})
    state = wait_update(kc, models, out, shows("ComplexInfinity"))
    text = output_text(state)
    assert "p=0" in text and "Power::infy" in text
    assert [o["name"] for o in state["outputs"] if o["output_type"] == "stream"] == [
        "stdout", "stderr"]
    send_update(kc, slider, {"value": 2})
    state = wait_update(kc, models, out, shows("1/2"))
    assert "Power::infy" not in output_text(state)
    streams = [o for o in state["outputs"] if o["output_type"] == "stream"]
    assert streams == [{"output_type": "stream", "name": "stdout", "text": "p=2\n"}]


def test_choices_checkbox_labels_and_control_types(kc: BlockingKernelClient) -> None:
    _, models = run(kc, 'Manipulate[{c, b, s}, {{c, "y", "colour"}, {"x", "y", "z"}}, '
                        '{b, {True, False}}, {s, Range[8]}]')
    buttons = models.states[only(models, "ToggleButtonsModel")]
    assert buttons["_options_labels"] == ["x", "y", "z"] and buttons["index"] == 1
    assert buttons["description"] == "colour"
    checkbox = models.states[only(models, "CheckboxModel")]
    assert checkbox["value"] is True
    menu = models.states[only(models, "DropdownModel")]
    assert menu["_options_labels"] == [str(i) for i in range(1, 9)]
    out = only(models, "OutputModel")
    assert output_text(models.states[out]) == "{y, True, 1}"
    send_update(kc, only(models, "CheckboxModel"), {"value": False})
    wait_update(kc, models, out, shows("{y, False, 1}"))
    send_update(kc, only(models, "DropdownModel"), {"index": 6})
    wait_update(kc, models, out, shows("{y, False, 7}"))

    _, models = run(kc, "Manipulate[{u, v}, {u, 1, 3, 1, ControlType -> SetterBar}, "
                        "{{v, 2}, 0, 5}, ControlType -> InputField]")
    assert only(models, "ToggleButtonsModel")
    field = models.states[only(models, "TextModel")]
    assert field["value"] == "2"
    out = only(models, "OutputModel")
    send_update(kc, only(models, "TextModel"), {"value": "a + b"})
    wait_update(kc, models, out, shows("{1, a + b}"))


def test_a_malformed_specification_is_reported_and_shown_as_text(
    kc: BlockingKernelClient,
) -> None:
    result, models = run(kc, "Manipulate[x, {1, 2}]")
    assert not models.states
    assert "Manipulate::vsform" in result.stream("stderr")
    assert result.plain() == ["Manipulate[x, {1, 2}]"]


def test_animate_and_list_animate_have_a_play_control(kc: BlockingKernelClient) -> None:
    _, models = run(kc, "Animate[k + 1, {k, 0, 4, 1}]")
    play = models.states[only(models, "PlayModel")]
    assert (play["min"], play["max"], play["value"]) == (0, 4, 0)
    slider = only(models, "SelectionSliderModel")
    assert models.states[slider]["_options_labels"] == ["0", "1", "2", "3", "4"]
    link = models.states[only(models, "LinkModel")]  # play and slider move together
    assert link["source"][1] == "value" and link["target"][1] == "index"
    out = only(models, "OutputModel")
    send_update(kc, slider, {"index": 3})
    wait_update(kc, models, out, shows("4"))

    _, models = run(kc, 'ListAnimate[{"a", "b", "c"}]')
    out = only(models, "OutputModel")
    assert output_text(models.states[out]) == "a"
    send_update(kc, only(models, "SelectionSliderModel"), {"index": 2})
    wait_update(kc, models, out, shows("c"))


def test_dynamic_refreshes_when_a_later_cell_changes_its_value(kc: BlockingKernelClient) -> None:
    run(kc, "level = 1;")
    _, models = run(kc, "Dynamic[level + 1]")
    out = only(models, "OutputModel")
    assert output_text(models.states[out]) == "2"
    result, _ = run(kc, "level = 41;")
    # Refreshed as the end of the cell that changed it, before its reply: an nbconvert run
    # records the new value.
    for msg in result.messages:
        models.feed(msg)
    assert output_text(models.states[out]) == "42"
    result, _ = run(kc, "level = 41;")
    assert not result.of_type("comm_msg")  # the same value: no update sent


def test_a_3d_result_is_a_turnable_three_js_widget_with_the_static_fallback(
    kc: BlockingKernelClient,
) -> None:
    result, models = run(kc, "Plot3D[x y, {x, 0, 1}, {y, 0, 1}, PlotPoints -> 5]")
    data = result.results[0]["data"]
    assert {"image/svg+xml", "image/png", WIDGET_VIEW} <= set(data)
    assert "application/vnd.wstp-jupyter.scene3d+json" not in data
    scene = data[WIDGET_VIEW]["model_id"]
    state = models.states[scene]
    assert state["_model_name"] == "AnyModel" and "Three.js Authors" in state["_esm"]
    assert state["meta"]["boxed"] is True and state["meta"]["skipped"] == 0
    opened = next(m for m in result.messages if m["msg_type"] == "comm_open"
                  and m["content"]["comm_id"] == scene)
    paths = [p[0] for p in opened["content"]["data"]["buffer_paths"]]
    assert {"positions", "colors", "indices"} <= set(paths)
    sizes = dict(zip(paths, (len(b) for b in opened["buffers"]), strict=True))
    triangles = sizes["indices"] // 12
    assert triangles >= 2 * 4 * 4  # a 5 x 5 sampling: 4 x 4 quads, two triangles each
    assert sizes["positions"] % 12 == 0 and sizes["colors"] == sizes["positions"]


def test_an_update_asked_for_during_a_cell_runs_after_it(kc: BlockingKernelClient) -> None:
    run(kc, "trace = {};")
    _, models = run(kc, "Manipulate[AppendTo[trace, k]; Length[trace], {k, 1, 9, 1}]")
    out = only(models, "OutputModel")
    msg_id = kc.execute('Pause[1]; AppendTo[trace, "cell"];')
    iopub_until(kc, msg_id, lambda m: m["msg_type"] == "execute_input")
    send_update(kc, only(models, "IntSliderModel"), {"value": 5})  # while the cell runs
    wait_update(kc, models, out, shows("3"))
    result, _ = run(kc, "trace")
    assert result.plain() == ['{1, cell, 5}']  # never in parallel: the update waited its turn


def test_interrupting_an_endless_update_aborts_it(kc: BlockingKernelClient, km: Any) -> None:
    _, models = run(kc, "Manipulate[If[k > 1, While[True]]; k, {k, 1, 3, 1}]")
    out = only(models, "OutputModel")
    slider = only(models, "IntSliderModel")
    send_update(kc, slider, {"value": 2})
    for _ in range(20):  # the interrupt must reach the update once it runs
        km.interrupt_kernel()
        try:
            wait_update(kc, models, out, shows("$Aborted"), timeout=3)
            break
        except TimeoutError:
            continue
    assert "$Aborted" in output_text(models.states[out])
    send_update(kc, slider, {"value": 1})  # the controls still work
    wait_update(kc, models, out, lambda st: output_text(st) == "1")
    result, _ = run(kc, "1 + 1")
    assert result.plain() == ["2"]
