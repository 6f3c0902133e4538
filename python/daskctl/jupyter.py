"""Jupyter server extension: every cluster daskctl finds, in dask-labextension's Dask sidebar.

dask-labextension 7.x serves the sidebar from one module-level ``DaskClusterManager`` (``manager``
in ``dask_labextension.manager``, imported by its cluster and dashboard handlers) that knows only
the clusters it launched. This extension puts a ``DiscoveringManager`` in its place: the same
clusters plus daskctl's, read from a background ``daskctl list -o json`` so that no request
waits on a slow backend. Scale, adapt and shut down act through daskctl on discovered clusters
(adapt stores the policy with the cluster, `daskctl adapt`; where a cluster cannot keep one the
answer is a 400 saying why). With another dask-labextension major version, or no daskctl binary,
it logs why and leaves the sidebar as it was.

Settings (Dask config): ``daskctl.jupyter.interval`` (seconds between discoveries, default 5),
``daskctl.jupyter.timeout`` (each backend's deadline, default "4s").
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

from . import _api, _cli
from ._binary import find_daskctl_bin
from ._errors import ClusterNotFound, DaskctlError, PartialFailure, Refused, UsageError

log = logging.getLogger("daskctl.jupyter")

#: dask-labextension majors whose manager and handlers this extension knows
KNOWN_MAJORS = (7,)
# ids are UUID-shaped: the sidebar's routes match \w+-\w+-\w+-\w+-\w+
_ID_NAMESPACE = uuid.UUID("0b6a3f38-5c1e-4c8e-9d0a-8d6b7f3f2a11")
_LOOPBACK = ("127.", "localhost", "0.0.0.0", "[::1]", "::1")


class AdaptNotSupported(DaskctlError):
    """The synchronous adapt of dask-labextension's manager cannot run daskctl: the patched
    handler calls ``adapt_discovered`` instead."""


def cluster_id(description: dict[str, Any]) -> str:
    """A stable UUID-shaped id for BACKEND/NAME."""
    return str(uuid.uuid5(_ID_NAMESPACE, _api.qualified_name(description)))


def cluster_model(description: dict[str, Any]) -> dict[str, Any]:
    """The sidebar's model of a cluster (dask_labextension.manager.make_cluster_model's keys)."""
    from dask.utils import format_bytes

    name = _api.qualified_name(description)
    if description.get("status") not in ("running", "degraded"):
        name += f" ({description.get('status')})"
    if adapt_never_applied(description):
        # the sidebar shows the bounds as if they were at work: the name says they are not yet
        name += " (adapt: never applied, schedule daskctl reconcile)"
    return {
        "id": cluster_id(description),
        "name": name,
        "scheduler_address": description.get("address") or "",
        "dashboard_link": description.get("dashboard") or "",
        "workers": description.get("workers") or 0,
        "memory": format_bytes(description.get("memory") or 0),
        "cores": description.get("threads") or 0,
        # the sidebar shows a cluster with bounds as adaptive
        **(
            {"adapt": {k: description["adapt"][k] for k in ("minimum", "maximum")}}
            if description.get("adapt")
            else {}
        ),
    }


def adapt_never_applied(description: dict[str, Any]) -> bool:
    """Bounds daskctl keeps that no ``daskctl reconcile`` pass has applied (the platform's own
    autoscaler applies its bounds itself)."""
    return bool(
        description.get("adapt")
        and description.get("adapt_by") == "reconcile"
        and not description.get("adapt_applied")
    )


def _endpoint(address: str) -> str:
    """``host:port`` of a scheduler address, loopback spellings made one."""
    rest = address.split("://", 1)[-1]
    host, _, port = rest.rpartition(":")
    return f"loopback:{port}" if host.startswith(_LOOPBACK) else rest


class DiscoveringManager:
    """dask-labextension's manager, plus the clusters daskctl discovers."""

    def __init__(self, inner: Any, interval: float = 5.0, timeout: str = "4s"):
        self._inner = inner
        self._interval = interval
        self._timeout = timeout
        self._found: dict[str, dict[str, Any]] = {}  # id -> daskctl's description
        self._fetched_at = float("-inf")
        self._refreshing: asyncio.Task | None = None

    def __getattr__(self, name: str) -> Any:
        # start_cluster, initialized, ...: the manager's own
        return getattr(self._inner, name)

    # discovery ------------------------------------------------------------------------------

    def refresh_soon(self, *, now: bool = False) -> None:
        """Start a discovery in the background unless one runs or the last one is recent."""
        if self._refreshing is not None and not self._refreshing.done():
            return
        if now or time.monotonic() - self._fetched_at >= self._interval:
            self._refreshing = asyncio.ensure_future(self._refresh())

    async def _refresh(self) -> None:
        try:
            found = await _cli.run_async(["list", "-o", "json", "--timeout", self._timeout])
        except PartialFailure as e:
            log.warning("daskctl: %s", e)
            found = e.data if isinstance(e.data, list) else None
        except Exception as e:  # keep the last snapshot: a failed discovery deletes nothing
            log.warning("daskctl: discovery failed: %s", e)
            found = None
        finally:
            self._fetched_at = time.monotonic()
        if found is not None:
            self._found = {cluster_id(d): d for d in found}

    def discovered(self, cid: str) -> dict[str, Any] | None:
        return self._found.get(cid)

    # dask-labextension 7.x's manager interface ----------------------------------------------

    def list_clusters(self) -> list[dict[str, Any]]:
        self.refresh_soon()
        own = self._inner.list_clusters()
        own_endpoints = {_endpoint(m["scheduler_address"]) for m in own}
        extra = [
            cluster_model(d)
            for d in self._found.values()
            if not d.get("address") or _endpoint(d["address"]) not in own_endpoints
        ]
        return own + extra

    def get_cluster(self, cid: str) -> dict[str, Any] | None:
        model = self._inner.get_cluster(cid)
        if model is None and cid in self._found:
            return cluster_model(self._found[cid])
        return model

    async def scale_cluster(self, cid: str, n: int) -> dict[str, Any] | None:
        found = self._found.get(cid)
        if found is None:
            return await self._inner.scale_cluster(cid, n)
        name = _api.qualified_name(found)
        await _cli.run_async(_api._scale_args(name, n, False, None), parse=False)
        self.refresh_soon(now=True)
        # an explicit scale ends adaptive scaling (daskctl scale says so)
        model = cluster_model({**found, "adapt": None})
        return {**model, "workers": n}

    async def close_cluster(self, cid: str) -> dict[str, Any] | None:
        found = self._found.get(cid)
        if found is None:
            return await self._inner.close_cluster(cid)
        name = _api.qualified_name(found)
        await _cli.run_async(_api._delete_args(name, True, None), parse=False)
        # delete --wait returned 0: verified gone
        self._found.pop(cid, None)
        return cluster_model(found)

    def adapt_cluster(self, cid: str, minimum: int, maximum: int) -> dict[str, Any] | None:
        if cid in self._found:
            raise AdaptNotSupported(
                f"{_api.qualified_name(self._found[cid])}: adapt it through the handler"
            )
        return self._inner.adapt_cluster(cid, minimum, maximum)

    async def adapt_discovered(self, cid: str, minimum: int, maximum: int) -> dict[str, Any]:
        """``daskctl adapt``: the policy is stored with the cluster and outlives this server."""
        found = self._found[cid]
        name = _api.qualified_name(found)
        await _cli.run_async(_api._adapt_args(name, minimum, maximum, False), parse=False)
        self.refresh_soon(now=True)
        # new bounds are not applied until a reconcile pass has run
        return cluster_model(
            {
                **found,
                "adapt": {"minimum": minimum, "maximum": maximum},
                "adapt_applied": None,
                "adapt_by": found.get("adapt_by"),
            }
        )


