"""Find the daskctl binary installed with this package (not whichever daskctl is first on PATH)."""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

from ._errors import DaskctlNotFound

_EXE = "daskctl" + (sysconfig.get_config_var("EXE") or "")


def _candidates() -> list[Path]:
    # The same places ruff's and uv's Python packages look for their binaries, in that order:
    # this environment's scripts directory, the user scheme's, then `bin` beside the package
    # root (pip install --target).
    found = [Path(sysconfig.get_path("scripts")) / _EXE]
    if sys.version_info >= (3, 10):
        user_scheme = sysconfig.get_preferred_scheme("user")
    elif os.name == "nt":
        user_scheme = "nt_user"
    elif sys.platform == "darwin" and sys._framework:  # type: ignore[attr-defined]
        user_scheme = "osx_framework_user"
    else:
        user_scheme = "posix_user"
    found.append(Path(sysconfig.get_path("scripts", scheme=user_scheme)) / _EXE)
    found.append(Path(__file__).resolve().parent.parent / "bin" / _EXE)
    return found


def _is_native(path: Path) -> bool:
    # dask-ctl (the Python tool daskctl replaces) installs a `daskctl` console script of its
    # own into the same scripts directory: a Python launcher is not our binary.
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head in (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe") or head[:2] == b"MZ"


def find_daskctl_bin() -> str:
    """The path of the daskctl binary that came with this package.

    ``DASKCTL_BINARY`` overrides the search (a development build, say).
    """
    override = os.environ.get("DASKCTL_BINARY")
    if override:
        if not os.access(override, os.X_OK):
            raise DaskctlNotFound(f"DASKCTL_BINARY={override} is not an executable file")
        return override
    shadowed = []
    for path in _candidates():
        if path.is_file():
            if _is_native(path):
                return str(path)
            shadowed.append(str(path))
    if shadowed:
        raise DaskctlNotFound(
            f"{shadowed[0]} is not daskctl's binary (another package's `daskctl` script, such "
            "as dask-ctl's, replaced it): reinstall daskctl, or set DASKCTL_BINARY"
        )
    raise DaskctlNotFound(
        "the daskctl binary is not installed beside this package (looked in "
        + ", ".join(str(p.parent) for p in _candidates())
        + "): reinstall daskctl, or set DASKCTL_BINARY"
    )
