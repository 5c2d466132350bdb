"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106's second recommended set)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from hccwatch.registry.errors import RegistryError

__all__ = [
    "MIN_PASSWORD_CHARS",
    "burn_time",
    "check_strength",
    "hash_password",
    "needs_rehash",
    "verify_password",
]

MIN_PASSWORD_CHARS = 10
_MAX_PASSWORD_CHARS = 1024
_HASHER = PasswordHasher(type=Type.ID)
# Verified against when the user is unknown, so a wrong name and a wrong password take as long.
_DUMMY = _HASHER.hash("hccwatch: no such user")


def check_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise RegistryError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > _MAX_PASSWORD_CHARS:
        raise RegistryError(f"a password has at most {_MAX_PASSWORD_CHARS} characters")
    if password.strip() != password:
        raise RegistryError("a password may not start or end with a space (a copy-paste slip)")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)


def burn_time() -> None:
    verify_password(_DUMMY, "not the password")
