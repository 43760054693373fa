"""Our client against the reference device over loopback: the device management service."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from lxml import etree

from platonicam.onvif.client import AuthMode
from platonicam.onvif.errors import (
    ActionNotSupported,
    AuthenticationError,
    InvalidArgValue,
    NotAuthorized,
    OperationProhibited,
    SoapFaultError,
)
from platonicam.onvif.models.common import ServiceKind
from platonicam.onvif.models.device import (
    DateTimeType,
    DiscoveryMode,
    ScopeDefinition,
    User,
    UserLevel,
)
from platonicam.onvif.soap.build import element, sub
from platonicam.onvif.soap.envelope import build_envelope
from platonicam.onvif.soap.namespaces import TDS, WSA
from platonicam.onvif.soap.wssecurity import build_username_token
from tests.conftest import FakeClock
from tests.integration.device.conftest import ADMIN, OPERATOR, VIEWER, RunningDevice


async def test_connect_reads_services_at_the_host_we_used(device: RunningDevice) -> None:
    async with device.client() as client:
        services = client.services
        assert client.is_profile_t
        assert {s.kind for s in services.values()} >= {
            ServiceKind.DEVICE,
            ServiceKind.MEDIA,
            ServiceKind.MEDIA2,
            ServiceKind.IMAGING,
            ServiceKind.PTZ,
            ServiceKind.EVENTS,
            ServiceKind.DEVICEIO,
        }
        for endpoint in services.values():
            # Advertised, not rewritten: the device itself names 127.0.0.1:<port>.
            assert endpoint.advertised_url.startswith(f"http://127.0.0.1:{device.port}/onvif/")
        capabilities = await client.device.get_capabilities()
        assert capabilities.xaddrs[ServiceKind.MEDIA] == f"{device.base_url}/onvif/media_service"
        assert capabilities.pull_point_support is True
        assert capabilities.relay_outputs == 4
        assert capabilities.input_connectors == 4


async def test_xaddrs_follow_the_host_header(device: RunningDevice) -> None:
    body = build_envelope(element(TDS, "GetServices"))
    async with httpx.AsyncClient(trust_env=False) as http:
        reply = await http.post(
            f"{device.base_url}/onvif/device_service",
            content=body,
            headers={"Host": "camera.example:8080", "Content-Type": "application/soap+xml"},
        )
    assert reply.status_code == 200
    assert b"http://camera.example:8080/onvif/media2_service" in reply.content
    assert b"0.0.0.0" not in reply.content
    assert b"127.0.1.1" not in reply.content


async def test_identity_hostname_scopes_and_discovery_take_effect(device: RunningDevice) -> None:
    async with device.client() as client:
        info = await client.device.get_device_information()
        identity = device.app.device.state.device.identity
        assert info.manufacturer == "PlatoniCam"
        assert info.serial_number == identity.serial_number

        await client.device.set_hostname("lobby-cam")
        assert (await client.device.get_hostname()).name == "lobby-cam"

        await client.device.set_scopes(["onvif://www.onvif.org/location/lobby"])
        scopes = await client.device.get_scopes()
        configurable = [s.item for s in scopes if s.scope_def is ScopeDefinition.CONFIGURABLE]
        assert configurable == ["onvif://www.onvif.org/location/lobby"]
        assert "onvif://www.onvif.org/Profile/Streaming" in [s.item for s in scopes]

        await client.device.set_discovery_mode(DiscoveryMode.NON_DISCOVERABLE)
        assert await client.device.get_discovery_mode() is DiscoveryMode.NON_DISCOVERABLE

        with pytest.raises(InvalidArgValue):
            await client.device.set_hostname("bad_name!")
    # Persisted: the files hold the new values.
    state_dir = device.app.device.state.data_dir
    text = (state_dir / "device.yaml").read_text()
    assert "lobby-cam" in text
    assert "NonDiscoverable" in text


async def test_manual_clock_moves_device_time_and_tokens_follow(device: RunningDevice) -> None:
    target = datetime.now(UTC) + timedelta(hours=3)
    async with device.client() as client:
        await client.device.set_system_date_and_time(
            DateTimeType.MANUAL, time_zone="CET-1", utc=target
        )
        reading = await client.device.get_system_date_and_time()
        assert reading.date_time_type is DateTimeType.MANUAL
        assert reading.time_zone == "CET-1"
        assert reading.utc is not None
        assert abs((reading.utc - target).total_seconds()) < 5
        # The old offset is 3 h wrong now: the client re-reads it after a NotAuthorized.
        assert (await client.device.get_hostname()).name == "platonicam"
        await client.refresh_clock_offset()
        users = await client.device.get_users()
        assert {u.username for u in users} == {ADMIN[0], OPERATOR[0], VIEWER[0]}
        await client.device.set_system_date_and_time(DateTimeType.NTP)
        back = await client.device.get_system_date_and_time()
        assert back.utc is not None
        assert abs((back.utc - datetime.now(UTC)).total_seconds()) < 5


async def test_users_never_return_passwords_and_roles_apply(device: RunningDevice) -> None:
    async with device.client() as admin:
        await admin.device.create_users([User("guard", UserLevel.OPERATOR, "guard-pass-1")])
        users = await admin.device.get_users()
        assert User("guard", UserLevel.OPERATOR) in users
        assert all(u.password is None for u in users)
        with pytest.raises(OperationProhibited):
            await admin.device.create_users([User("guard", UserLevel.USER, "another-pass")])
        with pytest.raises(InvalidArgValue):
            await admin.device.create_users([User("short", UserLevel.USER, "x")])
    assert b"guard-pass-1" not in (device.app.device.state.data_dir / "users.yaml").read_bytes()

    async with device.client(("guard", "guard-pass-1")) as guard:
        assert (await guard.device.get_device_information()).model == "Reference Camera"
        with pytest.raises(NotAuthorized):
            await guard.device.create_users([User("x1", UserLevel.USER, "password-x1")])
        with pytest.raises(NotAuthorized):
            await guard.device.system_reboot()

    async with device.client() as admin:
        await admin.device.set_user([User("guard", UserLevel.USER, "guard-pass-2")])
    async with device.client(("guard", "guard-pass-2")) as guard:
        with pytest.raises(NotAuthorized):
            await guard.device.get_users()  # READ_SYSTEM_SECRET: administrators only
    async with device.client() as admin:
        await admin.device.delete_users(["guard"])
        assert "guard" not in {u.username for u in await admin.device.get_users()}
        with pytest.raises(InvalidArgValue):
            await admin.device.delete_users([ADMIN[0], OPERATOR[0], VIEWER[0]])


async def test_reboot_calls_the_runtime_hook(device: RunningDevice) -> None:
    async with device.client() as client:
        message = await client.device.system_reboot()
    assert message == "Rebooting in 5 seconds"
    for _ in range(100):
        if device.reboots:
            break
        await asyncio.sleep(0.01)
    assert device.reboots == ["reboot"]


async def test_relay_outputs_switch_and_persist(device: RunningDevice) -> None:
    async with device.client(OPERATOR) as client:
        relays = await client.device.get_relay_outputs()
        assert [r.token for r in relays] == [f"RelayOutput_{n}" for n in range(1, 5)]
        request = element(TDS, "SetRelayOutputState")
        sub(request, TDS, "RelayOutputToken", "RelayOutput_2")
        sub(request, TDS, "LogicalState", "active")
        await client.call(ServiceKind.DEVICE, request)
    assert device.app.device.state.io.relays[1].active is True
    assert device.app.device.events.property_state("relay", "RelayOutput_2") == {
        "LogicalState": "active"
    }


# ------------------------------------------------------------------ auth modes and faults


async def test_digest_only_and_token_only_clients_are_accepted(device: RunningDevice) -> None:
    modes: tuple[AuthMode, ...] = ("digest", "ws-security", "both")
    for mode in modes:
        async with device.client(VIEWER, auth_mode=mode) as client:
            assert (await client.device.get_device_information()).manufacturer == "PlatoniCam"


async def test_wrong_password_is_refused_both_ways(device: RunningDevice) -> None:
    async with device.client((ADMIN[0], "wrong-password"), auth_mode="digest") as client:
        with pytest.raises(AuthenticationError):
            await client.device.get_device_information()
    async with device.client((ADMIN[0], "wrong-password"), auth_mode="ws-security") as client:
        with pytest.raises(NotAuthorized):
            await client.device.get_device_information()


async def test_unauthenticated_call_gets_401_challenge_and_fault(device: RunningDevice) -> None:
    body = build_envelope(element(TDS, "GetDeviceInformation"))
    async with httpx.AsyncClient(trust_env=False) as http:
        reply = await http.post(f"{device.base_url}/onvif/device_service", content=body)
        open_reply = await http.post(
            f"{device.base_url}/onvif/device_service",
            content=build_envelope(element(TDS, "GetSystemDateAndTime")),
        )
    assert reply.status_code == 401
    challenge = reply.headers["www-authenticate"]
    assert challenge.startswith('Digest realm="PlatoniCam", qop="auth", algorithm=MD5')
    assert b"ter:NotAuthorized" in reply.content
    assert open_reply.status_code == 200


async def test_clock_skew_is_bridged_by_the_offset(device: RunningDevice) -> None:
    hour_behind = FakeClock(datetime.now(UTC) - timedelta(hours=1))
    async with device.client(VIEWER, auth_mode="ws-security", clock=hour_behind) as client:
        assert abs(client.clock_offset.total_seconds() - 3600) < 5
        assert (await client.device.get_device_information()).model == "Reference Camera"


async def _token_post(device: RunningDevice, created: datetime, nonce: bytes) -> httpx.Response:
    token = build_username_token(ADMIN[0], ADMIN[1], created=created, nonce=nonce)
    body = build_envelope(element(TDS, "GetDeviceInformation"), headers=[token])
    async with httpx.AsyncClient(trust_env=False) as http:
        return await http.post(f"{device.base_url}/onvif/device_service", content=body)


async def test_replayed_nonce_and_stale_token_are_refused(device: RunningDevice) -> None:
    now = datetime.now(UTC)
    first = await _token_post(device, now, b"0123456789abcdef")
    assert first.status_code == 200
    replay = await _token_post(device, now, b"0123456789abcdef")
    assert replay.status_code == 400
    assert b"ter:NotAuthorized" in replay.content
    assert b"replayed" in replay.content
    stale = await _token_post(device, now - timedelta(hours=1), b"fedcba9876543210")
    assert stale.status_code == 400
    assert b"away from the device clock" in stale.content


async def test_unknown_operation_and_malformed_bodies(device: RunningDevice) -> None:
    async with device.client() as client:
        with pytest.raises(ActionNotSupported) as unknown:
            await client.call(ServiceKind.DEVICE, element(TDS, "GetDot11Capabilities"))
        assert unknown.value.code == "Receiver"
        assert unknown.value.subcodes == ("ActionNotSupported",)
    async with httpx.AsyncClient(trust_env=False) as http:
        url = f"{device.base_url}/onvif/device_service"
        broken = await http.post(url, content=b"<s:Envelope xmlns:s='x'><oops")
        not_soap = await http.post(url, content=b"<html/>")
        got = await http.get(url)
    for reply in (broken, not_soap):
        assert reply.status_code == 400
        assert b"<s:Value>s:Sender</s:Value>" in reply.content
        assert b"ter:WellFormed" in reply.content
        assert b"Traceback" not in reply.content
    assert got.status_code == 405


async def test_soap11_default_namespace_and_addressing_are_accepted(
    device: RunningDevice,
) -> None:
    body = (
        b'<?xml version="1.0"?>'
        b'<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/">'
        b'<Header><Action xmlns="http://www.w3.org/2005/08/addressing">'
        b"http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime</Action>"
        b'<MessageID xmlns="http://www.w3.org/2005/08/addressing">urn:uuid:1</MessageID>'
        b"</Header><Body>"
        b'<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>'
        b"</Body></Envelope>"
    )
    async with httpx.AsyncClient(trust_env=False) as http:
        reply = await http.post(
            f"{device.base_url}/onvif/device_service",
            content=body,
            headers={"Content-Type": "text/xml"},
        )
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/xml")
    assert b"http://schemas.xmlsoap.org/soap/envelope/" in reply.content
    root = etree.fromstring(reply.content)
    assert root.findtext(f".//{{{WSA}}}RelatesTo") == "urn:uuid:1"
    assert root.findtext(f".//{{{WSA}}}Action") == (
        "http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTimeResponse"
    )
    assert b"GetSystemDateAndTimeResponse" in reply.content


async def test_fault_types_reach_the_client_typed(device: RunningDevice) -> None:
    async with device.client() as client:
        with pytest.raises(SoapFaultError) as caught:
            await client.device.set_scopes(["onvif://www.onvif.org/Profile/Streaming"])
        assert "fixed" in str(caught.value)
