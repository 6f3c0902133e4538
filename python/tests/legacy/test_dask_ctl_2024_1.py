"""dask-ctl 2024.1.0 itself (in a venv pinned to dask==distributed==2023.5.0, the only versions it
loads with) sees daskctl's clusters through the ``dask_cluster_discovery`` entry point."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import daskctl
from conftest import unique, wait_until

dask_ctl = pytest.importorskip("dask_ctl")
# dask-ctl's defaults (ctl.disable_discovery...) are loaded by its CLI module only
pytest.importorskip("dask_ctl.config")


@pytest.fixture(scope="module")
def cluster_name():
    name = unique("pylegacy")
    daskctl.create_cluster("local", 1, name=name, python=sys.executable).close()
    # dask-ctl looks clusters up by the exact name discovery yields: the bare one, unique here
    yield name
    # the last test deleted it through dask-ctl
    with contextlib.suppress(daskctl.ClusterNotFound):
        daskctl.delete_cluster(f"local/{name}")


def test_dask_ctl_is_the_pinned_one():
    from importlib.metadata import version

    import distributed

    assert (version("dask-ctl"), distributed.__version__) == ("2024.1.0", "2023.5.0")


def test_dask_ctl_registers_and_discovers_daskctl(cluster_name):
    from dask_ctl.discovery import discover_cluster_names, list_discovery_methods
    from dask_ctl.utils import loop

    methods = list_discovery_methods()
    assert methods["daskctl"]["package"] == "daskctl" and methods["daskctl"]["enabled"]

    async def names():
        return [(n, cls) async for n, cls in discover_cluster_names("daskctl")]

    found = loop.run_sync(names)
    assert (cluster_name, daskctl.DaskctlCluster) in found, found


def test_dask_ctl_rebuilds_lists_and_scales_it(cluster_name):
    from dask_ctl.lifecycle import get_cluster, list_clusters, scale_cluster

    cluster = get_cluster(cluster_name)
    try:
        assert isinstance(cluster, daskctl.DaskctlCluster)
        assert cluster.scheduler_address == daskctl.describe_cluster(cluster_name)["address"]
        assert len(cluster.scheduler_info["workers"]) == 1
    finally:
        cluster.close()
    listed = list_clusters()
    try:
        assert f"local/{cluster_name}" in [getattr(c, "qualified_name", None) for c in listed]
    finally:
        for c in listed:
            c.close()
    scale_cluster(cluster_name, 2)
    wait_until(lambda: daskctl.describe_cluster(cluster_name)["workers"] == 2, 60, "2 workers")


def test_dask_cluster_list_command_shows_it(cluster_name):
    dask_cli = Path(sys.executable).parent / "dask"
    out = subprocess.run(
        [str(dask_cli), "cluster", "list"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250"},
        check=True,
    )
    assert cluster_name in out.stdout, out.stdout + out.stderr


def test_dask_cluster_scale_and_delete_commands_act_on_it(cluster_name):
    """`dask cluster scale NAME N` by the bare name, and `dask cluster delete NAME` (dask-ctl's
    close) deletes it for real: verified gone, not only "Deleted cluster" printed."""
    dask_cli = Path(sys.executable).parent / "dask"
    subprocess.run([str(dask_cli), "cluster", "scale", cluster_name, "1"], check=True)
    wait_until(lambda: daskctl.describe_cluster(cluster_name)["workers"] == 1, 60, "1 worker")
    subprocess.run([str(dask_cli), "cluster", "delete", cluster_name], check=True)
    with pytest.raises(daskctl.ClusterNotFound):
        daskctl.describe_cluster(cluster_name)
