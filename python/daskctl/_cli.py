"""Run the bundled daskctl binary with an argument vector and read its JSON output."""

from __future__ import annotations

import json
import os
import subprocess

from ._binary import find_daskctl_bin
from ._errors import BY_EXIT_CODE, DaskctlError, DaskctlWarning

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (8 ms)
if TYPE_CHECKING:
    from typing import Any


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["NO_COLOR"] = "1"  # messages are read, not shown on a terminal
    return env


def _warn(err: str) -> None:
    """daskctl's ``warning:`` lines, as Python warnings at the caller of the public function."""
    import warnings

    for line in err.splitlines():
        if line.startswith("warning: "):
            warnings.warn(line[len("warning: ") :], DaskctlWarning, stacklevel=5)


def _outcome(
    argv: list[str], code: int, stdout: bytes, stderr: bytes, parse: bool, warn: bool = False
) -> Any:
    err = stderr.decode(errors="replace")
    if warn and code == 0:
        _warn(err)
    data: Any = None
    text = stdout.decode(errors="replace")
    if parse and text.strip():
        try:
            data = json.loads(text)
        except ValueError as e:
            if code == 0:
                raise DaskctlError(
                    f"daskctl printed something that is not JSON: {e}", argv=argv, stderr=err
                ) from None
    elif not parse:
        data = text
    if code == 0:
        return data
    lines = [line for line in err.splitlines() if line.strip()]
    message = lines[-1].strip() if lines else f"daskctl exited with code {code}"
    if message.startswith("error: "):
        message = message[len("error: ") :]
    cls = BY_EXIT_CODE.get(code, DaskctlError)
    exc = cls(message, argv=argv, stderr=err, data=data)
    exc.exit_code = code
    raise exc


def run(
    args: list[str], *, parse: bool = True, timeout: float | None = None, warn: bool = False
) -> Any:
    """Run ``daskctl ARGS...``; return its stdout (parsed as JSON with ``parse``); with
    ``warn``, what it warned about becomes a ``DaskctlWarning``.

    A non-zero exit raises the exception for that exit code (``ClusterNotFound`` for 3...).
    """
    argv = [find_daskctl_bin(), *args]
    done = subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=_env(),
        timeout=timeout,
        check=False,
    )
    return _outcome(argv, done.returncode, done.stdout, done.stderr, parse, warn)


async def run_async(args: list[str], *, parse: bool = True, warn: bool = False) -> Any:
    """``run`` for event loops: the binary runs as an asyncio subprocess."""
    import asyncio  # not at import time: `import daskctl` stays fast for scripts

    argv = [find_daskctl_bin(), *args]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    try:
        stdout, stderr = await proc.communicate()
    except asyncio.CancelledError:
        # daskctl undoes a half-done create or scale on SIGTERM (exit 130): let it
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
        raise
    assert proc.returncode is not None
    return _outcome(argv, proc.returncode, stdout, stderr, parse, warn)
