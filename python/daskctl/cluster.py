"""A Dask ``Cluster`` object for a cluster daskctl found: a handle that holds no resource.

Closing or dropping it never stops the cluster (``shutdown_on_close`` is false, as with
dask-gateway's and dask-kubernetes' clusters obtained by name); ``shutdown()`` deletes it.
Needs ``distributed``.
"""

from __future__ import annotations

from typing import Any

from distributed.core import Status, rpc
from distributed.deploy.cluster import Cluster
from distributed.security import Security
from distributed.utils import Logs

from . import _api, _cli
from ._errors import ClusterNotRunning, DaskctlError

# statuses whose scheduler answers (README, "Statuses")
_CONNECTABLE = ("running", "degraded")


class DaskctlCluster(Cluster):
    """A cluster found by daskctl, on any of its backends.

    >>> cluster = DaskctlCluster.from_name("slurm/etl")  # doctest: +SKIP
    >>> client = Client(cluster)  # doctest: +SKIP
    """

    shutdown_on_close = False

    def __init__(
        self,
        description: dict[str, Any],
        *,
        asynchronous: bool = False,
        loop: Any = None,
        security: Security | None = None,
    ):
        if description.get("status") not in _CONNECTABLE or not description.get("address"):
            raise ClusterNotRunning(
                f"{_api.qualified_name(description)} is {description.get('status')}"
                + (f" ({description['reason']})" if description.get("reason") else "")
                + ": there is no scheduler to connect to"
            )
        if str(description.get("address", "")).startswith("gateway://"):
            # the cluster's own TLS certificate is its credential, and only the gateway hands
            # it out (daskctl never writes it anywhere)
            raise DaskctlError(
                f"{_api.qualified_name(description)} runs behind dask-gateway: connect with "
                f"dask_gateway.Gateway().connect({description['name']!r})"
            )
        super().__init__(asynchronous=asynchronous, loop=loop, name=description["name"])
        self.description = description
        #: BACKEND/NAME: what the daskctl command line takes
        self.qualified_name = _api.qualified_name(description)
        self.backend = description["backend"]
        # the same TLS settings a Client of this user would take from the Dask config
        self.security = security or Security()
        self.scheduler_comm = rpc(description["address"], connection_args=self._connection_args())
        if not asynchronous:
            self._loop_runner.start()
            self.sync(self._start)

    def _connection_args(self) -> dict[str, Any]:
        return self.security.get_connection_args("client")

    @classmethod
    def from_name(cls, name: str, *, loop: Any = None, asynchronous: bool = False):
        """The cluster called ``name`` (``NAME`` or ``BACKEND/NAME``), as daskctl describes it.

        With ``asynchronous=True``, await the result.
        """
        return cls(_api.describe_cluster(name), loop=loop, asynchronous=asynchronous)

    def __await__(self):
        async def _():
            if self.status == Status.created:
                await self._start()
            return self

        return _().__await__()

    async def _start(self):
        await super()._start()
        # the scheduler's stored cluster-manager-info names the manager that made the cluster;
        # this handle keeps daskctl's name
        self.name = self.description["name"]

    async def _sync_cluster_info(self):
        # A handle must not rewrite the scheduler's cluster-manager-info: the manager that made
        # the cluster (a notebook's SLURMCluster, say) may still be writing its own.
        return

    @property
    def dashboard_link(self) -> str:
        return self.description.get("dashboard") or super().dashboard_link

    def scale(self, n: int, worker_group: str | None = None) -> Any:
        """Ask daskctl for ``n`` workers (``daskctl scale NAME n``), in ``worker_group`` if given
        (as ``KubeCluster.scale`` takes it); returns at once."""
        return self.sync(self._scale, n, worker_group)

    async def _scale(self, n: int, worker_group: str | None = None) -> None:
        args = _api._scale_args(self.qualified_name, n, False, None, worker_group)
        await _cli.run_async(args, parse=False)

    def adapt(self, minimum: int = 0, maximum: int | None = None, **kwargs: Any) -> Any:
        """Adaptive scaling that outlives this process: the bounds are stored with the cluster
        (``daskctl adapt``) and applied by ``daskctl reconcile`` or the platform's own autoscaler,
        not by a Dask ``Adaptive`` running here. A ``DaskctlWarning`` says when no reconcile has
        applied this cluster's policy yet (nothing changes its size until one runs). Other
        keyword arguments are refused."""
        if kwargs:
            raise TypeError(f"adapt() takes minimum and maximum only, not {sorted(kwargs)}")
        return self.sync(self._adapt, minimum, maximum)

    async def _adapt(self, minimum: int, maximum: int | None) -> None:
        await _cli.run_async(
            _api._adapt_args(self.qualified_name, minimum, maximum, False), parse=False, warn=True
        )

    def get_logs(self, cluster: bool = True, scheduler: bool = True, workers: bool = True):
        """The logs daskctl reads for this cluster (job output, pod logs, log files...)."""
        return self.sync(self._get_logs, cluster, scheduler, workers)

    async def _get_logs(self, cluster=True, scheduler=True, workers=True):
        logs = Logs()
        if not (scheduler or workers):
            return logs
        args = _api._logs_args(self.qualified_name, scheduler and not workers)
        by_source = _api.group_log_lines(await _cli.run_async(args, parse=False))
        for source, text in by_source.items():
            is_scheduler = source == "scheduler"
            if (is_scheduler and scheduler) or (not is_scheduler and workers):
                logs["Scheduler" if is_scheduler else source] = text
        return logs

    def close(self, timeout: float | None = None) -> Any:
        """Let go of the cluster: the connection to its scheduler closes, the cluster runs on.

        Called by dask-ctl's ``delete_cluster`` (``dask cluster delete NAME``), whose meaning is
        "close the cluster", it deletes it (``shutdown``): dask-ctl would otherwise print
        "Deleted cluster" while it runs on. Garbage collection and any other caller only let go.
        """
        if _called_by_dask_ctl_delete():
            return self.shutdown()
        result = super().close(timeout)
        if not self.asynchronous:
            self._loop_runner.stop()
        return result

    def shutdown(self) -> Any:
        """Delete the cluster (``daskctl delete NAME --yes --wait``) and close this handle."""
        result = self.sync(self._shutdown)
        if not self.asynchronous:
            self._loop_runner.stop()
        return result

    async def _shutdown(self) -> None:
        await self._close()
        await _cli.run_async(_api._delete_args(self.qualified_name, True, None), parse=False)

    def __repr__(self) -> str:
        return super().__repr__().replace(self.name, self.qualified_name, 1)


def _called_by_dask_ctl_delete() -> bool:
    """Whether ``close`` was called by dask-ctl's ``lifecycle.delete_cluster``."""
    import sys

    caller = sys._getframe(2)
    return (
        caller.f_code.co_name == "delete_cluster"
        and caller.f_globals.get("__name__") == "dask_ctl.lifecycle"
    )
