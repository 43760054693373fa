"""Credential encryption at rest and the secret files in the data folder."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from platonicam.store.secrets import (
    CREDENTIALS_KEY_FILE,
    CredentialCipher,
    SecretsError,
    generate_token_secret,
    read_or_create_secret,
)

PASSWORD = "correct horse battery staple"


def test_round_trip_and_ciphertext_hides_the_password(tmp_path: Path) -> None:
    cipher = CredentialCipher.from_data_dir(tmp_path / "data")
    token = cipher.encrypt(PASSWORD)
    assert PASSWORD not in token
    assert "horse" not in token
    assert token.startswith("gAAAAA")  # Fernet version byte 0x80, base64
    assert cipher.decrypt(token) == PASSWORD
    # A fresh IV each time: equal passwords do not give equal ciphertexts.
    assert cipher.encrypt(PASSWORD) != token
    assert cipher.decrypt(cipher.encrypt("pässwörd ✓")) == "pässwörd ✓"


def test_key_file_is_created_once_with_mode_0600_in_a_0700_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = CredentialCipher.from_data_dir(data)
    key_file = data / CREDENTIALS_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    key = key_file.read_bytes()
    Fernet(key.strip())  # a valid Fernet key
    # A second start reads the same key and can decrypt what the first wrote.
    second = CredentialCipher.from_data_dir(data)
    assert key_file.read_bytes() == key
    assert second.decrypt(first.encrypt(PASSWORD)) == PASSWORD


def test_key_from_the_environment_wins_and_creates_no_file(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    cipher = CredentialCipher.from_data_dir(tmp_path, key)
    assert not (tmp_path / CREDENTIALS_KEY_FILE).exists()
    assert CredentialCipher(key.encode()).decrypt(cipher.encrypt(PASSWORD)) == PASSWORD


def test_another_key_cannot_decrypt_and_says_what_to_do(tmp_path: Path) -> None:
    token = CredentialCipher(Fernet.generate_key()).encrypt(PASSWORD)
    with pytest.raises(SecretsError) as caught:
        CredentialCipher(Fernet.generate_key()).decrypt(token)
    assert str(caught.value) == (
        "a stored camera password cannot be decrypted with the current credentials key "
        "(was credentials.key replaced or PLATONICAM_CREDENTIALS_KEY changed?): restore the "
        "old key, or enter the camera's password again"
    )


def test_malformed_key_is_refused_with_a_recipe() -> None:
    with pytest.raises(SecretsError, match=r"^the credentials key is not a Fernet key"):
        CredentialCipher(b"not-a-key")


def test_secret_file_reused_and_empty_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "jwt-secret"
    first = read_or_create_secret(path, generate_token_secret)
    assert len(first) == 43  # 32 random bytes, urlsafe base64 without padding
    assert read_or_create_secret(path, lambda: b"other") == first
    path.write_bytes(b"  \n")
    with pytest.raises(SecretsError, match="jwt-secret is empty: delete it"):
        read_or_create_secret(path, generate_token_secret)
