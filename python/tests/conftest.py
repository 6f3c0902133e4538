"""Shared set-up for the Python package's tests.

They run against the *installed* daskctl package (scripts/test-python.sh installs the wheel into a
fresh venv and runs pytest from python/tests, so python/ is not on sys.path), with daskctl's
state, cache and config in a temporary directory and nothing reachable beyond loopback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import daskctl


def wait_until(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    """Poll ``condition`` until it returns something true; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(every)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def _isolated_env(d: Path) -> dict[str, str]:
    env = {
        "DASKCTL_STATE_DIR": str(d / "state"),
        "DASKCTL_CACHE_DIR": str(d / "cache"),
        "DASKCTL_CONFIG": str(d / "config.toml"),
        "DASKCTL_PYTHON": sys.executable,
        # nothing in the tests may connect beyond loopback
        "DASKCTL_PROBE_LOOPBACK_ONLY": "1",
        # neither the developer's Dask config (a gateway), AWS account nor Kubernetes cluster
        "DASK_CONFIG": str(d / "dask"),
        "DASK_ROOT_CONFIG": str(d / "dask-root"),
        "KUBECONFIG": str(d / "kubeconfig"),
        "AWS_CONFIG_FILE": str(d / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(d / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "DASKCTL_BACKENDS__PBS__ENABLED": "false",
        "DASKCTL_BACKENDS__SGE__ENABLED": "false",
        "DASKCTL_BACKENDS__HTCONDOR__ENABLED": "false",
    }
    if os.environ.get("DASKCTL_TEST_SLURM"):
        env.update(
            {
                "DASKCTL_BACKENDS__SLURM__PYTHON": sys.executable,
                "DASKCTL_BACKENDS__SLURM__HOST": "127.0.0.1",
                "DASKCTL_BACKENDS__SLURM__SHARED_DIR": str(d / "shared"),
            }
        )
    else:
        env["DASKCTL_BACKENDS__SLURM__ENABLED"] = "false"
    return env


@pytest.fixture(scope="session", autouse=True)
def daskctl_env(tmp_path_factory: pytest.TempPathFactory):
    """Every daskctl this session runs (the library's, the Jupyter server's) sees only the
    test's own state; whatever the tests leave behind is deleted at the end."""
    d = tmp_path_factory.mktemp("daskctl")
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(("AWS_", "DASK_GATEWAY", "DASKCTL_BACKENDS__")) or key in (
            "KUBERNETES_SERVICE_HOST",
        ):
            del os.environ[key]
    os.environ.update(_isolated_env(d))
    (d / "dask").mkdir()
    yield d
    try:
        for c in daskctl.list_clusters():
            if c.get("origin") == "daskctl":
                subprocess.run(
                    [daskctl.find_daskctl_bin(), "delete", daskctl.qualified_name(c), "--yes"],
                    check=False,
                    capture_output=True,
                )
    finally:
        os.environ.clear()
        os.environ.update(saved)


def unique(prefix: str) -> str:
    """A cluster name no earlier run left behind."""
    return f"{prefix}-{os.getpid() % 100000}-{int(time.monotonic() * 1000) % 100000}"


def names(clusters: list[dict[str, Any]]) -> list[str]:
    return [daskctl.qualified_name(c) for c in clusters]
