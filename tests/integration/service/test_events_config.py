"""The broker from ``--mqtt-url`` and ``PLATONICAM_MQTT__*``: URL, credentials, prefix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from platonicam.cli.main import app
from platonicam.config import ConfigError, load_settings
from platonicam.service.events import with_mqtt_url


def test_environment_sets_the_broker_and_the_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings(None, data_dir=tmp_path).mqtt.topic_prefix == "platonicam/"
    assert load_settings(None, data_dir=tmp_path).mqtt.enabled is False
    monkeypatch.setenv("PLATONICAM_MQTT__URL", "mqtts://cam%40ops:p%3Ass@broker.example:8884")
    monkeypatch.setenv("PLATONICAM_MQTT__TOPIC_PREFIX", "site1/cams")
    mqtt = load_settings(None, data_dir=tmp_path).mqtt
    assert (mqtt.url, mqtt.host, mqtt.port, mqtt.tls) == (
        "mqtts://broker.example:8884",
        "broker.example",
        8884,
        True,
    )
    assert mqtt.username == "cam@ops"
    assert mqtt.password is not None
    assert mqtt.password.get_secret_value() == "p:ss"
    assert mqtt.topic_prefix == "site1/cams/"


def test_mqtt_url_option_keeps_the_rest_of_the_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLATONICAM_MQTT__TOPIC_PREFIX", "home/")
    monkeypatch.setenv("PLATONICAM_MQTT__USERNAME", "env-user")
    settings = load_settings(None, data_dir=tmp_path)
    flagged = with_mqtt_url(settings, "mqtt://127.0.0.1:1884")
    assert (flagged.mqtt.url, flagged.mqtt.topic_prefix, flagged.mqtt.username) == (
        "mqtt://127.0.0.1:1884",
        "home/",
        "env-user",
    )
    # Credentials in the URL replace those of the environment.
    own = with_mqtt_url(settings, "mqtt://me:secret@127.0.0.1")
    assert (own.mqtt.username, own.mqtt.port) == ("me", 1883)
    with pytest.raises(ConfigError) as caught:
        with_mqtt_url(settings, "http://me:hunter2@127.0.0.1")
    assert str(caught.value) == (
        "--mqtt-url: Value error, MQTT url must look like mqtt://HOST[:PORT] or "
        "mqtts://HOST[:PORT]; scheme 'http' is not"
    )
    assert "hunter2" not in str(caught.value)


def test_serve_refuses_a_bad_mqtt_url_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["serve", "--data-dir", str(tmp_path), "--mqtt-url", "ftp://127.0.0.1"]
    )
    assert result.exit_code == 1
    assert "error: --mqtt-url: Value error, MQTT url must look like" in result.output
