"""Secrets at rest: camera passwords encrypted with a key the database never holds.

Camera passwords must be sent to cameras, so they are encrypted (Fernet:
AES-128-CBC with an HMAC-SHA256, from ``cryptography``), not hashed. The key
comes from ``PLATONICAM_CREDENTIALS_KEY`` when set, otherwise from the file
``credentials.key`` in the data folder, created on first start with mode 0600.
A stolen database alone therefore reveals no camera password; a stolen data
folder does, so it is created 0700.

:func:`read_or_create_secret` is also how the service keeps its token-signing
secret. Nothing here logs or formats a secret into a message.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Final

from cryptography.fernet import Fernet, InvalidToken

from platonicam.errors import PlatonicamError

CREDENTIALS_KEY_FILE: Final = "credentials.key"
JWT_SECRET_FILE: Final = "jwt-secret"  # noqa: S105 - a file name, not a secret


class SecretsError(PlatonicamError):
    """A key is missing, malformed or does not match what was encrypted with it."""


def ensure_data_dir(path: Path) -> Path:
    """Create the data folder (mode 0700) if missing; return it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def read_or_create_secret(path: Path, create: Callable[[], bytes]) -> bytes:
    """The secret stored in ``path``; on first use, ``create()`` written there with mode 0600.

    The file is created with ``O_EXCL`` so two processes starting together do
    not overwrite each other's key: the loser reads the winner's. Surrounding
    whitespace is stripped (people edit these files).
    """
    ensure_data_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_bytes().strip()
        if not value:
            raise SecretsError(f"{path} is empty: delete it to have a new one created") from None
        return value
    value = create()
    with os.fdopen(fd, "wb") as file:
        file.write(value + b"\n")
    return value


def generate_token_secret() -> bytes:
    """A 256-bit random secret, urlsafe-base64 text."""
    return secrets.token_urlsafe(32).encode("ascii")


class CredentialCipher:
    """Encrypts and decrypts camera passwords with one Fernet key."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError:
            raise SecretsError(
                "the credentials key is not a Fernet key (32 bytes, urlsafe base64): "
                "generate one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`"
            ) from None

    @classmethod
    def from_data_dir(cls, data_dir: Path, env_key: str | None = None) -> CredentialCipher:
        """The cipher for ``env_key`` if given, else for the data folder's key file."""
        if env_key:
            return cls(env_key.encode("ascii"))
        return cls(read_or_create_secret(data_dir / CREDENTIALS_KEY_FILE, Fernet.generate_key))

    def encrypt(self, plaintext: str) -> str:
        """An ASCII token holding ``plaintext``; a fresh random IV each time."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plaintext of ``token``; :class:`SecretsError` if another key made it."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretsError(
                "a stored camera password cannot be decrypted with the current credentials "
                "key (was credentials.key replaced or PLATONICAM_CREDENTIALS_KEY changed?): "
                "restore the old key, or enter the camera's password again"
            ) from None
