"""HTTP Basic users (``--basic-users-file``): each line holds a user name, an Argon2id
hash of its password (``tams-server hash-password``) and its scopes::

    editor $argon2id$v=19$m=65536,t=3,p=4$...$... tams-api/read tams-api/write

Argon2id (argon2-cffi) because it is the password hash OWASP recommends first:
memory-hard, so guessing on GPUs is expensive, with its parameters and salt in the
encoded string; argon2-cffi is the maintained binding of the reference implementation.
(bcrypt silently limits passwords to 72 bytes and is not memory-hard.)
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

from tams_server.auth.principal_files import bad_line, lines_of
from tams_server.domain.errors import Reason, Unauthenticated
from tams_server.domain.principal import Principal

_HASHER = PasswordHasher()
# Checked when the user is unknown, so a wrong name costs what a wrong password does
# (the time of an answer does not tell which user names exist).
_DUMMY_HASH = _HASHER.hash("no such user")


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password``, as a users file line holds it."""
    return _HASHER.hash(password)


class BasicUsers:
    """The users allowed to call with HTTP Basic."""

    def __init__(self, users: dict[str, tuple[str, Principal]]) -> None:
        self._users = users

    @classmethod
    def load(cls, path: Path) -> BasicUsers:
        """The users of ``path``; ``AuthSetupError`` naming the first bad line."""
        users: dict[str, tuple[str, Principal]] = {}
        for number, fields in lines_of(path):
            if len(fields) < 2:
                raise bad_line(path, number, "expected '<user> <argon2 hash> [scope ...]'")
            user, encoded, *scopes = fields
            try:
                extract_parameters(encoded)
            except InvalidHashError:
                raise bad_line(path, number, "the password hash is not an Argon2 hash") from None
            if user in users:
                raise bad_line(path, number, f"user {user!r} is listed twice")
            users[user] = (encoded, Principal(user, frozenset(scopes)))
        return cls(users)

    async def verify(self, user: str, password: str) -> Principal:
        """The user's principal if ``password`` is right; the hash runs off the event
        loop (it takes tens of milliseconds on purpose)."""
        encoded, principal = self._users.get(user, (_DUMMY_HASH, None))
        try:
            await asyncio.to_thread(_HASHER.verify, encoded, password)
        except (VerificationError, InvalidHashError):
            principal = None
        if principal is None:
            raise Unauthenticated(
                "unknown user or wrong password", reason=Reason.BASIC_CREDENTIALS_INVALID
            )
        return principal
