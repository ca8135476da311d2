"""Parallel kernels as Mathics3 builtins: launching, listing, closing, distributing definitions.

``LaunchKernels``, ``Kernels``, ``CloseKernels``, ``KernelObject``, ``$KernelCount``,
``$KernelID``, ``$ProcessorCount``, ``$ConfiguredKernels``, ``$DefaultParallelKernels``,
``DistributeDefinitions`` and ``WSTPJupyter`SubkernelInit`` live here; the parallel functions
themselves are in ``_parallel_ops``. Both share :data:`CLUSTER` (this process's subkernels) and
the helpers below.

Kernel objects print as ``KernelObject[1, "local"]`` (``KernelObject[3,
"wstp://host:31415/pool"]`` for a server's kernel); numbers are never reused. ``LaunchKernels[]``
launches what ``$ConfiguredKernels`` says (``$DefaultParallelKernels`` when that one is unset;
``$ProcessorCount`` local kernels when both are) and refuses to launch them a second time, as
Wolfram's does; the parallel functions call it on first use when no kernel runs. Launching
several kernels starts them side by side and stays abortable.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from mathics.core.atoms import Integer, String
from mathics.core.attributes import A_PROTECTED
from mathics.core.builtin import Builtin, Predefined
from mathics.core.expression import Expression
from mathics.core.list import ListExpression
from mathics.core.symbols import Symbol, SymbolTrue

from wstp_jupyter.engine._parallel_jobs import Cluster
from wstp_jupyter.engine._subkernels import (
    SpecError,
    Subkernel,
    Target,
    launch_local,
    launch_remote,
    parse_url,
)

CLUSTER = Cluster()
SymbolFailed = Symbol("System`$Failed")
SymbolKernelObject = Symbol("System`KernelObject")
_state = {"kernel_id": 0}  # $KernelID: 0 in a master, set by SubkernelInit in a subkernel
#: Symbols named by DistributeDefinitions: sent to every kernel, including later ones.
DISTRIBUTED: set[str] = set()


def processor_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def kernel_id() -> int:
    """``$KernelID`` of this process (0 in a master kernel)."""
    return _state["kernel_id"]


def kernel_object(kernel: Subkernel) -> Expression:
    return Expression(SymbolKernelObject, Integer(kernel.id), String(kernel.name))


class Reporter:
    """Subkernel output and scheduler notices, delivered through the master's evaluation."""

    def __init__(self, evaluation: Any) -> None:
        self.evaluation = evaluation

    def print_text(self, kernel: Subkernel, text: str) -> None:
        host = getattr(self.evaluation, "host", None)
        if host is not None:
            host.print_text(f"(kernel {kernel.id}) {text}")

    def message(self, kernel: Subkernel, symbol: str, tag: str, text: str) -> None:
        host = getattr(self.evaluation, "host", None)
        if host is not None:
            host.message(symbol, tag, f"(kernel {kernel.id}) {text}")

    def kernel_died(self, kernel: Subkernel, requeued: bool) -> None:
        self.evaluation.message("KernelObject", "rdead", kernel_object(kernel))
        if requeued:
            self.evaluation.message("KernelObject", "req", kernel_object(kernel))


# -- specifications ----------------------------------------------------------------------------

def targets_of(spec: Any) -> list[tuple[Target, int]]:
    """``(target, count)`` pairs for a kernel specification (see ``_subkernels``).

    Raises:
        SpecError: not a specification.
    """
    if isinstance(spec, Integer):
        n = int(spec.value)
        if n < 0:
            raise SpecError(f"cannot launch {n} kernels")
        return [(Target("local"), n)] if n else []
    if isinstance(spec, String):
        target, count = parse_url(str(spec.value))
        return [(target, count or 1)]
    if isinstance(spec, Expression):
        elements = spec.elements
        head = spec.get_head_name()
        if head in ("System`WSTPServerKernel", "Global`WSTPServerKernel") or (
                head == "System`List" and len(elements) == 2 and isinstance(elements[0], String)
                and isinstance(elements[1], Integer)):
            if not elements or not isinstance(elements[0], String):
                raise SpecError(f"{spec} names no server")
            target, count = parse_url(str(elements[0].value))
            if len(elements) > 1:
                if not isinstance(elements[1], Integer) or int(elements[1].value) < 1:
                    raise SpecError(f"bad kernel count in {spec}")
                count = int(elements[1].value)
            return [(target, count or 1)]
        if head == "System`List":
            return [pair for item in elements for pair in targets_of(item)]
    raise SpecError(f"{spec} is not a kernel specification")


