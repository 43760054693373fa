"""Sans-IO parts of the MQTT bridge: settings, topics, payloads, back-off, the outbox."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from platonicam.events.model import Event, EventKind
from platonicam.events.mqtt import (
    MqttBridge,
    MqttSettings,
    Outbox,
    OutgoingMessage,
    backoff_delay,
    encode_event,
    event_topic,
    status_topic,
    topic_level,
)


class _ServiceSettings(BaseSettings):
    """How the service's config embeds MqttSettings (``PLATONICAM_MQTT__URL``)."""

    model_config = SettingsConfigDict(env_prefix="PLATONICAM_", env_nested_delimiter="__")
    mqtt: MqttSettings = MqttSettings()


# ---------------------------------------------------------------------- settings


def test_defaults_disable_the_bridge() -> None:
    settings = MqttSettings()
    assert (settings.enabled, settings.topic_prefix, settings.qos) == (False, "platonicam/", 1)
    assert settings.status_topic == "platonicam/status"
    with pytest.raises(ValueError, match="disabled"):
        MqttBridge(settings)


@pytest.mark.parametrize(
    ("url", "host", "port", "tls"),
    [
        ("mqtt://broker.lan", "broker.lan", 1883, False),
        ("mqtt://10.0.0.5:1884", "10.0.0.5", 1884, False),
        ("mqtts://broker.lan", "broker.lan", 8883, True),
        ("mqtts://[::1]:9883/", "::1", 9883, True),
    ],
)
def test_url_gives_host_port_and_tls(url: str, host: str, port: int, tls: bool) -> None:
    settings = MqttSettings(url=url)
    assert (settings.host, settings.port, settings.tls) == (host, port, tls)


def test_credentials_move_out_of_the_url() -> None:
    settings = MqttSettings(url="mqtts://alice:p%40ss%3Aw0rd@broker.lan:8884")
    assert settings.url == "mqtts://broker.lan:8884"
    assert settings.username == "alice"
    assert settings.password is not None
    assert settings.password.get_secret_value() == "p@ss:w0rd"
    assert "p@ss" not in repr(settings)
    assert "p@ss" not in str(settings.model_dump())


def test_user_without_password_in_url() -> None:
    settings = MqttSettings(url="mqtt://bob@broker.lan")
    assert (settings.url, settings.username, settings.password) == (
        "mqtt://broker.lan",
        "bob",
        None,
    )