# the handlers ---------------------------------------------------------------------------------

_STATUS = {UsageError: 400, AdaptNotSupported: 400, ClusterNotFound: 404, Refused: 403}


def _fail(handler: Any, status: int, message: str) -> None:
    # jupyter_server's error body ({"message", "reason"}), written here: its write_error reads
    # the message as a %-format string
    handler.set_status(status)
    handler.finish(json.dumps({"message": message, "reason": None}))


def _status(e: DaskctlError) -> int:
    return next((code for cls, code in _STATUS.items() if isinstance(e, cls)), 500)


def _patch_handler(handler_cls: Any, managers: Any) -> None:
    """PATCH and DELETE of a discovered cluster answer with daskctl's outcome (the handler's own
    code turns every error, its 404 included, into a 500)."""
    from tornado import web

    own_patch, own_delete = handler_cls.patch, handler_cls.delete

    @web.authenticated
    async def patch(self, cluster_id):
        manager = managers()
        if manager.discovered(cluster_id) is None:
            return await own_patch(self, cluster_id)
        try:
            body = json.loads(self.request.body)
            if body.get("adapt") is not None:
                bounds = body["adapt"]
                model = await manager.adapt_discovered(
                    cluster_id, bounds["minimum"], bounds["maximum"]
                )
            else:
                model = await manager.scale_cluster(cluster_id, body["workers"])
        except DaskctlError as e:
            return _fail(self, _status(e), str(e))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            return _fail(self, 400, f'expected {{"workers": N}} or {{"adapt": {{...}}}}: {e!r}')
        self.set_status(200)
        self.finish(json.dumps(model))

    @web.authenticated
    async def delete(self, cluster_id):
        manager = managers()
        if manager.discovered(cluster_id) is None:
            return await own_delete(self, cluster_id)
        try:
            await manager.close_cluster(cluster_id)
        except DaskctlError as e:
            return _fail(self, _status(e), str(e))
        self.set_status(204)
        self.finish()

    handler_cls.patch, handler_cls.delete = patch, delete


