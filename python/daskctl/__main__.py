"""``python -m daskctl ARGS...`` runs the daskctl binary installed with this package."""

from __future__ import annotations

import os
import sys

from ._binary import find_daskctl_bin
from ._errors import DaskctlNotFound


def main() -> None:
    try:
        binary = find_daskctl_bin()
    except DaskctlNotFound as e:
        # one line, as the binary's own errors are: status 1, "anything unexpected"
        sys.stderr.write(f"error: {e}\n")
        sys.exit(1)
    if sys.platform == "win32":
        import subprocess

        sys.exit(subprocess.run([binary, *sys.argv[1:]], check=False).returncode)
    os.execv(binary, [binary, *sys.argv[1:]])


if __name__ == "__main__":
    main()