def configured_targets(evaluation: Any) -> list[tuple[Target, int]]:
    """What ``LaunchKernels[]`` launches (see the module docstring).

    Raises:
        SpecError: the configured value is not a specification.
    """
    for name in ("System`$ConfiguredKernels", "System`$DefaultParallelKernels"):
        value = Symbol(name).evaluate(evaluation)
        if value is not None and value.get_name() != name and value.get_head_name() != (
                "System`Automatic") and value is not Symbol("System`Automatic"):
            return targets_of(value)
    return [(Target("local"), processor_count())]


# -- launching ---------------------------------------------------------------------------------

def launch(targets: list[tuple[Target, int]], evaluation: Any) -> list[Subkernel]:
    """Start the kernels side by side; failures become ``LaunchKernels::fail`` messages.

    An abort while waiting stops the wait; kernels still starting are closed when they are up.
    """
    plan = [(CLUSTER.new_id(), target) for target, count in targets for _ in range(count)]
    results: dict[int, Subkernel | BaseException | None] = {}
    cancelled = threading.Event()
    lock = threading.Lock()

    def start(kid: int, target: Target) -> None:
        try:
            kernel = launch_local(kid) if target.local else launch_remote(kid, target)
        except BaseException as exc:  # reported on the evaluating thread
            with lock:
                results[kid] = exc
            return
        with lock:
            if cancelled.is_set():
                kernel.close()
                return
            results[kid] = kernel

    threads = [threading.Thread(target=start, args=p, daemon=True) for p in plan]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.05)  # short joins: an abort must reach this thread
    except BaseException:
        with lock:
            cancelled.set()
            for item in results.values():
                if isinstance(item, Subkernel):
                    item.close()
        raise
    launched: list[Subkernel] = []
    for kid, target in plan:
        item = results.get(kid)
        if isinstance(item, Subkernel):
            CLUSTER.add(item)
            launched.append(item)
        else:
            reason = str(item) or type(item).__name__
            evaluation.message("LaunchKernels", "fail", String(target.url), String(reason))
    return launched


def ensure_kernels(evaluation: Any) -> bool:
    """Launch the configured kernels when none runs (parallel functions on first use)."""
    CLUSTER.drain(Reporter(evaluation))
    if CLUSTER.count:
        return True
    try:
        targets = configured_targets(evaluation)
    except SpecError as exc:
        evaluation.message("LaunchKernels", "spec", String(str(exc)))
        return False
    return bool(launch(targets, evaluation))


# -- builtins ----------------------------------------------------------------------------------

class KernelObject(Builtin):
    """
    <dl>
      <dt>'KernelObject'[$n$, $name$]</dt>
      <dd>is the parallel subkernel number $n$, launched from $name$ ("local" or a wstp://
      URL).</dd>
    </dl>
    """

    context = "System`"
    attributes = A_PROTECTED
    # Printed as Wolfram prints it, the name in quotes: KernelObject[1, "local"].
    formats = {
        (("StandardForm", "OutputForm", "TraditionalForm"),
         "KernelObject[n_Integer, name_String]"):
        'StringJoin["KernelObject[", ToString[n], ", ", ToString[name, InputForm], "]"]',
    }
    messages = {
        "rdead": "Subkernel connected through `1` appears dead.",
        "req": "The unfinished work of `1` is given to the other kernels.",
    }
    summary_text = "a parallel subkernel"


