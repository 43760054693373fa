"""The service's foundation through its REST API: login, refresh, roles, grants, users, audit.

Every test runs the real app (``create_app``) with its lifespan on a fresh
SQLite data folder; the clock is a :class:`FakeClock`, so expiry is tested by
moving time, not by sleeping.
"""

from __future__ import annotations

import io
import logging
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import Depends

from platonicam.service.deps import requires
from platonicam.store.records import Role, UserRecord
from tests.integration.service.foundation import Service, running, settings_for
from tests.integration.store.postgres import database_url_for

PROBLEM = "application/problem+json"
WRONG_LOGIN = {
    "type": "urn:platonicam:problem:invalid-credentials",
    "title": "Login failed",
    "status": 401,
    "detail": "Wrong user name or password",
    "code": "invalid-credentials",
}


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    async with running(settings_for(tmp_path / "data")) as started:
        yield started


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Service]:
    """The service on each database backend (the lifespan migrates the empty database)."""
    url = database_url_for(request.param, tmp_path)
    async with running(settings_for(tmp_path / "data", database={"url": url})) as started:
        yield started


async def test_health_is_open_and_says_ok(service: Service) -> None:
    response = await service.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "0.1.0", "database": "ok"}


async def test_first_start_creates_and_prints_the_admin_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = settings_for(tmp_path / "data")
    first_console = io.StringIO()
    async with running(settings, console=first_console) as service:
        password = service.first_admin_password()
        assert password is not None
        assert len(password) == 20
        assert "user:     admin" in first_console.getvalue()
        login = await service.login("admin", password)
        assert login.status_code == 200
        users = await service.client.get(
            "/api/users", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
        assert [(u["name"], u["role"]) for u in users.json()["users"]] == [("admin", "admin")]
    # Never in the log, only on the console.
    assert password not in caplog.text
    assert "created the first admin user 'admin'" in caplog.text
    # The data folder is private and holds the secrets, each 0600.
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("credentials.key", "jwt-secret"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600

    second_console = io.StringIO()
    async with running(settings, console=second_console) as service:
        assert second_console.getvalue() == ""
        assert (await service.login("admin", password)).status_code == 200  # same secret, same user


async def test_login_refresh_and_expiry(any_backend: Service) -> None:
    service = any_backend
    await service.add_user("olga", Role.ADMIN, "olga-password-1")
    response = await service.login("olga", "olga-password-1")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", 900)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await service.client.get("/api/audit", headers=headers)).status_code == 200

    service.clock.advance(900)
    expired = await service.client.get("/api/audit", headers=headers)
    assert expired.status_code == 401
    assert expired.headers["content-type"] == PROBLEM
    assert expired.headers["www-authenticate"] == "Bearer"
    assert expired.json()["detail"] == (
        "The access token has expired: get a new one from POST /api/auth/refresh"
    )

    refreshed = await service.client.post(
        "/api/auth/refresh", json={"refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 200
    fresh = refreshed.json()
    assert fresh["refresh_token"] != body["refresh_token"]
    new_headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert (await service.client.get("/api/audit", headers=new_headers)).status_code == 200

    # A refresh token works once; presenting it again also kills the one issued from it.
    reused = await service.client.post(
        "/api/auth/refresh", json={"refresh_token": body["refresh_token"]}
    )
    assert reused.status_code == 401
    assert reused.json()["detail"] == (
        "The refresh token is not valid (expired, used or revoked): log in again"
    )
    again = await service.client.post(
        "/api/auth/refresh", json={"refresh_token": fresh["refresh_token"]}
    )
    assert again.status_code == 401

    # Refresh tokens expire too (14 days by default).
    third = (await service.login("olga", "olga-password-1")).json()
    service.clock.advance(14 * 24 * 3600)
    late = await service.client.post(
        "/api/auth/refresh", json={"refresh_token": third["refresh_token"]}
    )
    assert late.status_code == 401


async def test_wrong_login_gives_no_hint_which_part_was_wrong(service: Service) -> None:
    await service.add_user("vera", Role.VIEWER, "vera-password-1")
    await service.add_user("gone", Role.VIEWER, "gone-password-1")
    await service.context.users.update("gone", disabled=True)
    answers = [
        await service.login("vera", "wrong-password"),
        await service.login("nobody", "vera-password-1"),
        await service.login("gone", "gone-password-1"),
    ]
    for answer in answers:
        assert answer.status_code == 401
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json() == WRONG_LOGIN
        assert "password-1" not in answer.text


async def test_login_rate_limit_per_user_and_per_address(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path / "data",
        auth={"login_failures_per_user": 3, "login_failures_per_address": 5},
    )
    async with running(settings) as service:
        await service.add_user("ivan", Role.VIEWER, "ivan-password-1")
        for _ in range(3):
            assert (await service.login("ivan", "guess")).status_code == 401
        limited = await service.login("ivan", "ivan-password-1")  # even the right password
        assert limited.status_code == 429
        assert limited.headers["content-type"] == PROBLEM
        assert limited.headers["retry-after"] == "300"
        assert limited.json() == {
            "type": "urn:platonicam:problem:login-rate-limited",
            "title": "Too many failed logins",
            "status": 429,
            "detail": "Too many failed logins for this user; try again in 300 seconds.",
            "code": "login-rate-limited",
        }
        # From another address, the user is still locked (it is counted per user) ...
        assert (await service.login("ivan", "x", address="127.0.0.9")).status_code == 429
        # ... and one address guessing at many users is stopped too.
        for name in ("a1", "a2"):
            assert (await service.login(name, "x")).status_code == 401
        by_address = await service.login("someone", "x")
        assert by_address.status_code == 429
        assert by_address.json()["detail"] == (
            "Too many failed logins for this address; try again in 300 seconds."
        )
        service.clock.advance(300)
        assert (await service.login("ivan", "ivan-password-1")).status_code == 200


async def test_changed_password_or_deleted_user_revokes_tokens(service: Service) -> None:
    await service.add_user("root2", Role.ADMIN)
    await service.add_user("pat", Role.OPERATOR)
    admin = await service.headers_for("root2")
    pat = (await service.login("pat", "pass-word-123")).json()
    pat_headers = {"Authorization": f"Bearer {pat['access_token']}"}
    self_check = await service.client.get("/api/users", headers=pat_headers)
    assert self_check.status_code == 403  # valid token, not an admin

    changed = await service.client.patch(
        "/api/users/pat", headers=admin, json={"password": "brand-new-password"}
    )
    assert changed.status_code == 200
    revoked = await service.client.get("/api/users", headers=pat_headers)
    assert revoked.status_code == 401
    assert revoked.json()["detail"] == "The access token was revoked: log in again"
    stale_refresh = await service.client.post(
        "/api/auth/refresh", json={"refresh_token": pat["refresh_token"]}
    )
    assert stale_refresh.status_code == 401
    assert (await service.login("pat", "brand-new-password")).status_code == 200

    assert (await service.client.delete("/api/users/pat", headers=admin)).status_code == 204
    assert (await service.login("pat", "brand-new-password")).json() == WRONG_LOGIN


# ---------------------------------------------------------------- authorization matrix

# Every route this module owns, with a request that would succeed for an admin.
ROUTES: list[tuple[str, str, dict[str, object] | None, int]] = [
    ("GET", "/api/users", None, 200),
    (
        "POST",
        "/api/users",
        {"name": "newbie", "role": "viewer", "password": "a-good-password"},
        201,
    ),
    ("PATCH", "/api/users/target", {"role": "operator"}, 200),
    ("PUT", "/api/users/target/grants/cam-7", None, 200),
    ("DELETE", "/api/users/target/grants/cam-1", None, 204),
    ("DELETE", "/api/users/target", None, 204),
    ("GET", "/api/audit", None, 200),
]
IDENTITIES = ["none", "expired", "garbage", "viewer", "operator", "admin"]


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize(
    ("method", "path", "body", "admin_status"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES]
)
async def test_authorization_matrix(
    service: Service,
    identity: str,
    method: str,
    path: str,
    body: dict[str, object] | None,
    admin_status: int,
) -> None:
    await service.add_user("root", Role.ADMIN)
    await service.add_user("op", Role.OPERATOR, grants=("cam-1", "cam-7"))
    await service.add_user("view", Role.VIEWER, grants=("cam-1",))
    await service.add_user("target", Role.VIEWER, grants=("cam-1",))
    headers: dict[str, str] = {}
    if identity == "expired":
        headers = await service.headers_for("root")
        service.clock.advance(901)
    elif identity == "garbage":
        headers = {"Authorization": "Bearer not.a.token"}
    elif identity != "none":
        headers = await service.headers_for(
            {"viewer": "view", "operator": "op"}.get(identity, "root")
        )

    response = await service.client.request(method, path, headers=headers, json=body)
    expected = {"none": 401, "expired": 401, "garbage": 401, "viewer": 403, "operator": 403}
    assert response.status_code == expected.get(identity, admin_status), response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        if response.status_code == 401:
            assert response.headers["www-authenticate"] == "Bearer"
            assert problem["code"] == "not-authenticated"
        else:
            assert problem["code"] == "forbidden"
            role = {"viewer": "viewer", "operator": "operator"}[identity]
            user = {"viewer": "view", "operator": "op"}[identity]
            assert problem["detail"] == f"This needs the admin role; user {user!r} is {role}"
    assert "pass-word-123" not in response.text
    assert "a-good-password" not in response.text
    assert "argon2" not in response.text


@pytest.mark.parametrize(
    ("identity", "camera_id", "status"),
    [
        ("none", "cam-1", 401),
        ("viewer", "cam-1", 403),  # role too low for an operator route, grant or not
        ("operator", "cam-1", 200),
        ("operator", "cam-2", 403),  # no grant for this camera
        ("admin", "cam-2", 200),  # admins need no grants
    ],
)
async def test_camera_grant_dependency(
    service: Service, identity: str, camera_id: str, status: int
) -> None:
    async def operate(
        camera_id: str,
        user: Annotated[UserRecord, Depends(requires(Role.OPERATOR, camera="camera_id"))],
    ) -> dict[str, str]:
        return {"user": user.name, "camera": camera_id}

    service.app.add_api_route("/test/cameras/{camera_id}/operate", operate, methods=["POST"])
    await service.add_user("root", Role.ADMIN)
    await service.add_user("op", Role.OPERATOR, grants=("cam-1",))
    await service.add_user("view", Role.VIEWER, grants=("cam-1",))
    names = {"viewer": "view", "operator": "op", "admin": "root"}
    headers = await service.headers_for(names[identity]) if identity in names else {}
    response = await service.client.post(f"/test/cameras/{camera_id}/operate", headers=headers)
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"user": names[identity], "camera": camera_id}
    elif identity == "operator":
        assert response.json()["detail"] == (
            "User 'op' has no grant for camera 'cam-2': an admin can grant it with "
            "PUT /api/users/op/grants/cam-2"
        )


# ---------------------------------------------------------------- users and audit


async def test_user_administration_and_its_audit_trail(any_backend: Service) -> None:
    service = any_backend
    await service.add_user("root", Role.ADMIN)
    admin = await service.headers_for("root")
    client = service.client

    created = await client.post(
        "/api/users",
        headers=admin,
        json={"name": "nina", "role": "viewer", "password": "nina-secret-pw"},
    )
    assert created.status_code == 201
    assert created.json() == {
        "name": "nina",
        "role": "viewer",
        "disabled": False,
        "grants": [],
        "createdAt": "2026-01-02T03:04:05Z",
        "updatedAt": "2026-01-02T03:04:05Z",
    }
    duplicate = await client.post(
        "/api/users", headers=admin, json={"name": "nina", "role": "admin", "password": "x" * 12}
    )
    assert (duplicate.status_code, duplicate.json()["detail"]) == (
        409,
        "A user named 'nina' already exists",
    )
    weak = await client.post(
        "/api/users", headers=admin, json={"name": "weak", "role": "viewer", "password": "short"}
    )
    assert (weak.status_code, weak.json()["code"]) == (422, "weak-password")
    bad_name = await client.post(
        "/api/users", headers=admin, json={"name": "a b", "role": "viewer", "password": "x" * 12}
    )
    assert bad_name.status_code == 422
    assert bad_name.json()["errors"][0]["field"] == "body.name"

    granted = await client.put("/api/users/nina/grants/cam-3", headers=admin)
    assert granted.json()["grants"] == ["cam-3"]
    service.clock.advance(10)
    patched = await client.patch(
        "/api/users/nina", headers=admin, json={"role": "operator", "password": "nina-new-pw-2"}
    )
    assert patched.status_code == 200
    assert (patched.json()["role"], patched.json()["updatedAt"]) == (
        "operator",
        "2026-01-02T03:04:15Z",
    )
    assert (await service.login("nina", "nina-new-pw-2")).status_code == 200
    missing = await client.delete("/api/users/nina/grants/cam-9", headers=admin)
    assert (missing.status_code, missing.json()["detail"]) == (
        404,
        "No grant named 'nina/cam-9'",
    )
    assert (await client.delete("/api/users/nina/grants/cam-3", headers=admin)).status_code == 204
    assert (await client.delete("/api/users/nina", headers=admin)).status_code == 204
    assert (await client.patch("/api/users/nina", headers=admin, json={})).status_code == 404

    # The last enabled admin cannot lock everyone out (the generated one goes first).
    assert (await client.delete("/api/users/admin", headers=admin)).status_code == 204
    for refused in (
        await client.delete("/api/users/root", headers=admin),
        await client.patch("/api/users/root", headers=admin, json={"role": "viewer"}),
        await client.patch("/api/users/root", headers=admin, json={"disabled": True}),
    ):
        assert (refused.status_code, refused.json()["detail"]) == (
            409,
            "'root' is the last enabled admin: make another user admin first",
        )

    audit = await client.get("/api/audit", headers=admin)
    assert audit.status_code == 200
    entries = audit.json()["entries"]
    assert [(e["user"], e["action"], e["cameraId"], e["summary"]) for e in entries] == [
        ("root", "user.delete", None, "deleted user admin"),
        ("root", "user.delete", None, "deleted user nina"),
        ("root", "grant.remove", "cam-3", "revoked camera cam-3 from nina"),
        (
            "root",
            "user.update",
            None,
            "updated user nina: role viewer -> operator, password changed",
        ),
        ("root", "grant.add", "cam-3", "granted camera cam-3 to nina"),
        ("root", "user.create", None, "created user nina with role viewer"),
    ]
    assert entries[0]["at"] == "2026-01-02T03:04:15Z"
    assert audit.json()["nextBeforeId"] is None
    assert "nina-new-pw-2" not in audit.text
    assert "nina-secret-pw" not in audit.text
    page = (await client.get("/api/audit?limit=2", headers=admin)).json()
    assert [e["summary"] for e in page["entries"]] == ["deleted user admin", "deleted user nina"]
    older = await client.get(f"/api/audit?limit=2&before_id={page['nextBeforeId']}", headers=admin)
    assert [e["action"] for e in older.json()["entries"]] == ["grant.remove", "user.update"]
    filtered = await client.get("/api/audit?camera_id=cam-3&action=grant.add", headers=admin)
    assert [e["summary"] for e in filtered.json()["entries"]] == ["granted camera cam-3 to nina"]


async def test_openapi_documents_the_bearer_scheme_and_problem_bodies(service: Service) -> None:
    document = (await service.client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/api/auth/token"
    login = document["paths"]["/api/auth/token"]["post"]
    assert "application/x-www-form-urlencoded" in login["requestBody"]["content"]
    assert "application/problem+json" in login["responses"]["429"]["content"]
    assert "security" not in document["paths"]["/health"]["get"]
    assert document["paths"]["/api/users"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]
