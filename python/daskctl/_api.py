"""daskctl's verbs as Python functions: each runs the bundled binary with -o json."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping

from . import _cli
from ._errors import PartialFailure, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (8 ms)
if TYPE_CHECKING:
    from typing import Any

    Description = dict[str, Any]


def qualified_name(description: Mapping[str, Any]) -> str:
    """``BACKEND/NAME`` (``kubernetes/NAMESPACE/NAME``): names a cluster unambiguously."""
    parts = [description["backend"], description.get("namespace"), description["name"]]
    return "/".join(p for p in parts if p)


def _backend_args(backends: str | Iterable[str] | None) -> list[str]:
    if backends is None:
        return []
    if isinstance(backends, str):
        backends = [backends]
    args: list[str] = []
    for b in backends:
        args += ["--backend", b]
    return args


def _timeout_args(timeout: float | str | None) -> list[str]:
    if timeout is None:
        return []
    return ["--timeout", f"{timeout}s" if isinstance(timeout, (int, float)) else str(timeout)]


def _users_args(all_users: bool, users: str | Iterable[str] | None) -> list[str]:
    if all_users:
        return ["--all-users"]
    if users is None:
        return []
    if isinstance(users, str):
        users = [users]
    args: list[str] = []
    for u in users:
        args += ["--user", u]
    return args


def list_clusters(
    backends: str | Iterable[str] | None = None,
    *,
    timeout: float | str | None = None,
    strict: bool = False,
    all_users: bool = False,
    users: str | Iterable[str] | None = None,
) -> list[Description]:
    """Every cluster daskctl finds: a list of dicts in the ``daskctl list -o json`` schema.

    ``backends`` restricts discovery (``"slurm"`` or ``["slurm", "local"]``); ``timeout`` is
    each backend's deadline in seconds (or ``"500ms"``). When a backend fails, the others are
    still returned and a ``RuntimeWarning`` says which failed; ``strict=True`` raises
    ``PartialFailure`` instead (its ``data`` holds what was found). ``all_users=True`` (or
    ``users=["alice"]``) lists other users' clusters too, where your rights let you see them.
    """
    args = [
        "list",
        "-o",
        "json",
        *_backend_args(backends),
        *_timeout_args(timeout),
        *_users_args(all_users, users),
    ]
    try:
        return _cli.run(args)
    except PartialFailure as e:
        if strict or not isinstance(e.data, list):
            raise
        warnings.warn(f"daskctl: {e}", RuntimeWarning, stacklevel=2)
        return e.data


def usage(
    by: str = "user",
    *,
    since: float | str | None = None,
    idle: float | str | None = None,
    backends: str | Iterable[str] | None = None,
    timeout: float | str | None = None,
    all_users: bool = False,
    users: str | Iterable[str] | None = None,
) -> Description:
    """Cores, core-hours and cost held, grouped ``by`` user, backend or status, with what
    ``cleanup --orphaned`` and ``cleanup --idle`` would free: ``daskctl usage -o json``.

    ``since`` counts core-hours from that long ago only (seconds, or ``"24h"``); ``idle`` is the
    idle time from which a cluster counts as idle (default 30 minutes). A backend that fails
    raises ``PartialFailure`` (its ``data`` holds the report of the others).
    """
    args = ["usage", "-o", "json", "--by", by, *_backend_args(backends)]
    args += _timeout_args(timeout) + _users_args(all_users, users)
    for flag, value in (("--since", since), ("--idle", idle)):
        if value is not None:
            args += [flag, f"{value}s" if isinstance(value, (int, float)) else str(value)]
    return _cli.run(args)


def describe_cluster(name: str, *, timeout: float | str | None = None) -> Description:
    """One cluster (``NAME`` or ``BACKEND/NAME``) as a dict; ``ClusterNotFound`` if none."""
    return _cli.run(["describe", name, "-o", "json", *_timeout_args(timeout)])


def scale_cluster(
    name: str,
    workers: int,
    *,
    wait: bool = False,
    timeout: float | str | None = None,
    group: str | None = None,
) -> None:
    """Ask for ``workers`` workers (in worker group ``group``; default: the default group); with
    ``wait``, until the scheduler has exactly that many."""
    _cli.run(_scale_args(name, workers, wait, timeout, group), parse=False)


def _scale_args(
    name: str, workers: int, wait: bool, timeout: float | str | None, group: str | None = None
) -> list[str]:
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise UsageError(f"workers must be an int, not {workers!r}")
    args = ["scale", name, str(workers), *_timeout_args(timeout)]
    if group is not None:
        args += ["--group", str(group)]
    return [*args, "--wait"] if wait else args


def adapt_cluster(
    name: str,
    minimum: int | None = None,
    maximum: int | None = None,
    *,
    off: bool = False,
    group: str | None = None,
) -> None:
    """Store an adaptive policy with the cluster (``daskctl adapt``): ``daskctl reconcile``
    (cron) applies it, or the platform's own autoscaler (dask-kubernetes operator, dask-gateway).
    ``group``: the worker group that adapts. ``off=True`` removes it."""
    _cli.run(_adapt_args(name, minimum, maximum, off, group), parse=False, warn=True)


def _adapt_args(
    name: str, minimum: int | None, maximum: int | None, off: bool, group: str | None = None
) -> list[str]:
    if off:
        return ["adapt", name, "--off"]
    for what, n in (("minimum", minimum), ("maximum", maximum)):
        if isinstance(n, bool) or not isinstance(n, int):
            raise UsageError(f"{what} must be a number of workers, not {n!r}")
    args = ["adapt", name, "--minimum", str(minimum), "--maximum", str(maximum)]
    return [*args, "--group", str(group)] if group is not None else args


def delete_cluster(name: str, *, wait: bool = True, timeout: float | str | None = None) -> None:
    """Delete a cluster (``daskctl delete NAME --yes``); with ``wait``, until it is gone."""
    _cli.run(_delete_args(name, wait, timeout), parse=False)


def _delete_args(name: str, wait: bool, timeout: float | str | None) -> list[str]:
    args = ["delete", name, "--yes", *_timeout_args(timeout)]
    return [*args, "--wait"] if wait else args


def cluster_logs(
    name: str, *, scheduler: bool = False, worker: str | int | None = None, tail: int | None = None
) -> dict[str, str]:
    """The cluster's logs, one text per source (``scheduler``, then each worker)."""
    return group_log_lines(_cli.run(_logs_args(name, scheduler, worker, tail), parse=False))


