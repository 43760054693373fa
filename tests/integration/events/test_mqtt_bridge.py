"""The MQTT bridge against a real mosquitto: topics, payloads, retained state, availability,
credentials and TLS. Messages are read back by an independent aiomqtt subscriber."""

from __future__ import annotations

import asyncio
import logging
import ssl
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme
from pydantic import SecretStr

from platonicam.events.model import Event, EventKind
from platonicam.events.mqtt import MqttBridge, MqttSettings
from platonicam.onvif.models.events import PropertyOperation
from tests.integration.events.conftest import BROKER_PASSWORD, BROKER_USER
from tests.integration.events.mosquitto import Mosquitto, TlsFiles
from tests.integration.events.subscriber import Subscriber

WHEN = datetime(2026, 3, 4, 5, 6, 7, 250000, tzinfo=UTC)


def motion(camera: str, state: bool, n: int = 0) -> Event:
    return Event(
        camera_id=camera,
        kind=EventKind.MOTION,
        topic="RuleEngine/CellMotionDetector/Motion",
        raw_topic="tns1:RuleEngine/CellMotionDetector/Motion",
        source={"VideoSourceConfigurationToken": "vsc1", "Rule": "MyMotionDetectorRule"},
        data={"IsMotion": "true" if state else "false", "n": str(n)},
        state=state,
        time=WHEN,
        property_operation=PropertyOperation.CHANGED,
    )


def line_crossed(camera: str) -> Event:
    return Event(
        camera_id=camera,
        kind=EventKind.LINE_CROSSING,
        topic="RuleEngine/LineDetector/Crossed",
        raw_topic="tns1:RuleEngine/LineDetector/Crossed",
        source={"VideoSourceConfigurationToken": "1", "Rule": "MyImportantFence1"},
        data={"ObjectId": "15"},
        time=WHEN,
    )


def digital_input(camera: str, token: str, state: bool) -> Event:
    return Event(
        camera_id=camera,
        kind=EventKind.DIGITAL_INPUT,
        topic="Device/Trigger/DigitalInput",
        raw_topic="tns1:Device/Trigger/DigitalInput",
        source={"InputToken": token},
        data={"LogicalState": "true" if state else "false"},
        state=state,
        time=WHEN,
        property_operation=PropertyOperation.CHANGED,
    )


async def test_event_lands_on_documented_topic_with_documented_payload(broker: Mosquitto) -> None:
    async with (
        Subscriber("127.0.0.1", broker.port, ["platonicam/cam-doc/#"]) as sub,
        MqttBridge(MqttSettings(url=broker.url)) as bridge,
    ):
        await bridge.wait_connected(10)
        await bridge.publish(motion("cam-doc", True))
        await sub.wait_for(lambda _: bool(sub.on("platonicam/cam-doc/motion")))
        [received] = sub.on("platonicam/cam-doc/motion")
        body = received.json()
        assert isinstance(body.pop("id"), str)
        assert body == {
            "camera": "cam-doc",
            "kind": "motion",
            "topic": "RuleEngine/CellMotionDetector/Motion",
            "rawTopic": "tns1:RuleEngine/CellMotionDetector/Motion",
            "source": {"VideoSourceConfigurationToken": "vsc1", "Rule": "MyMotionDetectorRule"},
            "data": {"IsMotion": "true", "n": "0"},
            "state": True,
            "time": "2026-03-04T05:06:07.250000Z",
            "propertyOperation": "Changed",
        }
        assert await bridge.flush(5)
        assert (bridge.sent, bridge.dropped, bridge.pending) == (1, 0, 0)


async def test_prefix_inputs_and_escaped_camera_ids(broker: Mosquitto) -> None:
    settings = MqttSettings(url=broker.url, topic_prefix="site7/cams")
    async with (
        Subscriber("127.0.0.1", broker.port, ["site7/#"]) as sub,
        MqttBridge(settings) as bridge,
    ):
        await bridge.publish(digital_input("gate", "1", True))
        await bridge.publish(digital_input("gate", "2", False))
        await bridge.publish(motion("lot/east+1", True))
        await sub.wait_for(lambda m: len(m) >= 4)  # 3 events and status "online"
        topics = {m.topic for m in sub.messages}
        assert topics == {
            "site7/cams/status",
            "site7/cams/gate/digital_input/1",
            "site7/cams/gate/digital_input/2",
            "site7/cams/lot%2Feast%2B1/motion",
        }
        assert sub.on("site7/cams/gate/digital_input/2")[0].json()["state"] is False


async def test_binary_state_is_retained_momentary_events_are_not(broker: Mosquitto) -> None:
    async with MqttBridge(MqttSettings(url=broker.url)) as bridge:
        await bridge.publish(motion("cam-ret", True, 1))
        await bridge.publish(motion("cam-ret", False, 2))
        await bridge.publish(line_crossed("cam-ret"))
        assert await bridge.flush(5)
    # A subscriber that arrives afterwards: the last motion state, no line crossing.
    async with Subscriber("127.0.0.1", broker.port, ["platonicam/cam-ret/#"]) as late:
        await late.wait_for(lambda m: len(m) >= 1)
        await asyncio.sleep(0.3)  # anything else retained would have arrived by now
        assert [(m.topic, m.retain) for m in late.messages] == [("platonicam/cam-ret/motion", True)]
        body = late.messages[0].json()
        assert (body["state"], body["data"]) == (False, {"IsMotion": "false", "n": "2"})


