"""daskctl from Python: find, describe, scale, read the logs of and delete Dask clusters on
every backend daskctl knows (local, Slurm, PBS, SGE, HTCondor, LSF, Moab, Kubernetes, AWS,
dask-gateway), dask-mpi jobs included.

Each call runs the daskctl binary installed with this package; errors are the exceptions for its
exit codes (``ClusterNotFound``, ``UsageError``...). ``get_cluster`` and ``create_cluster``
return a Dask ``Cluster`` object and need ``distributed``.
"""

from __future__ import annotations

from ._api import (
    adapt_cluster,
    cluster_logs,
    delete_cluster,
    describe_cluster,
    list_clusters,
    qualified_name,
    scale_cluster,
    usage,
)
from ._binary import find_daskctl_bin
from ._errors import (
    ClusterNotFound,
    ClusterNotRunning,
    DaskctlError,
    DaskctlNotFound,
    DaskctlWarning,
    Interrupted,
    PartialFailure,
    Refused,
    UsageError,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (8 ms)
if TYPE_CHECKING:
    from typing import Any

    from .cluster import DaskctlCluster

__all__ = [
    "ClusterNotFound",
    "ClusterNotRunning",
    "DaskctlCluster",
    "DaskctlError",
    "DaskctlNotFound",
    "DaskctlWarning",
    "Interrupted",
    "PartialFailure",
    "Refused",
    "UsageError",
    "__version__",
    "adapt_cluster",
    "cluster_logs",
    "create_cluster",
    "delete_cluster",
    "describe_cluster",
    "find_daskctl_bin",
    "get_cluster",
    "list_clusters",
    "qualified_name",
    "scale_cluster",
    "usage",
]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("daskctl")
    except PackageNotFoundError:
        return "0+unknown"


def get_cluster(name: str, *, asynchronous: bool = False, **kwargs: Any) -> DaskctlCluster:
    """The cluster ``name`` (``NAME`` or ``BACKEND/NAME``) as a Dask ``Cluster`` object.

    The object holds nothing: ``close()`` lets go of it, the cluster runs on; ``shutdown()``
    deletes it. Raises ``ClusterNotFound`` if there is no such cluster and
    ``ClusterNotRunning`` if its scheduler is not up.
    """
    from .cluster import DaskctlCluster

    return DaskctlCluster.from_name(name, asynchronous=asynchronous, **kwargs)


def create_cluster(
    backend: str, workers: int = 2, *, name: str | None = None, **options: Any
) -> DaskctlCluster:
    """Create a cluster (``daskctl create BACKEND``) and return it as a Dask ``Cluster``.

    Keyword options are ``daskctl create`` flags: ``partition="debug"``, ``walltime="01:00:00"``,
    ``job_extra=["--qos=high"]``, ``spot=True``, ``options={"worker_cores": 2}`` (gateway).
    """
    from . import _cli
    from ._api import create_args
    from .cluster import DaskctlCluster

    description = _cli.run(create_args(backend, workers, name, options))
    try:
        return DaskctlCluster(description)
    except Exception as e:
        # what happened, said as it happened: the cluster exists, the handle does not
        raise DaskctlError(
            f"created {qualified_name(description)}, but could not connect to it: {e} "
            f"(daskctl delete {qualified_name(description)} removes it)"
        ) from e


def __getattr__(name: str) -> Any:
    # looked up on first use: importlib.metadata and distributed cost more than daskctl itself
    if name == "__version__":
        return _version()
    if name == "DaskctlCluster":
        from .cluster import DaskctlCluster

        return DaskctlCluster
    raise AttributeError(f"module 'daskctl' has no attribute {name!r}")
