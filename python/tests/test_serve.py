"""`daskctl serve`'s page in a real headless Chromium: the clusters of the background
discovery rendered as a table, and scale and delete clicked through the page's two-step
questions, acting on a real local cluster (the DOM asserted, a screenshot kept as an artifact);
and, after logging in, nothing a listener on another port of the same host receives from the
browser authenticates to serve."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


@pytest.fixture
def neighbour():
    """A listener on another port of the same host that records every request's headers."""
    seen: list[dict[str, str]] = []

    class Record(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(dict(self.headers.items()))
            body = b"<!doctype html><title>neighbour</title><p id=n>neighbour</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # the browser may move on before it reads the body
            with contextlib.suppress(BrokenPipeError):
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


def replayed(url: str, headers: dict[str, str], path: str) -> int:
    """The status serve answers to a request carrying exactly these headers."""
    keep = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
    req = urllib.request.Request(f"{url}{path}", headers=keep)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.skipif(not BROWSER, reason="no chromium (apt-get install chromium)")
def test_the_page_lists_scales_and_deletes_in_chromium(served, neighbour, tmp_path):
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
            # the token once in the address: the page moves it into this tab's storage and
            # out of the address bar before it asks for anything
            page.goto(f"{served}/?token={TOKEN}")
            row = page.locator(f'tr[data-cluster="{qualified}"]')
            row.wait_for(timeout=30_000)
            assert TOKEN not in page.url, page.url
            assert page.evaluate("history.length") >= 1
            assert row.locator("td.running").inner_text() == "running"
            assert row.locator("td.workers").inner_text() == "1"
            page.screenshot(path=str(artifacts / "daskctl-serve.png"))

            row.locator('input[name="workers"]').fill("2")
            row.locator('button[value="scale"]').click()
            question = page.locator("#confirm")
            question.wait_for(state="visible", timeout=30_000)
            assert question.inner_text() == f"scale {qualified} from 1 to 2 worker(s)"
            assert daskctl.describe_cluster(qualified)["requested_workers"] == 1
            page.locator('button[name="confirmed"]').click()
            page.locator("#done:not([hidden])").wait_for(timeout=150_000)
            assert page.locator("#done").inner_text().startswith(f"scaled {qualified} from 1 to 2")
            assert daskctl.describe_cluster(qualified)["requested_workers"] == 2

            # what the browser holds now reaches no other port: the neighbour, visited
            # directly and through a link from serve's origin, gets nothing that serve takes
            neighbour_url, seen = neighbour
            other = browser.new_page()
            other.goto(f"{neighbour_url}/direct")
            assert other.evaluate("sessionStorage.length") == 0
            other.close()
            page.evaluate(
                """url => { const a = document.createElement('a'); a.href = url;
                            a.id = 'out'; a.textContent = 'out'; document.body.append(a); }""",
                f"{neighbour_url}/linked",
            )
            with page.expect_navigation():
                page.locator("#out").click()
            page.go_back()
            assert len(seen) >= 2, seen
            for headers in seen:
                assert not any(TOKEN in v for v in headers.values()), headers
                # serve's page is never named to the neighbour (its own pages may be)
                assert served not in headers.get("Referer", ""), headers
                assert replayed(served, headers, "/api/view") == 401, headers
                assert replayed(served, headers, "/api/clusters") == 401, headers

            row = page.locator(f'tr[data-cluster="{qualified}"]')
            row.wait_for(timeout=30_000)
            row.locator('button[value="delete"]').click()
            question.wait_for(state="visible", timeout=30_000)
            assert question.inner_text().startswith(f"delete {qualified} (")
            page.locator('button[name="confirmed"]').click()
            page.locator("#done:not([hidden])").wait_for(timeout=150_000)
            assert page.locator("#done").inner_text() == f"deleted {qualified}"
            assert page.locator(f'tr[data-cluster="{qualified}"]').count() == 0
            browser.close()
        assert not any(c["name"] == name for c in daskctl.list_clusters())
    finally:
        if any(c["name"] == name for c in daskctl.list_clusters()):
            daskctl.delete_cluster(qualified)
