"""Staff users: Argon2id password hashes (argon2-cffi), roles, authentication."""
from __future__ import annotations

import re

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import ROLES, User

MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = re.compile(r"[a-z][a-z0-9._-]{1,63}")

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4)
_dummy_hash: str | None = None


def use_profile(name: str) -> None:
    """Hash new passwords with a named argon2.profiles profile (tests use CHEAPEST for speed;
    existing hashes still verify, as each hash records its own parameters)."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher.from_parameters(getattr(profiles, name))
    _dummy_hash = None


def _dummy() -> str:
    """Verified against when the username is unknown, so a miss costs as long as a hit."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not-a-real-password-0")
    return _dummy_hash


class UserError(ValueError):
    """A user can't be created as asked (bad name, role or password, or the name is taken)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_user(session: Session, username: str, password: str, role: str) -> User:
    username = username.strip().lower()
    if not USERNAME_PATTERN.fullmatch(username):
        raise UserError("username: 2-64 characters, lower-case letters, digits, '.', '_' or '-', "
                        "starting with a letter")
    if role not in ROLES:
        raise UserError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"username: {username!r} already exists")
    user = User(username=username, password_hash=hash_password(password), role=role, active=True)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (same cost either way)."""
    user = session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _dummy(), password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0
