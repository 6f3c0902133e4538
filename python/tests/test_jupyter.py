"""The Jupyter server extension in a real JupyterLab with dask-labextension 7 (headless, on
loopback, token auth): its REST API, and once the page itself in a real headless Chromium."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import daskctl
from conftest import unique, wait_until

pytest.importorskip("dask_labextension")
pytest.importorskip("jupyterlab")

UUID_SHAPED = re.compile(r"^\w+-\w+-\w+-\w+-\w+$")


class Lab:
    def __init__(self, url: str, token: str, log: Path):
        self.url, self.token, self.log = url, token, log

    def request(self, method: str, path: str, body=None, token: bool = True):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            req.add_header("Authorization", f"token {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def clusters(self) -> list[dict]:
        status, body = self.request("GET", "/dask/clusters")
        assert status == 200, body
        return body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(daskctl_env, tmp_path_factory):
    d = tmp_path_factory.mktemp("lab")
    (d / "home").mkdir()
    # discovery every half second; the extension's own clusters small and off the default ports
    (daskctl_env / "dask" / "daskctl-test.yaml").write_text(
        "daskctl:\n  jupyter:\n    interval: 0.5\n"
        "labextension:\n  factory:\n    kwargs:\n      n_workers: 1\n"
        "      dashboard_address: ':0'\n"
    )
    port, token = free_port(), secrets.token_hex(16)
    argv = [
        str(Path(sys.executable).parent / "jupyter"),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
    ]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    log = d / "lab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, env={**os.environ, "HOME": str(d / "home")}, stdout=out, stderr=out, cwd=d
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, log)

    def ready():
        assert proc.poll() is None, log.read_text()
        try:
            return lab.request("GET", "/api/status")[0] == 200
        except OSError:
            return False

    wait_until(ready, 90, "jupyter lab to answer")
    yield lab
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def found(lab):
    """A cluster daskctl made, and the extension's own LocalCluster started before it."""
    status, own = lab.request("PUT", "/dask/clusters")
    assert status == 200, own
    name = unique("pylab")
    daskctl.create_cluster("local", 1, name=name, python=sys.executable).close()
    qualified = f"local/{name}"

    def listed():
        return next((m for m in lab.clusters() if m["name"] == qualified), None)

    # the first snapshot that has the new cluster was taken after the LocalCluster started
    model = wait_until(listed, 60, f"{qualified} in GET /dask/clusters")
    yield {"qualified": qualified, "model": model, "own": own}
    with contextlib.suppress(daskctl.ClusterNotFound):
        daskctl.delete_cluster(qualified)
    lab.request("DELETE", f"/dask/clusters/{own['id']}")


def test_extension_loaded_and_said_so(lab):
    assert "daskctl: clusters daskctl discovers are shown in the Dask sidebar" in (
        lab.log.read_text()
    )


def test_token_is_required(lab):
    status, _ = lab.request("GET", "/dask/clusters", token=False)
    assert status == 403


def test_discovered_cluster_is_listed_with_a_stable_uuid_shaped_id(lab, found):
    model = found["model"]
    description = daskctl.describe_cluster(found["qualified"])
    assert UUID_SHAPED.match(model["id"]), model
    assert model["scheduler_address"] == description["address"]
    assert model["dashboard_link"] == description["dashboard"]
    assert (model["workers"], model["cores"]) == (1, description["threads"])
    assert model["memory"].endswith("B"), model  # dask's format_bytes, as the sidebar shows
    status, again = lab.request("GET", f"/dask/clusters/{model['id']}")
    assert status == 200 and again["id"] == model["id"]


def test_the_extensions_own_cluster_is_listed_once(lab, found):
    own = found["own"]
    address = own["scheduler_address"]
    port = address.rsplit(":", 1)[1]
    same = [m for m in lab.clusters() if m["scheduler_address"].endswith(f":{port}")]
    assert [m["id"] for m in same] == [own["id"]], same


def test_scale_a_discovered_cluster_from_the_sidebar(lab, found):
    cid = found["model"]["id"]
    status, body = lab.request("PATCH", f"/dask/clusters/{cid}", {"workers": 2})
    assert status == 200, body
    wait_until(
        lambda: daskctl.describe_cluster(found["qualified"])["workers"] == 2, 60, "2 workers"
    )
    wait_until(
        lambda: any(m["id"] == cid and m["workers"] == 2 for m in lab.clusters()),
        30,
        "the sidebar to show 2 workers",
    )


def test_adapt_a_discovered_cluster_stores_its_policy(lab, found):
    cid, qualified = found["model"]["id"], found["qualified"]
    status, body = lab.request(
        "PATCH", f"/dask/clusters/{cid}", {"adapt": {"minimum": 1, "maximum": 3}}
    )
    assert status == 200, body
    assert body["adapt"] == {"minimum": 1, "maximum": 3}
    assert daskctl.describe_cluster(qualified)["adapt"]["maximum"] == 3
    wait_until(
        lambda: any(m["id"] == cid and m.get("adapt") for m in lab.clusters()),
        30,
        "the sidebar to show the cluster as adaptive",
    )
    # and, until a daskctl reconcile applies them, that its bounds are not at work
    (model,) = [m for m in lab.clusters() if m["id"] == cid]
    assert "adapt: never applied" in model["name"], model
    # a fixed size from the sidebar ends it, as daskctl scale does
    status, body = lab.request("PATCH", f"/dask/clusters/{cid}", {"workers": 2})
    assert status == 200 and "adapt" not in body, body
    assert "adapt" not in daskctl.describe_cluster(qualified)
    status, body = lab.request("PATCH", f"/dask/clusters/{cid}", {"workers": "many"})
    assert status == 400, body


