"""The installed distribution: the binary, the package beside it, the entry point, the Jupyter
config, exit codes as exceptions, no runtime dependencies."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

import daskctl
from daskctl import _binary


def test_the_installed_package_is_under_test_not_the_source_tree():
    site = Path(sysconfig.get_path("purelib")).resolve()
    assert Path(daskctl.__file__).resolve().is_relative_to(site), daskctl.__file__
    assert daskctl.__version__ == metadata.version("daskctl")


def test_the_binary_is_the_one_in_this_environments_scripts():
    found = Path(daskctl.find_daskctl_bin())
    assert found == Path(sysconfig.get_path("scripts")) / "daskctl"
    assert found.read_bytes()[:4] == b"\x7fELF"
    out = subprocess.run([str(found), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"daskctl {daskctl.__version__}"


def test_python_dash_m_runs_the_bundled_binary():
    out = subprocess.run(
        [sys.executable, "-m", "daskctl", "backends", "list", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    backends = {b["name"] for b in json.loads(out.stdout)}
    # both default Cargo features are in the wheel
    assert {"local", "slurm", "kubernetes", "aws", "gateway"} <= backends, backends


def test_exit_status_of_python_dash_m_is_the_binarys():
    out = subprocess.run(
        [sys.executable, "-m", "daskctl", "describe", "no-such-cluster", "-b", "local"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2, out.stderr  # describe takes no -b: a usage error


def test_another_packages_daskctl_script_is_not_taken_for_the_binary(tmp_path, monkeypatch):
    # dask-ctl installs a `daskctl` console script into the same scripts directory
    stub = tmp_path / "daskctl"
    stub.write_text("#!/usr/bin/python3\nfrom dask_ctl.cli import daskctl\ndaskctl()\n")
    stub.chmod(0o755)
    monkeypatch.setattr(_binary, "_candidates", lambda: [stub])
    monkeypatch.delenv("DASKCTL_BINARY", raising=False)
    with pytest.raises(daskctl.DaskctlNotFound, match="is not daskctl's binary"):
        daskctl.find_daskctl_bin()
    monkeypatch.setattr(_binary, "_candidates", lambda: [tmp_path / "missing"])
    with pytest.raises(daskctl.DaskctlNotFound, match="not installed beside this package"):
        daskctl.find_daskctl_bin()


def test_the_discovery_entry_point_is_registered():
    eps = metadata.entry_points(group="dask_cluster_discovery")
    ours = [ep for ep in eps if ep.name == "daskctl"]
    assert len(ours) == 1 and ours[0].value == "daskctl.discovery:discover"
    assert ours[0].load() is daskctl.discovery.discover


def test_the_jupyter_server_extension_is_enabled_on_install():
    config = Path(sys.prefix) / "etc/jupyter/jupyter_server_config.d/daskctl.json"
    assert json.loads(config.read_text()) == {
        "ServerApp": {"jpserver_extensions": {"daskctl.jupyter": True}}
    }


def test_no_runtime_dependencies():
    requires = metadata.requires("daskctl") or []
    assert all("extra ==" in r for r in requires), requires
    # listing clusters imports neither dask nor distributed
    code = (
        "import sys, daskctl; daskctl.list_clusters(backends=['local']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_exit_codes_are_exceptions():
    with pytest.raises(daskctl.UsageError) as e:
        daskctl.list_clusters(backends=["no-such-backend"])
    assert e.value.exit_code == 2 and "no-such-backend" in str(e.value)
    with pytest.raises(daskctl.ClusterNotFound) as e:
        daskctl.describe_cluster("local/no-such-cluster")
    assert e.value.exit_code == 3 and isinstance(e.value, LookupError)
    with pytest.raises(daskctl.UsageError):
        daskctl.scale_cluster("local/x", True)  # type: ignore[arg-type]


def test_invalid_create_input_creates_nothing():
    before = daskctl.list_clusters(backends=["local"])
    with pytest.raises(daskctl.UsageError, match=r"Bad_Name|name"):
        daskctl.create_cluster("local", 1, name="Bad_Name")
    with pytest.raises(daskctl.UsageError, match="dry_run"):
        daskctl.create_cluster("local", 1, dry_run=True)
    assert daskctl.list_clusters(backends=["local"]) == before


def test_create_flags_from_keyword_options():
    from daskctl._api import create_args

    args = create_args(
        "slurm",
        4,
        "etl",
        {
            "partition": "debug",
            "job_extra": ["--qos=high", "--exclusive"],
            "spot": True,
            "native": False,
            "options": {"worker_cores": 2},
        },
    )
    assert args == [
        "create",
        "slurm",
        "--workers",
        "4",
        "-o",
        "json",
        "--name=etl",
        "--partition=debug",
        "--job-extra=--qos=high",
        "--job-extra=--exclusive",
        "--spot",
        "--option=worker_cores=2",
    ]
