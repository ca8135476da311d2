"""The parallel functions as Mathics3 builtins: ParallelEvaluate, ParallelMap, ParallelTable, ...

Each function turns its work into *batches*: unevaluated expressions that a subkernel evaluates
in one ``EvaluatePacket`` (``Map[f, {chunk}]``, ``Table[body, {i, {values}}, more]``,
``Sum[...]``), runs them through the scheduler (``_parallel_jobs``) and combines the batch
results in the master (``Join``, ``Plus``, ``Times``, the combiner of ``ParallelCombine``).
Iterator values are computed in the master, exactly as ``Table`` would compute them.

Batch sizes follow ``Method``: ``"CoarsestGrained"`` makes one batch per kernel,
``"FinestGrained"`` one per element, ``"ItemsPerEvaluation" -> m`` batches of ``m``, and
``Automatic`` (the default) up to four batches per kernel, which balances uneven work without
paying much per batch.

Definitions go along automatically (``_parallel_defs``): the symbols of the distributed contexts
that the batches mention, with what their definitions need, plus every symbol named by
``DistributeDefinitions``. ``ParallelEvaluate`` sends only the latter, as in Wolfram.

In a subkernel (``$KernelID`` > 0) every parallel function evaluates sequentially in place:
subkernels never launch subkernels of their own.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from mathics.core.atoms import Integer, String
from mathics.core.attributes import A_FLAT, A_HOLD_ALL, A_HOLD_FIRST, A_PROTECTED
from mathics.core.builtin import Builtin
from mathics.core.expression import Expression
from mathics.core.list import ListExpression
from mathics.core.symbols import Atom, Symbol, SymbolNull

from wstp_jupyter.engine._convert import from_wire, to_wire
from wstp_jupyter.engine._parallel_defs import definitions_for, has_definition, needed_symbols
from wstp_jupyter.engine._parallel_fns import (
    CLUSTER,
    DISTRIBUTED,
    PARALLEL_KERNEL_BUILTINS,
    Reporter,
    ensure_kernels,
    kernel_id,
    kernels_named,
)
from wstp_jupyter.engine._parallel_jobs import Job, NoKernels
from wstp_jupyter.engine._subkernels import Subkernel
from wstp_jupyter.wxf import Expr
from wstp_jupyter.wxf import Symbol as WSymbol

SymbolFailed = Symbol("System`$Failed")
SymbolEvaluationObject = Symbol("System`EvaluationObject")
AUTOMATIC_BATCHES_PER_KERNEL = 4
_SUBMITTED: dict[int, Job] = {}  # by EvaluationObject number
_submissions = itertools.count(1)


def _sym(name: str) -> Symbol:
    return Symbol(f"System`{name}")


# -- running batches ---------------------------------------------------------------------------

class ParallelFailure(Exception):
    """The computation could not run (a message has been issued)."""


def _job(body: Any, definitions: Any, names: list[str], pin: Subkernel | None = None) -> Job:
    wire_body = to_wire(body)

    def prepare(kernel: Subkernel) -> Any:
        code = definitions_for(kernel, definitions, names)
        if not code:
            return wire_body
        return Expr(WSymbol("CompoundExpression"), *(to_wire(c) for c in code), wire_body)

    return Job(prepare=prepare, pin=pin)


def _collect(jobs: list[Job], evaluation: Any) -> list[Any]:
    try:
        CLUSTER.run(jobs, Reporter(evaluation))
    except NoKernels:
        evaluation.message("Parallel", "nokernel")
        raise ParallelFailure from None
    return [from_wire(j.result, evaluation.definitions) for j in jobs]


def _names(bodies: Sequence[Any], evaluation: Any, auto: bool) -> list[str]:
    if not auto:
        return needed_symbols([], evaluation.definitions, DISTRIBUTED)
    return needed_symbols(bodies, evaluation.definitions, DISTRIBUTED)


def run_batches(bodies: list[Any], evaluation: Any) -> list[Any]:
    """Evaluate each body on some subkernel; the results in order.

    Raises:
        ParallelFailure: no kernel could be launched or none is left.
    """
    if not ensure_kernels(evaluation):
        evaluation.message("Parallel", "nokernel")
        raise ParallelFailure
    names = _names(bodies, evaluation, True)
    return _collect([_job(b, evaluation.definitions, names) for b in bodies], evaluation)


def run_on_each(body: Any, evaluation: Any, *, auto: bool, names: list[str] | None = None,
                kernels: list[Subkernel] | None = None) -> list[Any]:
    """Evaluate ``body`` once on each kernel (all running ones by default), in kernel order.

    Raises:
        ParallelFailure: as :func:`run_batches`.
    """
    if kernels is None:
        if not ensure_kernels(evaluation):
            evaluation.message("Parallel", "nokernel")
            raise ParallelFailure
        with CLUSTER.lock:
            kernels = list(CLUSTER.kernels)
    if names is None:
        names = _names([body], evaluation, auto)
    jobs = [_job(body, evaluation.definitions, names, pin=k) for k in kernels]
    return _collect(jobs, evaluation)


# -- batching ----------------------------------------------------------------------------------

def _split_options(elements: Sequence[Any], evaluation: Any) -> tuple[list[Any], Any]:
    """Positional arguments and the value of a trailing ``Method -> m`` (``Automatic``)."""
    items = list(elements)
    method: Any = _sym("Automatic")
    while items and items[-1].get_head_name() in ("System`Rule", "System`RuleDelayed") and (
            len(items[-1].elements) == 2 and items[-1].elements[0].get_name() == "System`Method"):
        method = items.pop().elements[1].evaluate(evaluation)
    return items, method


def _chunks(items: list[Any], method: Any) -> list[list[Any]]:
    """Split ``items`` into consecutive batches according to ``method``."""
    n = len(items)
    if n == 0:
        return []
    kernels = max(1, CLUSTER.count)
    name = method.value if isinstance(method, String) else None
    if name == "FinestGrained":
        size = 1
    elif name == "CoarsestGrained":
        size = math.ceil(n / kernels)
    elif (method.get_head_name() in ("System`Rule", "System`RuleDelayed")
          and isinstance(method.elements[0], String)
          and method.elements[0].value == "ItemsPerEvaluation"
          and isinstance(method.elements[1], Integer) and method.elements[1].value > 0):
        size = int(method.elements[1].value)
    else:
        size = math.ceil(n / (kernels * AUTOMATIC_BATCHES_PER_KERNEL))
    pieces = math.ceil(n / size)
    # Even pieces: sizes differ by at most one, so no kernel gets a short last batch.
    base, extra = divmod(n, pieces)
    out: list[list[Any]] = []
    start = 0
    for i in range(pieces):
        end = start + base + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def _iterator_values(spec: Any, evaluation: Any) -> tuple[Any, list[Any]] | None:
    """``(variable, values)`` for ``{i, ...}``, ``(None, [count copies])`` for ``n``/``{n}``."""
    if spec.get_head_name() == "System`List" and len(spec.elements) >= 2 and isinstance(
            spec.elements[0], Symbol):
        var = spec.elements[0]
        values = Expression(_sym("Table"), var, spec).evaluate(evaluation)
        if values.get_head_name() != "System`List":
            return None
        return var, list(values.elements)
    count = spec.elements[0] if spec.get_head_name() == "System`List" and len(
        spec.elements) == 1 else spec
    n = count.evaluate(evaluation)
    if not isinstance(n, Integer) or n.value < 0:
        return None
    return None, [SymbolNull] * int(n.value)


def _sequential(name: str, elements: Sequence[Any], evaluation: Any) -> Any:
    return Expression(_sym(name), *elements).evaluate(evaluation)


class _Parallel(Builtin):
    context = "System`"
    attributes = A_PROTECTED
    sequential = ""

    def in_subkernel(self) -> bool:
        return kernel_id() != 0


class _Iterated(_Parallel):
    """ParallelTable, ParallelSum, ParallelProduct and ParallelDo: iterators split on the first
    iterator; the rest run inside each batch."""

    attributes = A_HOLD_ALL | A_PROTECTED
    combine = ""

    def eval(self, body: Any, iters: Any, evaluation: Any) -> Any:
        "%(name)s[body_, iters__]"
        specs, method = _split_options(iters.get_sequence(), evaluation)
        if self.in_subkernel() or not specs:
            return _sequential(self.sequential, [body, *specs], evaluation)
        found = _iterator_values(specs[0], evaluation)
        if found is None or (found[0] is None and self.sequential != "Table"):
            return _sequential(self.sequential, [body, *specs], evaluation)
        var, values = found
        chunks = _chunks(values, method)
        if not chunks:
            return _sequential(self.sequential, [body, *specs], evaluation)
        head = _sym(self.sequential)
        bodies = [
            Expression(head, body, Integer(len(c)) if var is None
                       else ListExpression(var, ListExpression(*c)), *specs[1:])
            for c in chunks
        ]
        try:
            results = run_batches(bodies, evaluation)
        except ParallelFailure:
            return SymbolFailed
        return self.join(results)

    def join(self, results: list[Any]) -> Any:
        if self.combine == "Join":
            if any(r.get_head_name() != "System`List" for r in results):
                return SymbolFailed
            return ListExpression(*(e for r in results for e in r.elements))
        if self.combine == "Null":
            return SymbolNull
        return Expression(_sym(self.combine), *results)


class ParallelTable(_Iterated):
    """
    <dl>
      <dt>'ParallelTable'[$expr$, {$i$, ...}, ...]</dt>
      <dd>is 'Table' with the values of the first iterator shared among the subkernels.</dd>
    </dl>
    """

    sequential, combine = "Table", "Join"
    summary_text = "build a table in parallel"


class ParallelSum(_Iterated):
    """<dl><dt>'ParallelSum'[$expr$, {$i$, ...}, ...]</dt><dd>is 'Sum' in parallel.</dd></dl>"""

    sequential, combine = "Sum", "Plus"
    summary_text = "sum in parallel"


class ParallelProduct(_Iterated):
    """<dl><dt>'ParallelProduct'[$expr$, {$i$, ...}, ...]</dt><dd>is 'Product' in
    parallel.</dd></dl>"""

    sequential, combine = "Product", "Times"
    summary_text = "multiply in parallel"


class ParallelDo(_Iterated):
    """<dl><dt>'ParallelDo'[$expr$, {$i$, ...}, ...]</dt><dd>is 'Do' in parallel.</dd></dl>"""

    sequential, combine = "Do", "Null"
    summary_text = "loop in parallel"


def _parallel_map(f: Any, expr: Any, method: Any, evaluation: Any) -> Any:
    if isinstance(expr, Atom) or not expr.elements:
        return Expression(_sym("Map"), f, expr).evaluate(evaluation)
    chunks = _chunks(list(expr.elements), method)
    bodies = [Expression(_sym("Map"), f, ListExpression(*c)) for c in chunks]
    try:
        results = run_batches(bodies, evaluation)
    except ParallelFailure:
        return SymbolFailed
    if any(r.get_head_name() != "System`List" for r in results):
        return SymbolFailed
    return Expression(expr.head, *(e for r in results for e in r.elements))


class ParallelMap(_Parallel):
    """
    <dl>
      <dt>'ParallelMap'[$f$, $expr$]</dt>
      <dd>applies $f$ to the elements of $expr$ on the subkernels.</dd>
    </dl>
    """

    sequential = "Map"
    summary_text = "map a function in parallel"

    def eval(self, f: Any, expr: Any, opts: Any, evaluation: Any) -> Any:
        "ParallelMap[f_, expr_, opts___]"
        rest, method = _split_options(opts.get_sequence(), evaluation)
        if rest:
            return None  # levels are not supported: stay unevaluated
        if self.in_subkernel():
            return _sequential("Map", [f, expr], evaluation)
        return _parallel_map(f, expr, method, evaluation)


class ParallelArray(_Parallel):
    """<dl><dt>'ParallelArray'[$f$, $n$]</dt><dd>is 'Array'[$f$, $n$] in parallel.</dd></dl>"""

    sequential = "Array"
    summary_text = "build an array in parallel"

    def eval(self, f: Any, n: Any, opts: Any, evaluation: Any) -> Any:
        "ParallelArray[f_, n_Integer, opts___]"
        rest, method = _split_options(opts.get_sequence(), evaluation)
        if rest or self.in_subkernel():
            return _sequential("Array", [f, n, *rest], evaluation)
        items = ListExpression(*(Integer(i) for i in range(1, int(n.value) + 1)))
        return _parallel_map(f, items, method, evaluation)


class ParallelCombine(_Parallel):
    """
    <dl>
      <dt>'ParallelCombine'[$f$, $h$[$e1$, $e2$, ...], $comb$]</dt>
      <dd>evaluates $f$[$h$[...]] on parts of the elements in parallel and combines the partial
      results with $comb$ ($h$ if $h$ is 'Flat', else 'Join').</dd>
    </dl>
    """

    summary_text = "split a computation, run the parts in parallel, combine the results"

    def eval(self, f: Any, expr: Any, rest: Any, evaluation: Any) -> Any:
        "ParallelCombine[f_, expr_, rest___]"
        args, method = _split_options(rest.get_sequence(), evaluation)
        if len(args) > 1 or isinstance(expr, Atom):
            return None
        head = expr.head
        if args:
            comb = args[0]
        elif isinstance(head, Symbol) and evaluation.definitions.get_attributes(
                head.get_name()) & A_FLAT:
            comb = head
        else:
            comb = _sym("Join")
        if self.in_subkernel():
            return Expression(f, expr).evaluate(evaluation)
        chunks = _chunks(list(expr.elements), method)
        if not chunks:
            return Expression(f, expr).evaluate(evaluation)
        bodies = [Expression(f, Expression(head, *c)) for c in chunks]
        try:
            results = run_batches(bodies, evaluation)
        except ParallelFailure:
            return SymbolFailed
        return Expression(comb, *results)


class ParallelEvaluate(_Parallel):
    """
    <dl>
      <dt>'ParallelEvaluate'[$expr$]</dt>
      <dd>evaluates $expr$ on every subkernel and gives the list of results.</dd>
      <dt>'ParallelEvaluate'[$expr$, $kernels$]</dt>
      <dd>on the given kernel object(s) only.</dd>
    </dl>
    """

    attributes = A_HOLD_FIRST | A_PROTECTED
    summary_text = "evaluate an expression on each subkernel"

    def eval(self, expr: Any, evaluation: Any) -> Any:
        "ParallelEvaluate[expr_]"
        if self.in_subkernel():
            return expr.evaluate(evaluation)
        try:
            return ListExpression(*run_on_each(expr, evaluation, auto=False))
        except ParallelFailure:
            return SymbolFailed

    def eval_on(self, expr: Any, kernels: Any, evaluation: Any) -> Any:
        "ParallelEvaluate[expr_, kernels_]"
        chosen = kernels_named(kernels)
        if chosen is None:
            return None
        try:
            results = run_on_each(expr, evaluation, auto=False, kernels=chosen)
        except ParallelFailure:
            return SymbolFailed
        if kernels.get_head_name() != "System`List":
            return results[0] if results else SymbolFailed
        return ListExpression(*results)


class EvaluationObject(Builtin):
    """<dl><dt>'EvaluationObject'[$n$, $expr$]</dt><dd>is a parallel evaluation submitted with
    'ParallelSubmit'.</dd></dl>"""

    context = "System`"
    attributes = A_HOLD_ALL | A_PROTECTED
    summary_text = "a submitted parallel evaluation"


class ParallelSubmit(_Parallel):
    """
    <dl>
      <dt>'ParallelSubmit'[$expr$]</dt>
      <dd>queues $expr$ for evaluation on the next free subkernel and gives an
      'EvaluationObject'; 'WaitAll' collects the results.</dd>
      <dt>'ParallelSubmit'[{$var1$, ...}, $expr$]</dt>
      <dd>inserts the current values of the variables into $expr$ first.</dd>
    </dl>
    """

    attributes = A_HOLD_ALL | A_PROTECTED
    summary_text = "submit an evaluation to the parallel queue"

    def eval_vars(self, names: Any, expr: Any, evaluation: Any) -> Any:
        "ParallelSubmit[names_List, expr_]"
        # The current values of the named variables go into the held expression (it runs later,
        # elsewhere: a Table iterator around ParallelSubmit has no value there).
        values = {v.get_name(): v.evaluate(evaluation)
                  for v in names.elements if isinstance(v, Symbol)}
        return self.eval(expr.replace_vars(values), evaluation)

    def eval(self, expr: Any, evaluation: Any) -> Any:
        "ParallelSubmit[expr_]"
        if not ensure_kernels(evaluation):
            evaluation.message("Parallel", "nokernel")
            return SymbolFailed
        job = _job(expr, evaluation.definitions, _names([expr], evaluation, True))
        number = next(_submissions)
        _SUBMITTED[number] = job
        CLUSTER.submit([job])
        return Expression(SymbolEvaluationObject, Integer(number), expr)


def _evaluation_objects(expr: Any, into: list[int]) -> None:
    if expr.get_head_name() == "System`EvaluationObject":
        if expr.elements and isinstance(expr.elements[0], Integer):
            into.append(int(expr.elements[0].value))
        return
    if not isinstance(expr, Atom):
        _evaluation_objects(expr.head, into)
        for e in expr.elements:
            _evaluation_objects(e, into)


def _replace_objects(expr: Any, results: dict[int, Any]) -> Any:
    if expr.get_head_name() == "System`EvaluationObject":
        if expr.elements and isinstance(expr.elements[0], Integer):
            return results.get(int(expr.elements[0].value), expr)
        return expr
    if isinstance(expr, Atom):
        return expr
    return Expression(_replace_objects(expr.head, results),
                      *(_replace_objects(e, results) for e in expr.elements))


class WaitAll(_Parallel):
    """<dl><dt>'WaitAll'[$expr$]</dt><dd>waits for every 'EvaluationObject' in $expr$ and puts
    its result in its place.</dd></dl>"""

    summary_text = "wait for submitted evaluations"

    def eval(self, expr: Any, evaluation: Any) -> Any:
        "WaitAll[expr_]"
        ids: list[int] = []
        _evaluation_objects(expr, ids)
        numbers = [i for i in dict.fromkeys(ids) if i in _SUBMITTED]
        jobs = [_SUBMITTED[i] for i in numbers]
        try:
            values = _collect(jobs, evaluation)
        except ParallelFailure:
            values = [SymbolFailed] * len(jobs)
        results = dict(zip(numbers, values, strict=True))
        for i in results:
            _SUBMITTED.pop(i, None)
        return _replace_objects(expr, results)


class WaitNext(_Parallel):
    """<dl><dt>'WaitNext'[{$eo1$, $eo2$, ...}]</dt><dd>waits until one of the evaluation objects
    is finished and gives '{'$result$, $eo$, $rest$'}'.</dd></dl>"""

    summary_text = "wait for the next of several submitted evaluations"

    def eval(self, objects: Any, evaluation: Any) -> Any:
        "WaitNext[objects_List]"
        pending = [o for o in objects.elements
                   if o.get_head_name() == "System`EvaluationObject" and o.elements
                   and isinstance(o.elements[0], Integer)
                   and int(o.elements[0].value) in _SUBMITTED]
        if not pending:
            return None
        jobs = [_SUBMITTED[int(o.elements[0].value)] for o in pending]
        try:
            CLUSTER.run(jobs, Reporter(evaluation), until_any=True)
        except NoKernels:
            evaluation.message("Parallel", "nokernel")
            return SymbolFailed
        at = next(i for i, j in enumerate(jobs) if j.finished)
        number = int(pending[at].elements[0].value)
        _SUBMITTED.pop(number, None)
        value = from_wire(jobs[at].result, evaluation.definitions)
        rest = [o for i, o in enumerate(pending) if i != at]
        return ListExpression(value, pending[at], ListExpression(*rest))


_PARALLELIZABLE = {
    "System`Table": "ParallelTable", "System`Sum": "ParallelSum",
    "System`Product": "ParallelProduct", "System`Do": "ParallelDo",
    "System`Map": "ParallelMap", "System`Array": "ParallelArray",
}


class Parallelize(_Parallel):
    """
    <dl>
      <dt>'Parallelize'[$expr$]</dt>
      <dd>evaluates $expr$ in parallel when it is a 'Table', 'Sum', 'Product', 'Do', 'Map'
      ('f /@ list') or 'Array'; anything else is evaluated in the master, with a message.</dd>
    </dl>
    """

    attributes = A_HOLD_FIRST | A_PROTECTED
    messages = {
        "nopar1": "`1` cannot be parallelized; proceeding with sequential evaluation.",
    }
    summary_text = "evaluate an expression in parallel where possible"

    def eval(self, expr: Any, opts: Any, evaluation: Any) -> Any:
        "Parallelize[expr_, opts___]"
        name = _PARALLELIZABLE.get(expr.get_head_name() or "")
        if name is None or isinstance(expr, Atom):
            if not self.in_subkernel():
                evaluation.message("Parallelize", "nopar1", Expression(_sym("HoldForm"), expr))
            return expr.evaluate(evaluation)
        return Expression(_sym(name), *expr.elements, *opts.get_sequence()).evaluate(evaluation)


class DistributeDefinitions(Builtin):
    """
    <dl>
      <dt>'DistributeDefinitions'[$s1$, $s2$, ...]</dt>
      <dd>sends the definitions of the symbols (and of the symbols they use) to every parallel
      subkernel, now and to those launched later.</dd>
    </dl>
    """

    context = "System`"
    attributes = A_HOLD_ALL | A_PROTECTED
    summary_text = "send definitions to the parallel subkernels"

    def eval(self, symbols: Any, evaluation: Any) -> Any:
        "DistributeDefinitions[symbols___]"
        names: list[str] = []
        for item in symbols.get_sequence():
            if isinstance(item, Symbol):
                names.append(item.get_name())
            elif isinstance(item, String):
                names.append(evaluation.definitions.lookup_name(str(item.value)))
        DISTRIBUTED.update(names)
        order = needed_symbols([], evaluation.definitions, names)
        if CLUSTER.count:
            run_on_each(Symbol("System`Null"), evaluation, auto=False, names=order)
        defined = [n for n in order if has_definition(evaluation.definitions, n)]
        return ListExpression(*(Symbol(n) for n in defined))


class Parallel(Builtin):
    """<dl><dt>'Parallel'</dt><dd>carries the messages of the parallel functions.</dd></dl>"""

    context = "System`"
    attributes = A_PROTECTED
    messages = {"nokernel": "No parallel kernels are available; the computation failed."}
    summary_text = "messages of parallel computing"


PARALLEL_OP_BUILTINS: list[type[Builtin]] = [
    Parallel, ParallelTable, ParallelSum, ParallelProduct, ParallelDo, ParallelMap,
    ParallelArray, ParallelCombine, ParallelEvaluate, EvaluationObject, ParallelSubmit, WaitAll,
    WaitNext, Parallelize, DistributeDefinitions,
]

PARALLEL_BUILTINS: list[type[Builtin]] = [*PARALLEL_KERNEL_BUILTINS, *PARALLEL_OP_BUILTINS]

__all__ = ["PARALLEL_BUILTINS", "run_batches", "run_on_each"]