def test_separate_credential_fields() -> None:
    settings = MqttSettings(url="mqtt://broker.lan", username="carol", password=SecretStr("secret"))
    assert settings.username == "carol"
    assert settings.password is not None
    assert settings.password.get_secret_value() == "secret"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"url": "http://broker.lan"}, "scheme 'http' is not"),
        ({"url": "broker.lan:1883"}, "scheme 'broker.lan' is not"),
        ({"url": "mqtt://"}, "it names no host"),
        ({"url": "mqtt://broker.lan:99999"}, "its port is not 1-65535"),
        ({"url": "mqtt://broker.lan:abc"}, "its port is not 1-65535"),
        ({"url": "mqtt://broker.lan:0"}, "its port is not 1-65535"),
        ({"url": "mqtt://broker.lan/topic"}, "it has a path or query"),
        (
            {"url": "mqtt://u:pw@broker.lan", "password": "pw2"},
            "MQTT credentials are given twice",
        ),
        ({"topic_prefix": "cams/+/x"}, "must not contain '+', '#' or NUL"),
        ({"topic_prefix": "$SYS/"}, "must not start with '$'"),
        ({"topic_prefix": "/"}, "topic_prefix must not be empty"),
        ({"discovery_prefix": "ha/#"}, "must not contain"),
        ({"qos": 3}, "less than or equal to 2"),
        ({"outbox_size": 0}, "greater than or equal to 1"),
        ({"reconnect_min": 5, "reconnect_max": 1}, "reconnect_max must be at least reconnect_min"),
        ({"brokr": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_malformed_settings_say_what_is_wrong(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        MqttSettings.model_validate(values)


def test_errors_never_show_the_password() -> None:
    with pytest.raises(ValidationError) as caught:
        MqttSettings(url="mqtt://user:hunter2@broker.lan:70000")
    assert "hunter2" not in str(caught.value)
    assert "its port is not 1-65535" in str(caught.value)
    with pytest.raises(ValidationError) as twice:
        MqttSettings.model_validate({"url": "mqtt://u:hunter2@h", "password": "hunter3"})
    assert "hunter2" not in str(twice.value)
    assert "hunter3" not in str(twice.value)


def test_prefix_gets_its_trailing_slash() -> None:
    assert MqttSettings(topic_prefix="site/cams").topic_prefix == "site/cams/"
    assert MqttSettings(topic_prefix="platonicam/").topic_prefix == "platonicam/"
    assert MqttSettings(discovery_prefix="/homeassistant/").discovery_prefix == "homeassistant"


def test_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLATONICAM_MQTT__URL", "mqtts://u:pw@broker.lan:8884")
    monkeypatch.setenv("PLATONICAM_MQTT__TOPIC_PREFIX", "home/cams")
    monkeypatch.setenv("PLATONICAM_MQTT__CA_FILE", str(tmp_path / "ca.pem"))
    settings = _ServiceSettings().mqtt
    assert settings.url == "mqtts://broker.lan:8884"
    assert settings.topic_prefix == "home/cams/"
    assert settings.ca_file == tmp_path / "ca.pem"
    assert settings.username == "u"


def test_malformed_environment_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATONICAM_MQTT__URL", "mqtt://u:topsecret@broker.lan:port")
    with pytest.raises(ValidationError) as caught:
        _ServiceSettings()
    text = str(caught.value)
    assert "mqtt.url" in text
    assert "its port is not 1-65535" in text
    assert "topsecret" not in text


# ---------------------------------------------------------------------- topics and payloads


def _event(kind: EventKind, camera: str = "cam1", **kwargs: object) -> Event:
    return Event(camera_id=camera, kind=kind, topic="T/t", raw_topic="tns1:T/t", **kwargs)  # type: ignore[arg-type]


def test_topic_level_escapes_what_mqtt_reserves() -> None:
    assert topic_level("cam-1") == "cam-1"
    assert topic_level("a/b+c#d%e") == "a%2Fb%2Bc%23d%25e"
    assert topic_level("") == "_"


@pytest.mark.parametrize(
    ("event", "topic"),
    [
        (_event(EventKind.MOTION, state=True), "platonicam/cam1/motion"),
        (_event(EventKind.LINE_CROSSING), "platonicam/cam1/line_crossing"),
        (
            _event(EventKind.DIGITAL_INPUT, source={"InputToken": "DI_2"}),
            "platonicam/cam1/digital_input/DI_2",
        ),
        (_event(EventKind.RELAY, source={"RelayToken": "r/1"}), "platonicam/cam1/relay/r%2F1"),
        # Axis names its port "port" (corpus events/axis_unknown_MetadataStream-port-any-init.xml)
        (_event(EventKind.DIGITAL_INPUT, source={"port": "1"}), "platonicam/cam1/digital_input/1"),
        (_event(EventKind.DIGITAL_INPUT), "platonicam/cam1/digital_input"),
        (_event(EventKind.TAMPER, camera="a/b"), "platonicam/a%2Fb/tamper"),
    ],
)
def test_event_topic(event: Event, topic: str) -> None:
    assert event_topic("platonicam/", event) == topic


def test_status_topic() -> None:
    assert status_topic("x/y/") == "x/y/status"


def test_encode_event_is_to_json_plus_id() -> None:
    event = _event(
        EventKind.MOTION,
        source={"Source": "vs1"},
        data={"State": "true"},
        state=True,
        time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    body = json.loads(encode_event(event, "abc-1"))
    assert body == {
        "id": "abc-1",
        "camera": "cam1",
        "kind": "motion",
        "topic": "T/t",
        "rawTopic": "tns1:T/t",
        "source": {"Source": "vs1"},
        "data": {"State": "true"},
        "state": True,
        "time": "2026-01-02T03:04:05Z",
        "propertyOperation": None,
    }
    assert "payloadXml" not in body


# ---------------------------------------------------------------------- back-off and outbox


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_delay(n, 0.5, 4.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_backoff_jitter_stays_within_a_quarter_and_above_the_floor() -> None:
    assert backoff_delay(3, 0.5, 30.0, jitter=0.0001) == pytest.approx(1.5, abs=0.001)
    assert backoff_delay(3, 0.5, 30.0, jitter=0.9999) == pytest.approx(2.5, abs=0.001)
    assert backoff_delay(1, 0.5, 30.0, jitter=0.0001) == 0.5


def _message(n: int) -> OutgoingMessage:
    return OutgoingMessage(f"t/{n}", str(n).encode(), 1, False)


def test_outbox_drops_the_oldest_beyond_its_bound() -> None:
    box = Outbox(3)
    for n in range(5):
        box.put(_message(n))
    assert (len(box), box.dropped) == (3, 2)
    assert [m.topic for m in box.take(10)] == ["t/2", "t/3", "t/4"]


def test_outbox_gives_back_in_order_at_the_front() -> None:
    box = Outbox(4)
    for n in range(4):
        box.put(_message(n))
    batch = box.take(2)
    box.put(_message(4))
    box.put(_message(5))
    box.give_back(batch)  # 0, 1 back in front of 2..5: 6 > 4, the oldest two go
    assert box.dropped == 2
    assert [m.topic for m in box.take(10)] == ["t/2", "t/3", "t/4", "t/5"]


def test_outbox_refuses_a_zero_bound() -> None:
    with pytest.raises(ValueError, match="outbox size must be at least 1, got 0"):
        Outbox(0)
