"""dask-ctl's discovery contract (entry point group ``dask_cluster_discovery``).

dask-ctl iterates the group's entry points, calls each (an async generator of ``(name, cls)``)
and rebuilds every cluster with ``cls.from_name(name)``; it gives up on a generator whose next
item takes more than 5 seconds, so each backend gets a 4-second deadline here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from . import _api, _cli
from ._errors import PartialFailure

DEADLINE = "4s"


async def discover() -> AsyncIterator[tuple[str, type]]:
    """Yield ``(BACKEND/NAME, DaskctlCluster)`` for every cluster daskctl finds."""
    from .cluster import DaskctlCluster

    try:
        found = await _cli.run_async(["list", "-o", "json", "--timeout", DEADLINE])
    except PartialFailure as e:
        # the backends that answered still count; dask-ctl has no channel for the failure
        found = e.data if isinstance(e.data, list) else []
    # dask-ctl looks a cluster up by the exact name yielded (`dask cluster scale etl 2`): the
    # bare name where only one backend has it, BACKEND/NAME where several do
    counts: dict[str, int] = {}
    for d in found:
        counts[d["name"]] = counts.get(d["name"], 0) + 1
    for description in found:
        name = description["name"]
        yield (name if counts[name] == 1 else _api.qualified_name(description)), DaskctlCluster