class LaunchKernels(Builtin):
    """
    <dl>
      <dt>'LaunchKernels'[]</dt><dd>launches the configured subkernels ($ProcessorCount local
      ones by default).</dd>
      <dt>'LaunchKernels'[$n$]</dt><dd>launches $n$ local subkernels.</dd>
      <dt>'LaunchKernels'["wstp://$host$:$port$/$pool$"]</dt><dd>takes a subkernel from a
      wstpserver pool (default port 31415, default parallel pool).</dd>
      <dt>'LaunchKernels'["wstp://$host$", $n$]</dt><dd>takes $n$ of them.</dd>
    </dl>
    """

    context = "System`"
    attributes = A_PROTECTED
    messages = {
        "nodef": "Some subkernels are already running. Not launching default kernels again.",
        "spec": "Not a kernel specification: `1`.",
        "fail": "Cannot launch a subkernel from `1`: `2`.",
    }
    summary_text = "launch parallel subkernels"

    def eval(self, evaluation: Any) -> Any:
        "LaunchKernels[]"
        if CLUSTER.count:
            evaluation.message("LaunchKernels", "nodef")
            return SymbolFailed
        try:
            targets = configured_targets(evaluation)
        except SpecError as exc:
            evaluation.message("LaunchKernels", "spec", String(str(exc)))
            return SymbolFailed
        return self._launch(targets, evaluation)

    def eval_spec(self, spec: Any, evaluation: Any) -> Any:
        "LaunchKernels[spec_]"
        return self._parse_launch(spec, evaluation)

    def eval_url_count(self, url: Any, n: Any, evaluation: Any) -> Any:
        "LaunchKernels[url_String, n_Integer]"
        return self._parse_launch(ListExpression(url, n), evaluation)

    def _parse_launch(self, spec: Any, evaluation: Any) -> Any:
        try:
            targets = targets_of(spec)
        except SpecError as exc:
            evaluation.message("LaunchKernels", "spec", String(str(exc)))
            return SymbolFailed
        return self._launch(targets, evaluation)

    @staticmethod
    def _launch(targets: list[tuple[Target, int]], evaluation: Any) -> Any:
        wanted = sum(n for _, n in targets)
        launched = launch(targets, evaluation)
        if wanted and not launched:
            return SymbolFailed
        return ListExpression(*(kernel_object(k) for k in launched))


class Kernels(Builtin):
    """<dl><dt>'Kernels'[]</dt><dd>gives the list of running parallel subkernels.</dd></dl>"""

    context = "System`"
    attributes = A_PROTECTED
    summary_text = "list the running parallel subkernels"

    def eval(self, evaluation: Any) -> Any:
        "Kernels[]"
        CLUSTER.drain(Reporter(evaluation))  # a kernel that died while idle is not listed
        with CLUSTER.lock:
            kernels = list(CLUSTER.kernels)
        return ListExpression(*(kernel_object(k) for k in kernels))


def kernels_named(spec: Any) -> list[Subkernel] | None:
    """The running kernels a ``KernelObject`` or a list of them names (``None``: not one)."""
    items = spec.elements if spec.get_head_name() == "System`List" else (spec,)
    wanted: list[int] = []
    for item in items:
        if item.get_head_name() != "System`KernelObject" or not item.elements or not isinstance(
                item.elements[0], Integer):
            return None
        wanted.append(int(item.elements[0].value))
    with CLUSTER.lock:
        return [k for k in CLUSTER.kernels if k.id in wanted]