def _logs_args(
    name: str, scheduler: bool, worker: str | int | None = None, tail: int | None = None
) -> list[str]:
    args = ["logs", name, "-o", "json"]
    if scheduler:
        args.append("--scheduler")
    if worker is not None:
        args += ["--worker", str(worker)]
    if tail is not None:
        args += ["--tail", str(tail)]
    return args


def group_log_lines(jsonl: str) -> dict[str, str]:
    import json

    logs: dict[str, list[str]] = {}
    for line in jsonl.splitlines():
        if line.strip():
            record = json.loads(line)
            logs.setdefault(record["source"], []).append(record["line"])
    return {source: "\n".join(lines) for source, lines in logs.items()}


_FLAG = re.compile(r"^[a-z][a-z0-9_]*$")


def create_args(backend: str, workers: int, name: str | None, options: Mapping[str, Any]):
    """``daskctl create`` arguments for keyword options: ``partition="debug"`` becomes
    ``--partition=debug``, ``spot=True`` ``--spot``, a list repeats the flag, and
    ``options={"k": "v"}`` (gateway cluster options) becomes ``--option k=v``, and
    ``worker_group=["gpu:2:threads=4,gpus=1"]`` adds worker groups."""
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise UsageError(f"workers must be an int, not {workers!r}")
    args = ["create", backend, "--workers", str(workers), "-o", "json"]
    if name is not None:
        args.append(f"--name={name}")
    for key, value in options.items():
        if key in ("dry_run", "output", "o"):
            raise UsageError(f"create_cluster does not take {key!r}")
        if not _FLAG.match(key):
            raise UsageError(f"not an option name: {key!r}")
        if key == "options":
            args += [f"--option={k}={v}" for k, v in dict(value).items()]
            continue
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args += [f"{flag}={v}" for v in value]
        else:
            args.append(f"{flag}={value}")
    return args
