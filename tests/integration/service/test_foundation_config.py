"""Settings from a TOML file with ``PLATONICAM_...`` overrides, and the messages for bad files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from platonicam.config import ConfigError, load_settings

GOOD = """\
data_dir = "{data}"

[http]
bind = "0.0.0.0"
port = 9000

[auth]
access_token_seconds = 300

[discovery]
interfaces = ["127.0.0.1"]
unicast_targets = ["127.0.0.1:8000"]
timeout = 2.5
multicast = false

[tls]
verify_cameras = true
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("PLATONICAM_"):
            monkeypatch.delenv(name)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "platonicam.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_values_and_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.format(data=tmp_path / "d"))
    settings = load_settings(path)
    assert settings.data_dir == tmp_path / "d"
    assert (settings.http.bind, settings.http.port) == ("0.0.0.0", 9000)
    assert settings.auth.access_token_seconds == 300
    assert settings.auth.refresh_token_seconds == 14 * 24 * 3600  # default kept
    assert settings.discovery.interfaces == ["127.0.0.1"]
    assert settings.discovery.unicast_targets == ["127.0.0.1:8000"]
    assert (settings.discovery.timeout, settings.discovery.multicast) == (2.5, False)
    assert settings.tls.verify_cameras is True
    assert settings.database.url == f"sqlite+aiosqlite:///{tmp_path / 'd' / 'platonicam.db'}"
    assert settings.mqtt.url == ""
    assert settings.config_file == path


def test_environment_overrides_the_file_and_flags_override_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, GOOD.format(data=tmp_path / "d"))
    monkeypatch.setenv("PLATONICAM_HTTP__PORT", "9100")
    monkeypatch.setenv("PLATONICAM_DATABASE__URL", "postgresql+asyncpg://pc@127.0.0.1/pc")
    monkeypatch.setenv("PLATONICAM_MQTT__URL", "mqtt://127.0.0.1:1883")
    monkeypatch.setenv("PLATONICAM_DISCOVERY__INTERFACES", '["127.0.0.2"]')
    monkeypatch.setenv("PLATONICAM_AUTH__SECRET", "from-the-environment")
    settings = load_settings(path)
    assert (settings.http.bind, settings.http.port) == ("0.0.0.0", 9100)  # bind from the file
    assert settings.database.url == "postgresql+asyncpg://pc@127.0.0.1/pc"
    assert settings.mqtt.url == "mqtt://127.0.0.1:1883"
    assert settings.discovery.interfaces == ["127.0.0.2"]
    assert settings.auth.secret is not None
    assert settings.auth.secret.get_secret_value() == "from-the-environment"
    assert "from-the-environment" not in repr(settings)

    flagged = load_settings(path, data_dir=tmp_path / "flag", http={"port": 0}, database=None)
    assert flagged.data_dir == tmp_path / "flag"
    assert flagged.http.port == 0
    assert flagged.database.url == "postgresql+asyncpg://pc@127.0.0.1/pc"


def test_config_file_from_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "[http]\nport = 8123\n")
    monkeypatch.setenv("PLATONICAM_CONFIG", str(path))
    assert load_settings().http.port == 8123


def test_half_written_file_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, '[http]\nbind = "127.0.0.1"\nport = \n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == f"{path}, line 3, column 8: not valid TOML: invalid value"

    unterminated = _write(tmp_path, "[http\nport = 1\n")
    with pytest.raises(ConfigError, match=rf"^{unterminated}, line 1, column 6: not valid TOML: "):
        load_settings(unterminated)


def test_wrong_types_and_unknown_keys_name_the_line_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(
        tmp_path, '[http]\nport = "eighty"\n\n[discovery]\ntimeout = 5\ninterface = "lo"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == (
        "invalid configuration:\n"
        f"  {path}, line 2: http.port: Input should be a valid integer, unable to parse string "
        "as an integer\n"
        f"  {path}, line 6: discovery.interface: unknown setting (check the spelling and the "
        "section)"
    )
    monkeypatch.setenv("PLATONICAM_HTTP__PORT", "70000")
    with pytest.raises(ConfigError) as env_caught:
        load_settings(None)
    assert str(env_caught.value) == (
        "invalid configuration:\n"
        "  environment variable PLATONICAM_HTTP__PORT: http.port: Input should be less than or "
        "equal to 65535"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=rf"^config file {tmp_path / 'nope.toml'} does not exist$"
    ):
        load_settings(tmp_path / "nope.toml")


def test_the_cli_prints_the_message_not_a_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, "[http]\nport = \n")
    result = subprocess.run(
        [sys.executable, "-m", "platonicam", "users", "list", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip() == f"error: {path}, line 2, column 8: not valid TOML: invalid value"
    )
