"""User administration (admins only): users, roles, passwords and per-camera grants.

Every change is written to the audit log without the password. The last
enabled admin cannot be demoted, disabled or deleted: that would lock
everyone out of user administration (``platonicam users`` on the server's
command line still could, which is the recovery path).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response, status

from platonicam.service.auth import check_password_strength
from platonicam.service.deps import Admin, Context
from platonicam.service.schemas.problem import problem_responses
from platonicam.service.schemas.users import UserCreate, UserList, UserOut, UserUpdate
from platonicam.store.records import Role, UserRecord
from platonicam.store.repositories.errors import ConflictError

router = APIRouter(
    prefix="/api/users", tags=["users"], responses=problem_responses(401, 403, 404, 422)
)


async def _refuse_losing_last_admin(context: Context, target: UserRecord) -> None:
    if target.role is not Role.ADMIN or target.disabled:
        return
    admins = [u for u in await context.users.list() if u.role is Role.ADMIN and not u.disabled]
    if len(admins) <= 1:
        raise ConflictError(
            f"{target.name!r} is the last enabled admin: make another user admin first"
        )


@router.get("")
async def list_users(context: Context, actor: Admin) -> UserList:
    """Every user with role and grants (never a password or hash)."""
    return UserList(users=[UserOut.of(user) for user in await context.users.list()])


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(409))
async def create_user(context: Context, actor: Admin, body: UserCreate) -> UserOut:
    """Create a user; the password needs at least 10 characters."""
    check_password_strength(body.password)
    digest = await asyncio.to_thread(context.passwords.hash, body.password)
    user = await context.users.create(body.name, body.role, digest)
    await context.audit.record(
        actor.name, "user.create", f"created user {user.name} with role {user.role.value}"
    )
    return UserOut.of(user)


@router.patch("/{name}", responses=problem_responses(409))
async def update_user(context: Context, actor: Admin, name: str, body: UserUpdate) -> UserOut:
    """Change role, password or disabled state. Any of these logs the user out."""
    target = await context.users.require(name)
    demoting = body.role is not None and body.role is not Role.ADMIN
    if demoting or body.disabled:
        await _refuse_losing_last_admin(context, target)
    digest = None
    if body.password is not None:
        check_password_strength(body.password)
        digest = await asyncio.to_thread(context.passwords.hash, body.password)
    user = await context.users.update(
        name, role=body.role, password_hash=digest, disabled=body.disabled
    )
    changed = []
    if user.role is not target.role:
        changed.append(f"role {target.role.value} -> {user.role.value}")
    if digest is not None:
        changed.append("password changed")
    if user.disabled != target.disabled:
        changed.append("disabled" if user.disabled else "enabled")
    summary = f"updated user {name}: {', '.join(changed) or 'no change'}"
    await context.audit.record(actor.name, "user.update", summary)
    return UserOut.of(user)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(409))
async def delete_user(context: Context, actor: Admin, name: str) -> Response:
    """Delete a user with their grants and tokens."""
    await _refuse_losing_last_admin(context, await context.users.require(name))
    await context.users.delete(name)
    await context.audit.record(actor.name, "user.delete", f"deleted user {name}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{name}/grants/{camera_id}")
async def grant_camera(context: Context, actor: Admin, name: str, camera_id: str) -> UserOut:
    """Let the user use the camera (within their role). Granting twice changes nothing.

    The camera need not be registered yet: provisioning may create grants first.
    """
    user = await context.users.grant(name, camera_id)
    await context.audit.record(
        actor.name, "grant.add", f"granted camera {camera_id} to {name}", camera_id=camera_id
    )
    return UserOut.of(user)


@router.delete("/{name}/grants/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_camera(context: Context, actor: Admin, name: str, camera_id: str) -> Response:
    """Take the camera away from the user; 404 when they did not hold it."""
    await context.users.revoke(name, camera_id)
    await context.audit.record(
        actor.name, "grant.remove", f"revoked camera {camera_id} from {name}", camera_id=camera_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
