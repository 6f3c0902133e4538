"""The Python API against real clusters: a local one daskctl makes with this venv's Python, and
a Slurm one on the test bed when there is one."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import sys

import pytest

import daskctl
from conftest import names, unique, wait_until

distributed = pytest.importorskip("distributed")

from distributed import Client  # noqa: E402
from distributed.deploy.cluster import Cluster  # noqa: E402


@pytest.fixture(scope="module")
def local_cluster():
    name = unique("pyapi")
    cluster = daskctl.create_cluster("local", 1, name=name, python=sys.executable)
    cluster.close()
    yield f"local/{name}"
    with contextlib.suppress(daskctl.ClusterNotFound):
        daskctl.delete_cluster(f"local/{name}")


def workers_of(qualified: str) -> int | None:
    return daskctl.describe_cluster(qualified).get("workers")


def test_list_clusters_has_the_list_json_schema(local_cluster):
    found = [c for c in daskctl.list_clusters() if daskctl.qualified_name(c) == local_cluster]
    assert len(found) == 1, names(daskctl.list_clusters())
    c = found[0]
    for key in ("name", "backend", "origin", "status", "address", "dashboard", "workers"):
        assert key in c
    assert (c["backend"], c["origin"], c["status"], c["workers"]) == (
        "local",
        "daskctl",
        "running",
        1,
    )
    assert {c["backend"] for c in daskctl.list_clusters(backends="local")} == {"local"}


def test_usage_counts_the_cores_held_and_prices_them(local_cluster, monkeypatch):
    # a scheduler (1 core) and one worker of this machine's default threads: at least 2 cores
    c = daskctl.describe_cluster(local_cluster)
    assert c["cores"] >= 2 and c["core_hours"] >= 0, c
    monkeypatch.setenv("DASKCTL_PRICING__CORE_HOUR__LOCAL", "0.5")
    report = daskctl.usage(by="backend", backends="local", idle="1h")
    row = next(r for r in report["rows"] if r["key"] == "local")
    assert row["cores"] >= c["cores"]
    assert row["cost_per_hour"] == pytest.approx(row["cores"] * 0.5)
    assert report["currency"] == "USD" and report["idle_after_seconds"] == 3600
    assert set(report["states"]) == {"busy", "idle", "orphaned"}
    with pytest.raises(daskctl.UsageError):
        daskctl.usage(by="colour")


def test_get_cluster_is_a_dask_cluster_that_clients_use(local_cluster):
    short = local_cluster.split("/", 1)[1]
    description = daskctl.describe_cluster(local_cluster)
    cluster = daskctl.get_cluster(short)
    try:
        assert isinstance(cluster, Cluster)
        assert cluster.name == short and cluster.qualified_name == local_cluster
        assert cluster.scheduler_address == description["address"]
        assert cluster.dashboard_link == description["dashboard"]
        assert len(cluster.scheduler_info["workers"]) == 1
        assert cluster.shutdown_on_close is False
        assert local_cluster in repr(cluster)
        assert short in cluster._repr_html_()  # the notebook widget's HTML
        with Client(cluster) as client:
            assert client.submit(sum, [1, 2, 3]).result() == 6
            assert client.cluster is cluster
    finally:
        cluster.close()


def test_close_and_garbage_collection_leave_the_cluster_running(local_cluster):
    cluster = daskctl.get_cluster(local_cluster)
    cluster.close()
    cluster = daskctl.get_cluster(local_cluster)
    del cluster
    gc.collect()
    c = daskctl.describe_cluster(local_cluster)
    assert c["status"] == "running" and c["workers"] == 1


def test_scale_and_logs_through_the_handle(local_cluster):
    cluster = daskctl.get_cluster(local_cluster)
    try:
        cluster.scale(2)
        cluster.wait_for_workers(2, timeout=60)
        wait_until(lambda: workers_of(local_cluster) == 2, 30, "daskctl to see 2 workers")
        logs = cluster.get_logs()
        assert "Scheduler" in logs and "Scheduler at" in logs["Scheduler"]
        assert len([k for k in logs if k != "Scheduler"]) == 2, list(logs)
        only = cluster.get_logs(workers=False)
        assert list(only) == ["Scheduler"]
        assert set(daskctl.cluster_logs(local_cluster, scheduler=True)) == {"scheduler"}
    finally:
        cluster.close()
    daskctl.scale_cluster(local_cluster, 1, wait=True, timeout=60)
    assert workers_of(local_cluster) == 1


def test_adapt_stores_a_policy_that_outlives_the_handle(local_cluster):
    cluster = daskctl.get_cluster(local_cluster)
    try:
        # no reconcile has applied a policy to it: the call says so
        with pytest.warns(daskctl.DaskctlWarning, match="never applied"):
            cluster.adapt(minimum=1, maximum=2)
        with pytest.raises(TypeError):
            cluster.adapt(minimum=1, maximum=2, interval="1s")
    finally:
        cluster.close()
    described = daskctl.describe_cluster(local_cluster)
    assert described["adapt"]["maximum"] == 2
    assert described["adapt_by"] == "reconcile" and "adapt_applied" not in described
    with pytest.raises(daskctl.UsageError):
        daskctl.adapt_cluster(local_cluster, 3, 1)
    daskctl.adapt_cluster(local_cluster, off=True)
    assert "adapt" not in daskctl.describe_cluster(local_cluster)


def test_asynchronous_handle(local_cluster):
    async def main():
        cluster = await daskctl.get_cluster(local_cluster, asynchronous=True)
        try:
            async with Client(cluster, asynchronous=True) as client:
                assert await client.submit(lambda: 41 + 1) == 42
        finally:
            await cluster.close()
        return cluster.scheduler_address

    assert asyncio.run(main()) == daskctl.describe_cluster(local_cluster)["address"]


def test_shutdown_deletes_and_then_it_is_gone():
    name = unique("pyshut")
    cluster = daskctl.create_cluster("local", 1, name=name, python=sys.executable)
    assert f"local/{name}" in names(daskctl.list_clusters(backends="local"))
    cluster.shutdown()
    assert f"local/{name}" not in names(daskctl.list_clusters(backends="local"))
    with pytest.raises(daskctl.ClusterNotFound):
        daskctl.get_cluster(f"local/{name}")


def test_gateway_clusters_point_to_dask_gateways_client():
    d = {"name": "abc", "backend": "gateway", "status": "running",
         "address": "gateway://127.0.0.1:28786/abc"}  # fmt: skip
    with pytest.raises(daskctl.DaskctlError, match=r"Gateway\(\)\.connect\('abc'\)"):
        daskctl.DaskctlCluster(d)


def test_a_cluster_without_a_scheduler_is_not_connected_to():
    with pytest.raises(daskctl.ClusterNotRunning, match="orphaned"):
        daskctl.DaskctlCluster({"name": "x", "backend": "slurm", "status": "orphaned"})


@pytest.mark.skipif(not os.environ.get("DASKCTL_TEST_SLURM"), reason="no Slurm test bed")
def test_slurm_cluster_from_python():
    name = unique("pyslurm")
    cluster = daskctl.create_cluster("slurm", 1, name=name, timeout=120)
    try:
        assert cluster.qualified_name == f"slurm/{name}"
        cluster.wait_for_workers(1, timeout=120)
        with Client(cluster) as client:
            assert client.submit(lambda: "on slurm").result() == "on slurm"
        assert daskctl.describe_cluster(f"slurm/{name}")["origin"] == "daskctl"
    finally:
        cluster.shutdown()
    with pytest.raises(daskctl.ClusterNotFound):
        daskctl.describe_cluster(f"slurm/{name}")


def test_worker_groups_from_python():
    name = unique("pygroups")
    cluster = daskctl.create_cluster(
        "local", 1, name=name, python=sys.executable, worker_group=["big:1:threads=2"]
    )
    q = f"local/{name}"
    try:
        groups = {g["name"]: g for g in daskctl.describe_cluster(q)["groups"]}
        assert (groups["default"]["workers"], groups["big"]["workers"]) == (1, 1)
        with Client(cluster) as client:
            ran_on = client.submit(
                lambda: __import__("distributed").get_worker().name,
                resources={"big": 1},
                pure=False,
            ).result(timeout=60)
        assert ran_on.startswith(f"{name}-big-")
        cluster.scale(2, worker_group="big")
        wait_until(lambda: workers_of(q) == 3, 60, "big to have 2 workers")
        daskctl.adapt_cluster(q, 1, 2, group="big")
        assert daskctl.describe_cluster(q)["adapt"]["group"] == "big"
        with pytest.raises(daskctl.UsageError, match="no worker group gpu"):
            daskctl.scale_cluster(q, 1, group="gpu")
    finally:
        cluster.shutdown()
