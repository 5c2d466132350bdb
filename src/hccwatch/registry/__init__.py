"""The follow-up registry: patients, stored assessments, outreach, users and an audit trail.

An adapter at the edge (SQLAlchemy 2, Alembic): it stores records and what
:func:`hccwatch.assess` said about them, and decides nothing clinical itself. Open one with
:meth:`Registry.open` (``HCCWATCH_DATABASE_URL``, else a SQLite file in ``HCCWATCH_DATA_DIR``).
"""

from hccwatch.registry.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RegistryError,
)
from hccwatch.registry.roles import PERMISSIONS, ROLES, Action, Actor, Role
from hccwatch.registry.service import (
    LEAVE_REASONS,
    OUTCOMES,
    WORKLIST_GROUPS,
    AuditView,
    ImportResult,
    OutreachView,
    PatientView,
    Registry,
    UserView,
    WorklistRow,
)

__all__ = [
    "LEAVE_REASONS",
    "OUTCOMES",
    "PERMISSIONS",
    "ROLES",
    "WORKLIST_GROUPS",
    "Action",
    "Actor",
    "AuditView",
    "AuthenticationError",
    "ConflictError",
    "ImportResult",
    "NotFoundError",
    "OutreachView",
    "PatientView",
    "PermissionDeniedError",
    "Registry",
    "RegistryError",
    "Role",
    "UserView",
    "WorklistRow",
]
