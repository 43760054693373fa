"""Users and grants as the admin API shows them. Passwords are write-only."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from platonicam.service.schemas.base import ApiModel
from platonicam.store.records import Role, UserRecord

#: User names: letters, digits and ``._@-``; what a login form and a shell both take.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"


class UserCreate(ApiModel):
    name: str = Field(pattern=NAME_PATTERN)
    role: Role
    password: str = Field(min_length=1, max_length=1024, repr=False)


class UserUpdate(ApiModel):
    """Fields left out stay as they are. A new role or password logs the user out."""

    role: Role | None = None
    password: str | None = Field(default=None, min_length=1, max_length=1024, repr=False)
    disabled: bool | None = None


class UserOut(ApiModel):
    name: str
    role: Role
    disabled: bool
    grants: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: UserRecord) -> UserOut:
        return cls(
            name=user.name,
            role=user.role,
            disabled=user.disabled,
            grants=sorted(user.grants),
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class UserList(ApiModel):
    users: list[UserOut]
