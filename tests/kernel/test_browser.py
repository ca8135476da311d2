"""JupyterLab in headless Chromium: pick the kernel in the launcher, type cells, see a plot.

JupyterLab runs on 127.0.0.1 with the token disabled and a temporary root directory, settings and
workspaces, so nothing of the user's setup is read or written. The browser may only talk to that
server: every other request is aborted, name resolution is disabled, and JupyterLab's news and
update checks are off. A screenshot is saved as ``artifacts/jupyterlab.png``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
DISPLAY_NAME = "Wolfram Language (Mathics3)"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium's path, installed with the project's script when missing."""
    if not Path(CHROMIUM).exists():
        subprocess.run(["bash", str(REPO / "scripts" / "install-system-deps.sh")], check=True,
                       timeout=900)
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium could not be installed by scripts/install-system-deps.sh")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-default-apps", "--no-pings",
    "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
# WebGL (the 3D views) on Chromium's software renderer.
_WEBGL_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


@contextmanager
def local_page(
    chromium: str, url: str, *, height: int = 900, webgl: bool = False,
    blocked: list[str] | None = None,
) -> Iterator[Any]:
    """A page of headless Chromium that reaches only the server at ``url``: every other
    request is refused (and its URL appended to ``blocked`` when given). The browser is
    closed afterwards."""
    from playwright.sync_api import sync_playwright

    args = _CHROMIUM_ARGS + (_WEBGL_ARGS if webgl else ["--disable-gpu"])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=args)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": height})
            context.route("**/*", _only_local(url))
            if blocked is not None:
                context.on("requestfailed", lambda r: blocked.append(r.url))
            page = context.new_page()
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


@contextmanager
def serve_jupyter(
    app: str, title: str, tmp_path: Path, root: Path, extra: list[str]
) -> Iterator[str]:
    """Run ``jupyter APP`` on 127.0.0.1 (token off, temporary config and runtime directories,
    serving ``root``) until it answers ``/api/status``; yield its URL, stop it afterwards.
    ``title`` names it in the failure that shows its log when it does not start."""
    port = _free_port()
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    log_path = tmp_path / f"{app}.log"
    log = open(log_path, "w")  # noqa: SIM115 -- closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", app, "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         "--IdentityProvider.token=", "--ServerApp.password=",
         f"--ServerApp.root_dir={root}", *extra,
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"{title} did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "root"
    root.mkdir()
    with serve_jupyter("lab", "JupyterLab", tmp_path, root, [
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]) as url:
        yield url


def _only_local(url: str) -> Any:
    def route(route: Any) -> None:
        if route.request.url.startswith(url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            route.abort()

    return route


def _run_cell(page: Any, index: int, code: str) -> Any:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    cell = page.locator(".jp-NotebookPanel .jp-CodeCell").nth(index)
    editor = cell.locator(".cm-content")
    # Keystrokes sent while a freshly opened notebook is still wiring up its editor can be lost
    # (seen on a first start after installation): type again until the text is really there,
    # and run the cell only then.
    for attempt in range(3):
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.type(code)
        try:
            expect(editor).to_contain_text(code.split(maxsplit=1)[0], timeout=5_000)
            break
        except (AssertionError, PlaywrightError):
            if attempt == 2:
                raise
    page.keyboard.press("Shift+Enter")
    return cell


@pytest.mark.timeout(240)
def test_jupyterlab_runs_cells_and_shows_a_plot(
    chromium: str, jupyterlab: str, artifact_dir: Path
) -> None:
    from playwright.sync_api import expect

    blocked: list[str] = []
    with local_page(chromium, jupyterlab, height=900, blocked=blocked) as page:
        page.goto(f"{jupyterlab}/lab")

        card = page.locator(".jp-LauncherCard[data-category='Notebook']",
                            has_text=DISPLAY_NAME)
        expect(card).to_be_visible(timeout=90_000)
        card.click()
        expect(page.locator(".jp-NotebookPanel .jp-CodeCell").first).to_be_visible()
        # The kernel name in the toolbar confirms which kernel the notebook got.
        expect(page.locator(".jp-NotebookPanel-toolbar")).to_contain_text(DISPLAY_NAME)

        # The first start after installation can be slow; run nothing before the kernel is up.
        expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=120_000)
        first = _run_cell(page, 0, "1 + 1")
        expect(first.locator(".jp-OutputArea-output")).to_contain_text("2", timeout=120_000)
        expect(first.locator(".jp-InputArea-prompt")).to_contain_text("[1]")

        second = _run_cell(page, 1, 'Print["hello from Mathics3"]; Expand[(a + b)^2]')
        expect(second.locator(".jp-OutputArea")).to_contain_text("hello from Mathics3")

        third = _run_cell(page, 2, "Plot[Sin[x], {x, 0, 2 Pi}]")
        plot = third.locator(".jp-OutputArea-output svg, .jp-OutputArea-output img")
        expect(plot.first).to_be_visible(timeout=60_000)
        box = plot.first.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50

        # The input is highlighted: CodeMirror's Mathematica mode styles its tokens.
        styled = first.locator(".cm-content span[class]")
        assert styled.count() >= 1

        page.screenshot(path=str(artifact_dir / "jupyterlab.png"), full_page=True)
    outside = [u for u in blocked if not u.startswith(jupyterlab)]
    # Anything blocked was an attempt to leave the machine; record it for the reader.
    (artifact_dir / "jupyterlab-blocked-requests.txt").write_text("\n".join(outside) + "\n")
