"""Every example in README.md and docs/*.md runs, and shows what it really prints.

The convention every page follows:

* ```` ```python ```` blocks run in document order in one namespace per file. A block with ``>>>``
  lines is a doctest (its shown output is checked, ``...`` matches anything); any other python
  block is executed and must not raise.
* ```` ```console ```` blocks: a line starting with ``$ `` is a shell command (run by ``bash`` in
  a scratch directory of the file, with this checkout first on ``PYTHONPATH``); the lines after
  it, up to the next command, are its expected output (stdout and stderr together), where ``...``
  matches anything, across lines too. A command shown without output must exit with status 0.
* ```` ```wl ```` blocks: ``In[n]:= input`` lines, each followed by what the kernel prints for it
  (``Print`` lines, message texts, then ``Out[n]= result``), run through one real kernel process
  per file (``python -m wstp_jupyter.engine``), so ``In``/``Out`` numbers continue across the
  blocks of a file as in one session.
* ``<!-- doc-test: skip (reason) -->`` on the line right before a block skips it; the reason is
  required.
* Any other fence (```` ```text ````, ```` ```json ````, ```` ```sh ````, a bare fence) is not run.

Each file is one test, so a file's blocks share their namespace, directory and kernel; a failure
names the file and the line of the block.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RUN = {"python", "console", "wl"}
SKIP = re.compile(r"^<!--\s*doc-test:\s*skip\s*\((?P<reason>[^)]*)\)\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)")
IN_LINE = re.compile(r"^In\[(?P<n>\d+)\]:= (?P<input>.*)$")
COMMAND_TIMEOUT = 300.0


def doc_files() -> list[Path]:
    """README.md and every docs/*.md, found anew on each run (new pages are picked up)."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    skip: str | None = None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def parse_blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, with their skip markers.

    Raises:
        ValueError: a skip marker without a reason or not right before a fence, or a fence that
            is never closed.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = SKIP.match(lines[i].strip())
        if lines[i].strip().startswith("<!-- doc-test") and m is None:
            raise ValueError(f"{path.name}:{i + 1}: malformed doc-test marker {lines[i]!r}")
        if m is not None:
            if not m["reason"].strip():
                raise ValueError(f"{path.name}:{i + 1}: a skip marker needs a reason")
            if i + 1 >= len(lines) or not FENCE.match(lines[i + 1]):
                raise ValueError(f"{path.name}:{i + 1}: a skip marker must sit right before a "
                                 "fenced block")
        f = FENCE.match(lines[i])
        if f is None:
            i += 1
            continue
        close = f["fence"]
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(close):
            body.append(lines[i][len(f["indent"]):])
            i += 1
        if i >= len(lines):
            raise ValueError(f"{path.name}:{start + 1}: unclosed fence")
        marker = SKIP.match(lines[start - 1].strip()) if start > 0 else None
        blocks.append(Block(path, start + 1, f["lang"].lower(), "\n".join(body) + "\n",
                            marker["reason"].strip() if marker else None))
        i += 1
    return blocks


def ellipsis_match(expected: str, actual: str) -> bool:
    """Whether ``actual`` matches ``expected``, where ``...`` stands for any text (even none,
    even several lines); trailing blanks of lines and trailing blank lines do not count."""

    def norm(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())

    parts = [re.escape(p) for p in norm(expected).split("...")]
    return re.fullmatch(".*?".join(parts), norm(actual), re.DOTALL) is not None


# -- python -------------------------------------------------------------------------------------


def run_python(block: Block, namespace: dict[str, object]) -> None:
    if re.search(r"^\s*>>> ", block.text, re.MULTILINE):
        parser = doctest.DocTestParser()
        test = parser.get_doctest(block.text, namespace, block.where, str(block.path),
                                  block.line)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        out: list[str] = []
        test.globs = namespace  # DocTest copies its globals; the file shares one namespace
        runner.run(test, out=out.append, clear_globs=False)
        assert not runner.failures, f"{block.where}: doctest failed\n" + "".join(out)
    else:
        code = compile("\n" * block.line + block.text, str(block.path), "exec")
        exec(code, namespace)


# -- console ------------------------------------------------------------------------------------


def console_steps(block: Block) -> Iterator[tuple[str, str | None]]:
    """``(command, expected output or None)`` pairs of a console block."""
    command: str | None = None
    expected: list[str] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            if command is not None:
                yield command, "\n".join(expected) if expected else None
            command, expected = line[2:], []
        elif command is None:
            if line.strip():
                raise AssertionError(f"{block.where}: output before any `$ ` command: {line!r}")
        else:
            expected.append(line)
    if command is not None:
        yield command, "\n".join(expected) if expected else None


def run_console(block: Block, cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    # Commands name `python`; make it this interpreter, and find the package's scripts beside it.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for command, expected in console_steps(block):
        proc = subprocess.run(["bash", "-c", command], check=False, cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                              stdin=subprocess.DEVNULL)
        actual = proc.stdout + proc.stderr
        if expected is None:
            assert proc.returncode == 0, (
                f"{block.where}: `{command}` exited with {proc.returncode}:\n{actual}")
        else:
            assert ellipsis_match(expected, actual), (
                f"{block.where}: `{command}` printed\n{actual}\nbut the doc shows\n{expected}")


# -- wl -----------------------------------------------------------------------------------------


@dataclass
class WLSession:
    """One kernel process for the wl blocks of a file, started on first use."""

    kernel: object | None = None
    prompt: str = ""
    transcript: list[str] = field(default_factory=list)

    def start(self) -> None:
        from wstp_jupyter.engine import launch

        self.kernel = launch()
        first = self.link.get(timeout=120)
        self.prompt = str(first.args[0])

    @property
    def link(self):  # type: ignore[no-untyped-def]
        return self.kernel.link  # type: ignore[attr-defined]

    def enter(self, text: str) -> list[str]:
        """Send one input; the lines the kernel shows for it, up to the next prompt."""
        from wstp_jupyter.wxf import Expr, wl

        self.link.put(wl.EnterTextPacket(text))
        shown: list[str] = []
        out_name = ""
        while True:
            packet = self.link.get(timeout=120)
            assert isinstance(packet, Expr), packet
            head = packet.head_name
            if head == "InputNamePacket":
                self.prompt = str(packet.args[0])
                return shown
            if head == "TextPacket":
                shown.extend(str(packet.args[0]).rstrip("\n").split("\n"))
            elif head == "OutputNamePacket":
                out_name = str(packet.args[0])
            elif head == "ReturnTextPacket":
                lines = str(packet.args[0]).split("\n")
                shown.append(out_name + lines[0])
                shown.extend(lines[1:])
            elif head in ("MessagePacket", "SyntaxPacket"):
                continue  # the message text follows as a TextPacket
            else:
                raise AssertionError(f"a wl doc block cannot show {packet!r}")

    def close(self) -> None:
        if self.kernel is not None:
            self.kernel.close()  # type: ignore[attr-defined]


def wl_steps(block: Block) -> Iterator[tuple[int, str, int, list[str]]]:
    """``(n, input, line, expected lines)`` for each ``In[n]:=`` of a wl block."""
    current: tuple[int, str, int] | None = None
    expected: list[str] = []
    for offset, line in enumerate(block.text.splitlines()):
        m = IN_LINE.match(line)
        if m:
            if current is not None:
                yield (*current, expected)
            current, expected = (int(m["n"]), m["input"], block.line + 1 + offset), []
        elif current is None:
            if line.strip():
                raise AssertionError(f"{block.where}: a wl block starts with In[n]:= lines")
        elif line.strip():
            expected.append(line)
    if current is not None:
        yield (*current, expected)


def run_wl(block: Block, session: WLSession) -> None:
    if session.kernel is None:
        session.start()
    for n, text, line, expected in wl_steps(block):
        where = f"{block.path.relative_to(REPO)}:{line}"
        assert session.prompt == f"In[{n}]:= ", (
            f"{where}: the kernel is at {session.prompt!r}, the doc shows In[{n}]")
        shown = session.enter(text)
        assert ellipsis_match("\n".join(expected), "\n".join(shown)), (
            f"{where}: In[{n}]:= {text}\nthe kernel shows\n" + "\n".join(shown)
            + "\nbut the doc shows\n" + "\n".join(expected))


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_examples_run(path: Path, tmp_path: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"doc_{path.stem}"}
    session = WLSession()
    try:
        for block in parse_blocks(path):
            if block.lang not in RUN or block.skip is not None:
                continue
            if block.lang == "python":
                run_python(block, namespace)
            elif block.lang == "console":
                run_console(block, tmp_path)
            else:
                run_wl(block, session)
    finally:
        session.close()
        _close_leftovers(namespace)


def _close_leftovers(namespace: dict[str, object]) -> None:
    """Close the kernels and links an example left open (after a failure, say), so that a
    broken doc does not leak processes into the rest of the run."""
    from wstp_jupyter.engine import KernelProcess
    from wstp_jupyter.link import Link

    for value in namespace.values():
        if isinstance(value, KernelProcess | Link):
            value.close()


def test_the_runner_reads_the_convention(tmp_path: Path) -> None:
    doc = tmp_path / "page.md"
    doc.write_text(
        "text\n```python\n>>> 1 + 1\n2\n```\n"
        "<!-- doc-test: skip (needs a network) -->\n```console\n$ false\n```\n"
        "```wl\nIn[1]:= 1 + 1\nOut[1]= 2\n```\n~~~json\n{}\n~~~\n")
    blocks = parse_blocks(doc)
    assert [(b.lang, b.line, b.skip) for b in blocks] == [
        ("python", 2, None), ("console", 7, "needs a network"), ("wl", 10, None),
        ("json", 14, None)]
    assert list(wl_steps(blocks[2])) == [(1, "1 + 1", 11, ["Out[1]= 2"])]
    assert ellipsis_match("a ...\nz", "a b\nc\nz  \n\n")
    assert not ellipsis_match("a\nz", "a\nb\nz")
    bad = tmp_path / "bad.md"
    bad.write_text("<!-- doc-test: skip () -->\n```console\n$ true\n```\n")
    with pytest.raises(ValueError, match="needs a reason"):
        parse_blocks(bad)
    bad.write_text("<!-- doc-test: skip (why) -->\n\n```console\n$ true\n```\n")
    with pytest.raises(ValueError, match="right before"):
        parse_blocks(bad)
