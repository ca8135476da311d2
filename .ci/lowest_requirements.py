"""Print the lowest versions pyproject.toml declares, one ``name==version`` a line.

Used by .ci/run as a pip constraints file: installing the package with it proves that the
declared lower bounds are true. ``--extra NAME`` adds that optional-dependency group.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

BOUND = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(?:>=|==)\s*([^,;\s]+)")


def lowest(requirements: list[str]) -> list[str]:
    pins = []
    for req in requirements:
        m = BOUND.match(req)
        if m is None:
            raise SystemExit(f"no lower bound declared for {req!r}")
        pins.append(f"{m[1]}=={m[3]}")
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def expand(requirements: list[str], project: str, extras: dict[str, list[str]]) -> list[str]:
    """``requirements`` with the project's own extras (``wstp-jupyter[woxi]``) replaced by
    what those extras require: they name no version of their own."""
    out: list[str] = []
    for req in requirements:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\[([^\]]*)\]\s*$", req)
        if m is not None and _normal(m[1]) == _normal(project):
            for extra in m[2].split(","):
                out += expand(extras[extra.strip()], project, extras)
        else:
            out.append(req)
    return out


def main(argv: list[str]) -> None:
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    reqs = list(project["project"]["dependencies"])
    extras = project["project"].get("optional-dependencies", {})
    for i, arg in enumerate(argv):
        if arg == "--extra":
            reqs += extras[argv[i + 1]]
    print("\n".join(lowest(expand(reqs, project["project"]["name"], extras))))


if __name__ == "__main__":
    main(sys.argv[1:])
