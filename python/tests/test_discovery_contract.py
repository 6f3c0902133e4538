"""dask-ctl's discovery contract, called the way dask-ctl calls it: iterate the
``dask_cluster_discovery`` entry points, call each, and rebuild with ``cls.from_name(name)``."""

from __future__ import annotations

import asyncio
import sys
from importlib import metadata

import pytest

import daskctl
from conftest import unique
from daskctl.discovery import discover

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster_name():
    name = unique("pyctl")
    daskctl.create_cluster("local", 1, name=name, python=sys.executable).close()
    # yielded by its bare name, unique among the backends (dask-ctl looks names up exactly)
    yield name
    daskctl.delete_cluster(f"local/{name}")


async def discovered() -> list[tuple[str, type]]:
    found = []
    for ep in metadata.entry_points(group="dask_cluster_discovery"):
        discover = ep.load()
        # dask-ctl's AsyncTimedIterable gives each item 5 seconds
        iterator = discover().__aiter__()
        while True:
            try:
                found.append(await asyncio.wait_for(iterator.__anext__(), 5))
            except StopAsyncIteration:
                break
    return found


def test_entry_point_yields_names_and_a_class_that_rebuilds_them(cluster_name):
    found = asyncio.run(discovered())
    ours = [(n, cls) for n, cls in found if n == cluster_name]
    assert len(ours) == 1, found
    name, cls = ours[0]
    cluster = cls.from_name(name)
    try:
        assert cluster.scheduler_address == daskctl.describe_cluster(name)["address"]
        assert len(cluster.scheduler_info["workers"]) == 1
    finally:
        cluster.close()


def test_from_name_inside_a_running_loop(cluster_name):
    # dask-ctl calls from_name from inside its own async generator
    async def main():
        async for name, cls in discover():
            if name == cluster_name:
                cluster = cls.from_name(name)
                cluster.close()
                return cluster.name
        return None

    assert asyncio.run(main()) == cluster_name
