"""Exceptions for daskctl's exit codes (README, "Exit codes")."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (8 ms)
if TYPE_CHECKING:
    from typing import Any


class DaskctlWarning(UserWarning):
    """What daskctl warned about while doing what it was asked (its ``warning:`` lines), such
    as an adaptive policy that no ``daskctl reconcile`` applies yet."""


class DaskctlError(Exception):
    """daskctl failed (exit code 1: a backend or scheduler error, a timeout).

    ``exit_code``, ``argv`` and ``stderr`` say what ran and what it said.
    """

    exit_code = 1

    def __init__(
        self, message: str, *, argv: list[str] | None = None, stderr: str = "", data: Any = None
    ):
        super().__init__(message)
        self.argv = argv or []
        self.stderr = stderr
        #: what the command printed on stdout (parsed JSON), where it printed any
        self.data = data


class UsageError(DaskctlError, ValueError):
    """Bad arguments: an invalid name or count, an unknown backend, malformed config (exit 2)."""

    exit_code = 2


class ClusterNotFound(DaskctlError, LookupError):
    """No cluster by that name (exit 3)."""

    exit_code = 3


class PartialFailure(DaskctlError):
    """Some backends could not be listed, or some clusters not deleted (exit 4).

    ``data`` holds what the command did report.
    """

    exit_code = 4


class Refused(DaskctlError, PermissionError):
    """Refused: another user's cluster, or a confirmation that was declined (exit 5)."""

    exit_code = 5


class Interrupted(DaskctlError):
    """Interrupted; what the command had started was stopped again (exit 130)."""

    exit_code = 130


class DaskctlNotFound(DaskctlError, FileNotFoundError):
    """The daskctl binary that belongs to this package cannot be found."""

    exit_code = -1


class ClusterNotRunning(DaskctlError):
    """The cluster exists but its scheduler cannot be connected to (pending, orphaned...)."""


BY_EXIT_CODE: dict[int, type[DaskctlError]] = {
    cls.exit_code: cls
    for cls in (DaskctlError, UsageError, ClusterNotFound, PartialFailure, Refused, Interrupted)
}
