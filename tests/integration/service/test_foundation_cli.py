"""`platonicam users ...` as an operator runs it: real subprocesses on a temporary data folder.

Afterwards the service started on the same folder accepts the user the CLI made.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from platonicam.store.records import Role
from tests.integration.service.foundation import running, settings_for

PASSWORD = "cli-made-password-1"


def users_cli(
    data_dir: Path, *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATONICAM_")}
    env["COLUMNS"] = "200"  # rich must not wrap the messages asserted below
    if password is not None:
        env["NEW_PASSWORD"] = password
    result = subprocess.run(
        [sys.executable, "-m", "platonicam", "users", *args, "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    for secret in (PASSWORD, "second-password-2"):
        assert secret not in result.stdout
        assert secret not in result.stderr
    assert "Traceback" not in result.stderr
    return result


async def test_users_cli_lifecycle_and_the_service_accepts_its_user(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = users_cli(
        data,
        "create",
        "ops",
        "--role",
        "admin",
        "--password-env",
        "NEW_PASSWORD",
        password=PASSWORD,
    )
    assert (created.returncode, created.stdout) == (0, "created user ops (admin)\n")
    viewer = users_cli(
        data,
        "create",
        "watcher",
        "--role",
        "viewer",
        "--password-env",
        "NEW_PASSWORD",
        "--json",
        password="second-password-2",
    )
    assert json.loads(viewer.stdout)["role"] == "viewer"

    again = users_cli(
        data,
        "create",
        "ops",
        "--role",
        "viewer",
        "--password-env",
        "NEW_PASSWORD",
        password=PASSWORD,
    )
    assert (again.returncode, again.stderr) == (1, "error: a user named 'ops' already exists\n")
    unset = users_cli(data, "create", "x", "--role", "viewer", "--password-env", "NEW_PASSWORD")
    assert (unset.returncode, unset.stderr) == (
        1,
        "error: environment variable NEW_PASSWORD is not set or empty\n",
    )
    weak = users_cli(
        data, "create", "x", "--role", "viewer", "--password-env", "NEW_PASSWORD", password="short"
    )
    assert weak.stderr == "error: a password needs at least 10 characters\n"
    bad_role = users_cli(data, "create", "x", "--role", "root")
    assert bad_role.returncode == 2
    assert "'root' is not one of 'viewer', 'operator', 'admin'" in bad_role.stderr

    granted = users_cli(data, "grant", "watcher", "cam-1")
    assert granted.stdout == "user watcher (viewer) may use cameras: cam-1\n"
    users_cli(data, "grant", "watcher", "cam-2")
    revoked = users_cli(data, "grant", "watcher", "cam-1", "--revoke")
    assert revoked.stdout == "user watcher (viewer) may use cameras: cam-2\n"
    updated = users_cli(data, "update", "watcher", "--role", "operator", "--disable")
    assert updated.stdout == "updated user watcher (operator)\n"

    listed = json.loads(users_cli(data, "list", "--json").stdout)
    assert [(u["name"], u["role"], u["disabled"], u["grants"]) for u in listed["users"]] == [
        ("ops", "admin", False, []),
        ("watcher", "operator", True, ["cam-2"]),
    ]
    table = users_cli(data, "list").stdout
    assert "watcher" in table
    assert "cam-2" in table

    missing = users_cli(data, "delete", "nobody")
    assert (missing.returncode, missing.stderr) == (1, "error: no user named 'nobody'\n")

    # The service on the same folder: no generated admin (users exist), the CLI's admin logs in.
    async with running(settings_for(data)) as service:
        assert service.console.getvalue() == ""
        login = await service.login("ops", PASSWORD)
        assert login.status_code == 200
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        audit = (await service.client.get("/api/audit", headers=headers)).json()["entries"]
        assert [(e["user"], e["action"], e["summary"]) for e in audit] == [
            ("cli", "user.update", "updated user watcher: role operator, disabled"),
            ("cli", "grant.remove", "revoked camera cam-1 from watcher"),
            ("cli", "grant.add", "granted camera cam-2 to watcher"),
            ("cli", "grant.add", "granted camera cam-1 to watcher"),
            ("cli", "user.create", "created user watcher with role viewer"),
            ("cli", "user.create", "created user ops with role admin"),
        ]
        assert (await service.context.users.require("watcher")).role is Role.OPERATOR

    deleted = users_cli(data, "delete", "watcher")
    assert deleted.stdout == "deleted user watcher\n"
    assert [u["name"] for u in json.loads(users_cli(data, "list", "--json").stdout)["users"]] == [
        "ops"
    ]