def known_version(version: str) -> bool:
    try:
        return int(version.split(".")[0]) in KNOWN_MAJORS
    except ValueError:
        return False


def install(server_log: Any = log) -> DiscoveringManager | None:
    """Put a DiscoveringManager in dask-labextension's place; None (and the reason logged)
    when that cannot be done."""
    try:
        import dask_labextension
        from dask_labextension import clusterhandler, dashboardhandler
        from dask_labextension import manager as manager_module
    except ImportError as e:
        server_log.info("daskctl: dask-labextension is not installed (%s): nothing to add to", e)
        return None
    version = getattr(dask_labextension, "__version__", "?")
    if not known_version(version):
        server_log.error(
            "daskctl: dask-labextension %s is not a version daskctl knows (%s.x): the Dask "
            "sidebar shows only its own clusters",
            version,
            "/".join(map(str, KNOWN_MAJORS)),
        )
        return None
    try:
        find_daskctl_bin()
    except DaskctlError as e:
        server_log.warning("daskctl: %s: the Dask sidebar shows only its own clusters", e)
        return None
    current = manager_module.manager
    if isinstance(current, DiscoveringManager):
        return current
    import dask

    wrapped = DiscoveringManager(
        current,
        interval=float(dask.config.get("daskctl.jupyter.interval", 5)),
        timeout=str(dask.config.get("daskctl.jupyter.timeout", "4s")),
    )
    for module in (manager_module, clusterhandler, dashboardhandler):
        module.manager = wrapped
    _patch_handler(clusterhandler.DaskClusterHandler, lambda: clusterhandler.manager)
    server_log.info("daskctl: clusters daskctl discovers are shown in the Dask sidebar")
    return wrapped


def _jupyter_server_extension_points():
    return [{"module": "daskctl.jupyter"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    wrapped = install(serverapp.log)
    if wrapped is not None:
        from tornado.ioloop import IOLoop

        IOLoop.current().add_callback(wrapped.refresh_soon, now=True)
