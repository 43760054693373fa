"""Login (``POST /api/auth/token``, the OAuth2 password form) and token refresh.

A failed login answers 401 with the same message whether the user exists or
not, the password was wrong, or the user is disabled. Failures are counted per
user name and per client address; past the limit the answer is 429 with
``Retry-After``, checked *before* the password so a guesser learns nothing more.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from platonicam.service.auth import InvalidCredentials
from platonicam.service.deps import Context
from platonicam.service.schemas.auth import RefreshIn, TokenOut
from platonicam.service.schemas.problem import problem_responses

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", responses=problem_responses(401, 422, 429))
async def login(
    context: Context,
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenOut:
    """Trade a user name and password for an access token and a refresh token."""
    address = request.client.host if request.client is not None else "unknown"
    context.login_limiter.check(form.username, address)
    stored = await context.users.password_hash(form.username)
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    good = await asyncio.to_thread(context.passwords.verify, stored, form.password)
    user = await context.users.get(form.username) if good else None
    if user is None or user.disabled:
        context.login_limiter.failed(form.username, address)
        logger.info("failed login for user %r from %s", form.username, address)
        raise InvalidCredentials
    context.login_limiter.succeeded(form.username)
    pair = await context.tokens.issue(user)
    return TokenOut(
        access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token
    )


@router.post("/refresh", responses=problem_responses(401, 422))
async def refresh(context: Context, body: RefreshIn) -> TokenOut:
    """Trade a refresh token (usable once) for a new access token and refresh token."""
    _, pair = await context.tokens.refresh(body.refresh_token)
    return TokenOut(
        access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token
    )
