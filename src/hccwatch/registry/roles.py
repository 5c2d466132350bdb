"""Roles and what each may do. Checked in the service layer, so the CLI, the web app and any API
get the same answer."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

from hccwatch.registry.errors import PermissionDeniedError

__all__ = ["PERMISSIONS", "ROLES", "Action", "Actor", "Role", "require"]

Role = Literal["admin", "clinician", "navigator", "readonly"]
ROLES: tuple[Role, ...] = ("admin", "clinician", "navigator", "readonly")


class Action(enum.StrEnum):
    VIEW = "view"  # patients, worklist, assessments, outreach history
    EDIT_RECORD = "edit_record"  # add or change a patient's clinical record or contact details
    IMPORT = "import"  # bulk import of records
    OUTREACH = "outreach"  # log a call, take a patient off the worklist or back on
    REFRESH = "refresh"  # recompute stored assessments
    EXPORT = "export"  # every record out of the registry
    BACKUP = "backup"  # a full copy, or a restore from one
    MANAGE_USERS = "manage_users"
    READ_AUDIT = "read_audit"


_READ = frozenset({Action.VIEW})
_NAVIGATE = _READ | {Action.OUTREACH, Action.REFRESH}
_CLINICAL = _NAVIGATE | {Action.EDIT_RECORD, Action.IMPORT}

# A navigator works the worklist (calls, outcomes) but changes no clinical data; a clinician
# also edits records; exports, backups, users and the audit trail are the administrator's.
PERMISSIONS: dict[Role, frozenset[Action]] = {
    "readonly": _READ,
    "navigator": _NAVIGATE,
    "clinician": _CLINICAL,
    "admin": frozenset(Action),
}


@dataclass(frozen=True)
class Actor:
    """Who acts: a registry user, or the operator of the command line (``user_id`` None)."""

    username: str
    role: Role
    user_id: int | None = None

    @property
    def label(self) -> str:
        return self.username if self.user_id is not None else f"{self.username} (command line)"


def require(actor: Actor, action: Action) -> None:
    if action not in PERMISSIONS.get(actor.role, frozenset()):
        raise PermissionDeniedError(
            f"{actor.username} ({actor.role}) may not {action.value.replace('_', ' ')}"
        )
