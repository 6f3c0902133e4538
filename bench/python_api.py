"""daskctl.list_clusters() against `daskctl list -o json` (the same binary), one local cluster.

Prints medians of RUNS runs each and the wrapper's overhead; run by bench/python_api.sh in a
venv with the wheel installed.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(os.environ.get("RUNS", "30"))


def median_ms(fn) -> float:
    samples = []
    for _ in range(RUNS):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> None:
    state = tempfile.mkdtemp(prefix="daskctl-bench-")
    os.environ.update(
        {
            "DASKCTL_STATE_DIR": state,
            "DASKCTL_CACHE_DIR": os.path.join(state, "cache"),
            "DASKCTL_CONFIG": os.path.join(state, "config.toml"),
            "DASKCTL_PROBE_LOOPBACK_ONLY": "1",
            "DASK_CONFIG": os.path.join(state, "dask"),
            "KUBECONFIG": os.path.join(state, "kubeconfig"),
            "AWS_CONFIG_FILE": os.path.join(state, "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(state, "aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    for backend in ("SLURM", "PBS", "SGE", "HTCONDOR"):
        os.environ[f"DASKCTL_BACKENDS__{backend}__ENABLED"] = "false"
    import daskctl

    binary = daskctl.find_daskctl_bin()
    daskctl.create_cluster("local", 1, name="bench-py", python=sys.executable).close()
    try:
        assert [c["name"] for c in daskctl.list_clusters()] == ["bench-py"]
        cli = median_ms(
            lambda: subprocess.run([binary, "list", "-o", "json"], capture_output=True, check=True)
        )
        api = median_ms(daskctl.list_clusters)
        cold_api = median_ms(
            lambda: subprocess.run(
                [sys.executable, "-c", "import daskctl; daskctl.list_clusters()"], check=True
            )
        )
        bare = median_ms(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
    finally:
        daskctl.delete_cluster("local/bench-py")
    print(f"runs: {RUNS} each, medians")
    print(f"daskctl list -o json:            {cli:7.1f} ms")
    print(f"daskctl.list_clusters():         {api:7.1f} ms  (wrapper adds {api - cli:+.1f} ms)")
    print(
        f"python -c 'import daskctl; ...': {cold_api:7.1f} ms  "
        f"(interpreter start {bare:.1f} ms; import + call - CLI = {cold_api - bare - cli:+.1f} ms)"
    )


if __name__ == "__main__":
    main()
