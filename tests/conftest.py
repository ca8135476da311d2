"""Fixtures shared by every test package: where tests leave artifacts for humans to look at.

Artifacts (screenshots, executed notebooks, logs) go to ``artifacts/`` at the repository root,
or to ``$WSTP_JUPYTER_ARTIFACTS`` when set, so CI can collect them; the directory is ignored by
git. Everything else belongs in each package's own conftest.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def artifact_dir() -> Path:
    """A directory for test artifacts that survive the run (created on first use)."""
    path = Path(os.environ.get("WSTP_JUPYTER_ARTIFACTS", REPO_ROOT / "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