class CloseKernels(Builtin):
    """
    <dl>
      <dt>'CloseKernels'[]</dt><dd>closes every parallel subkernel.</dd>
      <dt>'CloseKernels'[$k$]</dt><dd>closes the kernel object $k$ (or a list of them).</dd>
    </dl>
    """

    context = "System`"
    attributes = A_PROTECTED
    summary_text = "close parallel subkernels"

    def eval(self, evaluation: Any) -> Any:
        "CloseKernels[]"
        with CLUSTER.lock:
            kernels = list(CLUSTER.kernels)
        return self._close(kernels)

    def eval_some(self, spec: Any, evaluation: Any) -> Any:
        "CloseKernels[spec_]"
        kernels = kernels_named(spec)
        if kernels is None:
            return None  # unevaluated: not a kernel object
        return self._close(kernels)

    @staticmethod
    def _close(kernels: list[Subkernel]) -> Any:
        closed = CLUSTER.close(kernels)
        return ListExpression(*(kernel_object(k) for k in closed))


class KernelCount(Predefined):
    """<dl><dt>'$KernelCount'</dt><dd>is the number of running parallel subkernels.</dd></dl>"""

    name = "$KernelCount"
    context = "System`"
    summary_text = "the number of running parallel subkernels"

    def evaluate(self, evaluation: Any) -> Any:
        CLUSTER.drain(Reporter(evaluation))
        return Integer(CLUSTER.count)


class KernelID(Predefined):
    """<dl><dt>'$KernelID'</dt><dd>is 0 in the master kernel and $n$ in subkernel $n$.</dd></dl>"""

    name = "$KernelID"
    context = "System`"
    summary_text = "the number of this kernel among the parallel kernels"

    def evaluate(self, evaluation: Any) -> Any:
        return Integer(kernel_id())


class ProcessorCount(Predefined):
    """<dl><dt>'$ProcessorCount'</dt><dd>is the number of processors this process may use.</dd>
    </dl>"""

    name = "$ProcessorCount"
    context = "System`"
    summary_text = "the number of processor cores available"

    def evaluate(self, evaluation: Any) -> Any:
        return Integer(processor_count())


class ConfiguredKernels(Builtin):
    """
    <dl>
      <dt>'$ConfiguredKernels'</dt><dd>is what 'LaunchKernels[]' launches: 'Automatic'
      ($ProcessorCount local kernels) or a list of kernel specifications.</dd>
    </dl>
    """

    name = "$ConfiguredKernels"
    context = "System`"
    attributes = 0  # not Protected: users assign it
    rules = {"$ConfiguredKernels": "Automatic"}
    summary_text = "the kernels LaunchKernels[] launches"


class DefaultParallelKernels(Builtin):
    """
    <dl>
      <dt>'$DefaultParallelKernels'</dt><dd>kernel specifications used when
      '$ConfiguredKernels' is 'Automatic'.</dd>
    </dl>
    """

    name = "$DefaultParallelKernels"
    context = "System`"
    attributes = 0  # not Protected: users assign it
    rules = {"$DefaultParallelKernels": "Automatic"}
    summary_text = "the default parallel kernel specifications"


class SubkernelInit(Builtin):
    """<dl><dt>'WSTPJupyter`SubkernelInit'[$n$]</dt><dd>makes this kernel subkernel $n$.</dd>
    </dl>"""

    context = "WSTPJupyter`"
    attributes = A_PROTECTED
    summary_text = "set $KernelID in a subkernel"

    def eval(self, n: Any, evaluation: Any) -> Any:
        "WSTPJupyter`SubkernelInit[n_Integer]"
        _state["kernel_id"] = int(n.value)
        return SymbolTrue


PARALLEL_KERNEL_BUILTINS: list[type[Builtin]] = [
    KernelObject, LaunchKernels, Kernels, CloseKernels, KernelCount, KernelID, ProcessorCount,
    ConfiguredKernels, DefaultParallelKernels, SubkernelInit,
]

__all__ = ["CLUSTER", "DISTRIBUTED", "PARALLEL_KERNEL_BUILTINS", "Reporter", "ensure_kernels",
           "kernel_id", "kernel_object", "kernels_named", "targets_of"]
