"""The broker from ``--mqtt-url`` and ``PLATONICAM_MQTT__*``: URL, credentials, prefix;
the ``[events]`` collection mode and push address from ``PLATONICAM_EVENTS__*``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from platonicam.cli.main import app
from platonicam.config import ConfigError, EventsSettings, HttpSettings, load_settings
from platonicam.service.events import (
    bound_base_url,
    local_address_towards,
    pullpoint_options,
    with_mqtt_url,
)


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


def test_events_mode_push_address_and_per_camera_modes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = load_settings(None, data_dir=tmp_path).events
    assert (events.mode, events.camera_modes, events.push_base_url) == ("auto", {}, "")
    monkeypatch.setenv("PLATONICAM_EVENTS__MODE", "push")
    monkeypatch.setenv("PLATONICAM_EVENTS__CAMERA_MODES", '{"front-door": "pullpoint"}')
    monkeypatch.setenv("PLATONICAM_EVENTS__PUSH_BASE_URL", "https://nvr.example:8443/platonicam/")
    events = load_settings(None, data_dir=tmp_path).events
    assert events.mode == "push"
    assert events.camera_modes == {"front-door": "pullpoint"}
    assert events.push_base_url == "https://nvr.example:8443/platonicam"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PLATONICAM_EVENTS__MODE", "poll", "Input should be 'auto', 'pullpoint' or 'push'"),
        (
            "PLATONICAM_EVENTS__PUSH_BASE_URL",
            "nvr.example:8080",
            "must look like http://HOST[:PORT][/PATH]",
        ),
        ("PLATONICAM_EVENTS__PUSH_BASE_URL", "http://0.0.0.0:8080", "no address a camera can"),
        ("PLATONICAM_EVENTS__PUSH_BASE_URL", "http://nvr:80x", "is not a URL"),
    ],
)
def test_bad_events_settings_are_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(None, data_dir=tmp_path)
    text = str(caught.value)
    assert f"environment variable {variable}" in text
    assert message in text


def test_the_push_address_defaults_to_the_bound_one() -> None:
    assert bound_base_url(HttpSettings(bind="192.0.2.5", port=8080)) == "http://192.0.2.5:8080"
    assert bound_base_url(HttpSettings(bind="::1", port=8443), https=True) == "https://[::1]:8443"
    # A wildcard bind names no one address (it is chosen per camera), nor does port 0.
    assert bound_base_url(HttpSettings(bind="0.0.0.0", port=8080)) is None
    assert bound_base_url(HttpSettings(bind="127.0.0.1", port=0)) is None


async def test_the_local_address_towards_a_camera_is_the_routed_one() -> None:
    assert await local_address_towards("127.0.0.1", 80) == "127.0.0.1"
    assert await local_address_towards("localhost", 80) in ("127.0.0.1", "::1")


def test_short_lifetimes_are_renewed_before_they_end() -> None:
    short = pullpoint_options(EventsSettings(termination=2))
    assert short.min_renew_interval.total_seconds() == 1.0
    default = pullpoint_options(EventsSettings())
    assert default.min_renew_interval.total_seconds() == 5.0
