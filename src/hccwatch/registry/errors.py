"""What the registry refuses, each with a message for a person."""

from __future__ import annotations

from hccwatch.errors import HccwatchError

__all__ = ["AuthenticationError", "ConflictError", "NotFoundError", "PermissionDeniedError", "RegistryError"]


class RegistryError(HccwatchError):
    """A registry request that cannot be served as asked (bad argument, unusable database)."""


class NotFoundError(RegistryError):
    """The patient or user named does not exist."""


class PermissionDeniedError(RegistryError):
    """The user's role does not allow this action (checked in the service, so every face gets it)."""


class AuthenticationError(RegistryError):
    """Unknown user, wrong password or disabled account (one message for all three, on purpose)."""


class ConflictError(RegistryError):
    """Someone else changed the patient since it was read: nothing was written.

    ``current_version`` is the version now stored, so a form can reload and show what changed.
    """

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version
