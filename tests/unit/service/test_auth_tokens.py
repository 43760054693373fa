"""Access tokens, password hashes and the login rate limiter, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from argon2 import PasswordHasher

from platonicam.service.auth import (
    InvalidToken,
    LoginRateLimited,
    LoginRateLimiter,
    Passwords,
    Tokens,
    WeakPassword,
    check_password_strength,
    generate_password,
)
from platonicam.store.database import Database
from platonicam.store.records import Role, UserRecord
from platonicam.store.repositories import RefreshTokenRepository, UserRepository
from tests.conftest import FakeClock

SECRET = b"0123456789abcdef0123456789abcdef"
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
USER = UserRecord(
    id=1,
    name="alice",
    role=Role.OPERATOR,
    disabled=False,
    token_version=3,
    created_at=T0,
    updated_at=T0,
)


def _tokens(tmp_path: Path, clock: FakeClock, access_seconds: int = 900) -> Tokens:
    # The repositories are not touched by the synchronous token methods tested here.
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    return Tokens(
        secret=SECRET,
        clock=clock,
        users=UserRepository(database.sessions, clock),
        refresh_tokens=RefreshTokenRepository(database.sessions, clock),
        access_seconds=access_seconds,
        refresh_seconds=3600,
    )


def test_access_token_claims_and_expiry_on_the_injected_clock(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    tokens = _tokens(tmp_path, clock)
    token = tokens.access_token(USER)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["sub"] == "alice"
    assert claims["ver"] == 3
    assert claims["typ"] == "access"
    assert claims["iss"] == "platonicam"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["iat"] == int(T0.timestamp())
    assert "role" not in claims  # the role is read from the database on every request

    verified = tokens.verify_access(token)
    assert (verified.subject, verified.version) == ("alice", 3)
    assert verified.expires_at == T0 + timedelta(seconds=900)

    clock.advance(899)
    assert tokens.verify_access(token).subject == "alice"
    clock.advance(1)
    with pytest.raises(InvalidToken) as caught:
        tokens.verify_access(token)
    assert str(caught.value) == (
        "the access token has expired: get a new one from POST /api/auth/refresh"
    )


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param(
            jwt.encode(
                {"sub": "alice", "iss": "platonicam", "exp": 2**40, "ver": 0, "typ": "access"},
                b"another-secret-another-secret-xx",
                algorithm="HS256",
            ),
            id="wrong-secret",
        ),
        pytest.param(
            jwt.encode(
                {"sub": "alice", "iss": "platonicam", "exp": 2**40, "ver": 0, "typ": "refresh"},
                SECRET,
                algorithm="HS256",
            ),
            id="wrong-type",
        ),
        pytest.param(
            jwt.encode(
                {"sub": "alice", "iss": "platonicam", "exp": 2**40, "ver": 0, "typ": "access"},
                SECRET * 2,  # HS512 wants 64 bytes
                algorithm="HS512",
            ),
            id="other-algorithm",
        ),
        pytest.param(
            jwt.encode(
                {"sub": "alice", "iss": "someone-else", "exp": 2**40, "ver": 0, "typ": "access"},
                SECRET,
                algorithm="HS256",
            ),
            id="wrong-issuer",
        ),
    ],
)
def test_forged_or_foreign_tokens_are_refused(tmp_path: Path, token: str) -> None:
    with pytest.raises(InvalidToken, match=r"^the access token is not valid: log in again$"):
        _tokens(tmp_path, FakeClock(T0)).verify_access(token)


def test_unsigned_token_is_refused(tmp_path: Path) -> None:
    header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}
    payload = jwt.utils.base64url_encode(
        b'{"sub":"alice","iss":"platonicam","exp":9999999999,"ver":3,"typ":"access"}'
    ).decode()
    with pytest.raises(InvalidToken):
        _tokens(tmp_path, FakeClock(T0)).verify_access(f"{header}.{payload}.")


def test_passwords_hash_verify_and_unknown_user() -> None:
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    stored = passwords.hash("a long passphrase")
    assert stored.startswith("$argon2id$")
    assert "a long passphrase" not in stored
    assert passwords.verify(stored, "a long passphrase") is True
    assert passwords.verify(stored, "a long passphrasE") is False
    assert passwords.verify(None, "a long passphrase") is False  # unknown user: still hashed
    assert passwords.verify("not-a-hash", "x") is False


def test_password_rules_and_generated_passwords() -> None:
    with pytest.raises(WeakPassword, match="a password needs at least 10 characters"):
        check_password_strength("short")
    check_password_strength("0123456789")
    generated = {generate_password() for _ in range(20)}
    assert len(generated) == 20
    assert all(len(p) == 20 for p in generated)


def test_rate_limit_per_user_then_window_slides() -> None:
    clock = FakeClock(T0)
    limiter = LoginRateLimiter(clock=clock, per_user=3, per_address=10, window_seconds=60)
    for _ in range(3):
        limiter.check("Alice", "127.0.0.1")
        limiter.failed("Alice", "127.0.0.1")
        clock.advance(10)
    with pytest.raises(LoginRateLimited) as caught:
        limiter.check("alice", "127.0.0.2")  # user names compare case-insensitively
    assert (caught.value.scope, caught.value.retry_after) == ("user", 30)
    assert str(caught.value) == "too many failed logins for this user; try again in 30 seconds"
    limiter.check("bob", "127.0.0.1")  # another user from the same address may still try
    clock.advance(30)
    limiter.check("alice", "127.0.0.1")  # the oldest failure left the window


def test_rate_limit_per_address_and_success_resets_only_the_user() -> None:
    clock = FakeClock(T0)
    limiter = LoginRateLimiter(clock=clock, per_user=5, per_address=4, window_seconds=300)
    for name in ("a", "b", "c", "d"):
        limiter.failed(name, "10.9.9.9")
    with pytest.raises(LoginRateLimited) as caught:
        limiter.check("e", "10.9.9.9")
    assert (caught.value.scope, caught.value.retry_after) == ("address", 300)
    limiter.succeeded("a")
    with pytest.raises(LoginRateLimited):
        limiter.check("a", "10.9.9.9")
    limiter.check("a", "127.0.0.1")