def test_adapt_where_no_policy_can_be_kept_is_a_clear_400(lab):
    port = free_port()
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", str(port), "--dashboard-address", "127.0.0.1:0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        name = f"local/port-{port}"
        model = wait_until(
            lambda: next((m for m in lab.clusters() if m["name"] == name), None),
            60,
            f"{name} in the sidebar",
        )
        status, body = lab.request(
            "PATCH", f"/dask/clusters/{model['id']}", {"adapt": {"minimum": 0, "maximum": 2}}
        )
        assert status == 400, body
        assert "cannot keep an adaptive policy" in body["message"], body
    finally:
        scheduler.terminate()
        scheduler.wait(30)


def test_the_extensions_own_clusters_still_scale(lab, found):
    own = found["own"]["id"]
    status, body = lab.request("PATCH", f"/dask/clusters/{own}", {"workers": 2})
    assert status == 200 and body["id"] == own, body


def test_shut_down_a_discovered_cluster_from_the_sidebar(lab, found):
    cid = found["model"]["id"]
    status, body = lab.request("DELETE", f"/dask/clusters/{cid}")
    assert status == 204, body
    # verified gone before the 204: daskctl no longer finds it
    with pytest.raises(daskctl.ClusterNotFound):
        daskctl.describe_cluster(found["qualified"])
    assert all(m["id"] != cid for m in lab.clusters())


def test_unknown_dask_labextension_versions_are_refused_loudly(monkeypatch, caplog):
    import dask_labextension

    from daskctl import jupyter

    assert jupyter.known_version(dask_labextension.__version__)
    monkeypatch.setattr(dask_labextension, "__version__", "8.0.0")
    with caplog.at_level("ERROR", logger="daskctl.jupyter"):
        assert jupyter.install() is None
    assert "dask-labextension 8.0.0 is not a version daskctl knows" in caplog.text


def test_without_daskctl_the_sidebar_is_left_alone(monkeypatch, caplog, tmp_path):
    from dask_labextension import manager as manager_module

    from daskctl import jupyter

    before = manager_module.manager
    monkeypatch.setenv("DASKCTL_BINARY", str(tmp_path / "missing"))
    with caplog.at_level("WARNING", logger="daskctl.jupyter"):
        assert jupyter.install() is None
    assert manager_module.manager is before
    assert "shows only its own clusters" in caplog.text


BROWSER = os.environ.get("DASKCTL_TEST_BROWSER") or shutil.which("chromium")


@pytest.mark.skipif(not BROWSER, reason="no chromium (apt-get install chromium)")
def test_the_sidebar_renders_a_discovered_cluster_in_chromium(lab, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    name = unique("pybrowser")
    daskctl.create_cluster("local", 1, name=name, python=sys.executable).close()
    qualified = f"local/{name}"
    wait_until(
        lambda: any(m["name"] == qualified for m in lab.clusters()), 60, f"{qualified} listed"
    )
    artifacts = Path(os.environ.get("DASKCTL_TEST_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=BROWSER,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{lab.url}/lab?token={lab.token}")
            page.locator('[data-id="dask-dashboard-launcher"]').first.click(timeout=90_000)
            title = page.locator(".dask-ClusterListingItem-title", has_text=qualified)
            title.wait_for(timeout=60_000)
            page.screenshot(path=str(artifacts / "jupyterlab-dask-sidebar.png"))
            assert title.inner_text() == qualified
            browser.close()
    finally:
        daskctl.delete_cluster(qualified)


def test_a_slow_discovery_never_blocks_the_sidebar(tmp_path, monkeypatch):
    """GET /dask/clusters answers from the last snapshot while a discovery is still running."""
    import asyncio

    from daskctl import jupyter

    gate = tmp_path / "gate"
    os.mkfifo(gate)
    listing = [
        {"name": "slow", "backend": "slurm", "status": "running", "address": "tcp://h:1",
         "dashboard": None, "workers": 3, "threads": 6, "memory": 3 * 2**30}
    ]  # fmt: skip
    fake = tmp_path / "daskctl"
    # a daskctl whose discovery takes as long as the test wants: it waits on the fifo
    fake.write_text(f"#!/bin/sh\ncat {gate} >/dev/null\necho '{json.dumps(listing)}'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("DASKCTL_BINARY", str(fake))

    class Own:
        def list_clusters(self):
            return []

        def get_cluster(self, cid):
            return None

    async def main():
        manager = jupyter.DiscoveringManager(Own(), interval=60)
        assert manager.list_clusters() == []  # started a discovery, did not wait for it
        assert manager._refreshing is not None and not manager._refreshing.done()
        assert manager.list_clusters() == []  # still running: no second one, no waiting
        await asyncio.to_thread(gate.write_text, "go")
        await manager._refreshing
        [model] = manager.list_clusters()
        assert model["name"] == "slurm/slow" and model["workers"] == 3
        assert model["memory"] == "3.00 GiB" and model["cores"] == 6
        assert manager.get_cluster(model["id"]) == model
        with pytest.raises(jupyter.AdaptNotSupported):
            manager.adapt_cluster(model["id"], 1, 2)

    asyncio.run(main())