async def test_availability_online_then_offline_on_clean_close(broker: Mosquitto) -> None:
    settings = MqttSettings(url=broker.url, topic_prefix="avail-clean/")
    async with Subscriber("127.0.0.1", broker.port, ["avail-clean/status"]) as sub:
        async with MqttBridge(settings) as bridge:
            await bridge.wait_connected(10)
            await sub.wait_for(lambda m: [x.payload for x in m] == [b"online"])
        await sub.wait_for(lambda m: [x.payload for x in m] == [b"online", b"offline"])


async def test_last_will_says_offline_when_the_process_dies(broker: Mosquitto) -> None:
    # A bridge in a child process, killed with SIGKILL: no clean DISCONNECT, so
    # the broker publishes the will.
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from platonicam.events.mqtt import MqttBridge, MqttSettings

        async def main():
            bridge = MqttBridge(MqttSettings(url={broker.url!r}, topic_prefix="avail-will/"))
            await bridge.start()
            await bridge.wait_connected(10)
            await bridge.flush(5)
            print("ready", flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    async with Subscriber("127.0.0.1", broker.port, ["avail-will/status"]) as sub:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE
        )
        try:
            assert child.stdout is not None
            async with asyncio.timeout(20):
                assert (await child.stdout.readline()).strip() == b"ready"
            await sub.wait_for(lambda m: [x.payload for x in m] == [b"online"])
        finally:
            child.kill()
            await child.wait()
        await sub.wait_for(lambda m: [x.payload for x in m] == [b"online", b"offline"])


async def test_credentials_in_url_percent_encoded(
    auth_broker: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    encoded = BROKER_PASSWORD.replace(":", "%3A").replace("@", "%40").replace("/", "%2F")
    settings = MqttSettings(url=f"mqtt://{BROKER_USER}:{encoded}@127.0.0.1:{auth_broker.port}")
    assert settings.url == auth_broker.url
    assert settings.password is not None
    assert settings.password.get_secret_value() == BROKER_PASSWORD
    async with (
        Subscriber(
            "127.0.0.1",
            auth_broker.port,
            ["platonicam/cam-auth/#"],
            username=BROKER_USER,
            password=BROKER_PASSWORD,
        ) as sub,
        MqttBridge(settings) as bridge,
    ):
        await bridge.publish(motion("cam-auth", True))
        await sub.wait_for(lambda _: bool(sub.on("platonicam/cam-auth/motion")))
    assert BROKER_PASSWORD not in caplog.text
    assert encoded not in caplog.text
    assert BROKER_PASSWORD not in repr(settings)


async def test_wrong_password_is_refused_and_never_logged(
    auth_broker: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = MqttSettings(
        url=auth_broker.url,
        username=BROKER_USER,
        password=SecretStr("not-the-Password-42"),
        reconnect_min=0.05,
        reconnect_max=0.1,
    )
    async with MqttBridge(settings) as bridge:
        await bridge.publish(motion("cam-refused", True))
        with pytest.raises(TimeoutError, match=r"no MQTT connection to 127\.0\.0\.1:\d+ after"):
            await bridge.wait_connected(1.0)
        assert bridge.last_error is not None
        assert "authoriz" in bridge.last_error.lower()
        assert (bridge.connections, bridge.pending) == (0, 1)
    assert "not-the-Password-42" not in caplog.text
    assert "MQTT broker 127.0.0.1" in caplog.text  # the retries were logged, without it


async def test_tls_with_ca_file(broker: Mosquitto, tls_files: TlsFiles) -> None:
    settings = MqttSettings(url=broker.tls_url, ca_file=tls_files.ca)
    assert (settings.tls, settings.port) == (True, broker.tls_port)
    async with (
        Subscriber("127.0.0.1", broker.port, ["platonicam/cam-tls/#"]) as sub,
        MqttBridge(settings) as bridge,
    ):
        await bridge.wait_connected(10)
        await bridge.publish(motion("cam-tls", True))
        await sub.wait_for(lambda _: bool(sub.on("platonicam/cam-tls/motion")))
        assert sub.on("platonicam/cam-tls/motion")[0].json()["camera"] == "cam-tls"


async def test_tls_refuses_an_untrusted_broker(broker: Mosquitto, tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    settings = MqttSettings(url=broker.tls_url, ca_file=other_ca, reconnect_min=0.05)
    async with MqttBridge(settings) as bridge:
        with pytest.raises(TimeoutError):
            await bridge.wait_connected(1.0)
        assert bridge.last_error is not None
        assert "certificate verify failed" in bridge.last_error


async def test_tls_context_given_directly(
    broker: Mosquitto, client_tls_context: ssl.SSLContext
) -> None:
    async with (
        Subscriber(
            "127.0.0.1",
            broker.tls_port or 0,
            ["platonicam/cam-ctx/#"],
            tls_context=client_tls_context,
        ) as sub,
        MqttBridge(MqttSettings(url=broker.tls_url), ssl_context=client_tls_context) as bridge,
    ):
        await bridge.publish(motion("cam-ctx", False))
        await sub.wait_for(lambda _: bool(sub.on("platonicam/cam-ctx/motion")))
