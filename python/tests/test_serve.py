"""`daskctl serve`'s page in a real headless Chromium: the clusters of the background
discovery rendered as a table, and scale and delete clicked through the page's two-step forms,
acting on a real local cluster (the DOM asserted, a screenshot kept as an artifact)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import daskctl
from conftest import unique, wait_until

BROWSER = os.environ.get("DASKCTL_TEST_BROWSER") or shutil.which("chromium")
TOKEN = "browser-test-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served():
    port = free_port()
    env = dict(os.environ, DASKCTL_SERVE_TOKEN=TOKEN)
    proc = subprocess.Popen(
        [daskctl.find_daskctl_bin(), "serve", "--bind", f"127.0.0.1:{port}", "--interval", "1s"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def listening():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    wait_until(listening, 30, "daskctl serve to listen")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    assert proc.wait(timeout=30) == 0


def listed(url: str, name: str, status: str | None = None) -> bool:
    """Whether serve's snapshot has the cluster (in that status, when given)."""
    req = urllib.request.Request(
        f"{url}/api/clusters", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return any(c["name"] == name and status in (None, c["status"]) for c in json.load(r))


@pytest.mark.skipif(not BROWSER, reason="no chromium (apt-get install chromium)")
def test_the_page_lists_scales_and_deletes_in_chromium(served, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    name = unique("served")
    daskctl.create_cluster("local", 1, name=name, python=sys.executable).close()
    qualified = f"local/{name}"
    # the first snapshot that has it may be one taken while it was being created (pending):
    # the page is loaded once a snapshot shows it running, as the assertions below expect
    wait_until(lambda: listed(served, name, "running"), 60, f"{qualified} running in the snapshot")
    artifacts = Path(os.environ.get("DASKCTL_TEST_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=BROWSER,
                args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update",
                      "--disable-sync"],
            )  # fmt: skip
            page = browser.new_page(viewport={"width": 1400, "height": 700})
            # the token once in the address; the cookie it sets carries it after
            page.goto(f"{served}/?token={TOKEN}")
            row = page.locator(f'tr[data-cluster="{qualified}"]')
            row.wait_for(timeout=30_000)
            assert row.locator("td.running").inner_text() == "running"
            assert row.locator("td.workers").inner_text() == "1"
            page.screenshot(path=str(artifacts / "daskctl-serve.png"))

            row.locator('input[name="workers"]').fill("2")
            row.locator('button[value="scale"]').click()
            question = page.locator("#confirm")
            assert question.inner_text() == f"scale {qualified} from 1 to 2 worker(s)?"
            assert daskctl.describe_cluster(qualified)["requested_workers"] == 1
            page.locator('button[name="confirmed"]').click()
            assert page.locator("#done").inner_text().startswith(f"scaled {qualified} from 1 to 2")
            assert daskctl.describe_cluster(qualified)["requested_workers"] == 2

            page.locator(f'tr[data-cluster="{qualified}"] button[value="delete"]').click()
            assert page.locator("#confirm").inner_text().startswith(f"delete {qualified} (")
            page.locator('button[name="confirmed"]').click()
            assert page.locator("#done").inner_text() == f"deleted {qualified}"
            assert page.locator(f'tr[data-cluster="{qualified}"]').count() == 0
            browser.close()
        assert not any(c["name"] == name for c in daskctl.list_clusters())
    finally:
        if any(c["name"] == name for c in daskctl.list_clusters()):
            daskctl.delete_cluster(qualified)
