"""The ONVIF client against replayed real cameras, over real sockets on loopback.

Every exchange goes through :class:`LoopbackOnlyTransport` around the real
:class:`AsyncioSoapTransport`: an address the client failed to rewrite fails the
test instead of leaving the machine.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from platonicam.onvif import (
    ActionNotSupported,
    AuthenticationError,
    ConnectError,
    InvalidArgValue,
    NotAuthorized,
    OnvifClient,
    ReadTimeout,
    RemoteProtocolError,
    ServiceKind,
    SoapFaultError,
)
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.namespaces import TDS, TRT
from platonicam.onvif.soap.xmlread import text
from platonicam.onvif.transport import AsyncioSoapTransport
from platonicam.testing import ReplayAuth, ReplayCamera
from tests.conftest import LoopbackOnlyTransport
from tests.corpus import CORPUS

PASSWORD = "correct horse 42"
HIKVISION = "hikvision_DS-2DF7276-AEL"


@pytest.fixture
async def transport() -> AsyncIterator[LoopbackOnlyTransport]:
    wrapped = LoopbackOnlyTransport(AsyncioSoapTransport(timeout=5.0))
    yield wrapped
    await wrapped.aclose()


def client_for(
    camera: ReplayCamera,
    transport: LoopbackOnlyTransport,
    *,
    password: str = PASSWORD,
    rewrite_xaddrs: bool = True,
) -> OnvifClient:
    return OnvifClient(
        "127.0.0.1",
        camera.port,
        "admin",
        password,
        transport=transport,
        rewrite_xaddrs=rewrite_xaddrs,
    )


def replay(vendor_model: str, **options: object) -> ReplayCamera:
    return ReplayCamera(CORPUS, vendor_model, password=PASSWORD, **options)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- connect


@pytest.mark.parametrize(
    ("vendor_model", "options", "calls", "via_capabilities", "media_path"),
    [
        (
            HIKVISION,
            {},
            {"GetSystemDateAndTime": 1, "GetServices": 1},
            False,
            "/onvif/Media",
        ),
        # The Axis Q6045-E corpus has no GetServices answer: ActionNotSupported, then
        # GetCapabilities.
        (
            "axis_Q6045-E",
            {},
            {"GetSystemDateAndTime": 1, "GetServices": 1, "GetCapabilities": 1},
            True,
            "/onvif/services",
        ),
        (
            "pelco_D6230L",
            {},
            {"GetSystemDateAndTime": 1, "GetServices": 1},
            False,
            "/onvif/media_service",
        ),
        # faults/trendnet_TV-IP320PI_GetServices.xml: InvalidArgVal, so GetCapabilities.
        (
            "trendnet_TV-IP320PI",
            {"prefer_faults": {"GetServices"}},
            {"GetSystemDateAndTime": 1, "GetServices": 1, "GetCapabilities": 1},
            True,
            "/onvif/Media",
        ),
    ],
    ids=["hikvision", "axis", "pelco", "trendnet"],
)
async def test_connect_reads_clock_and_services(
    transport: LoopbackOnlyTransport,
    vendor_model: str,
    options: dict[str, object],
    calls: dict[str, int],
    via_capabilities: bool,
    media_path: str,
) -> None:
    async with replay(vendor_model, **options) as camera, client_for(camera, transport) as client:
        assert dict(camera.requests) == calls
        assert (client.capabilities is not None) is via_capabilities
        assert client.service_url(ServiceKind.MEDIA) == camera.base_url + media_path
        assert client.service_url(ServiceKind.DEVICE).startswith(camera.base_url + "/onvif/")
        assert all(e.url.startswith(camera.base_url + "/") for e in client.services.values())
        assert client.is_profile_t is False


async def test_connect_axis_m2025_offers_media2(transport: LoopbackOnlyTransport) -> None:
    async with replay("axis_M2025-LE") as camera, client_for(camera, transport) as client:
        assert client.is_profile_t is True
        media2 = client.services[ServiceKind.MEDIA2.namespace]
        assert media2.url == camera.base_url + "/onvif/services"
        # The replay camera rewrote http://192.168.0.209/onvif/services itself.
        assert media2.advertised_url == camera.base_url + "/onvif/services"
        assert str(media2.version) == "17.12"
        # No GetSystemDateAndTime capture: the replay camera reports its own clock.
        assert abs(client.clock_offset) < timedelta(seconds=2)


async def test_clock_offset_from_the_capture(transport: LoopbackOnlyTransport) -> None:
    # device/hikvision_DS-2DF7276-AEL_GetSystemDateAndTime.xml: 2018-02-27 18:28:01 UTC.
    captured = datetime(2018, 2, 27, 18, 28, 1, tzinfo=UTC)
    async with replay(HIKVISION) as camera, client_for(camera, transport) as client:
        expected = captured - datetime.now(UTC)
        assert abs(client.clock_offset - expected) < timedelta(seconds=2)
        assert client.camera_time is not None
        assert client.camera_time.utc == captured
        assert client.camera_time.time_zone == (
            "CST7:00:00DST01:00:00,M3.2.0/02:00:00,M11.1.0/02:00:00"
        )


# ----------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    ("auth", "mode"),
    [("digest", "digest"), ("ws-security", "ws-security"), ("both", "both")],
)
async def test_auth_mode_is_found_and_remembered(
    transport: LoopbackOnlyTransport, auth: ReplayAuth, mode: str
) -> None:
    async with replay(HIKVISION, auth=auth) as camera, client_for(camera, transport) as client:
        assert client.auth_mode == mode
        camera.requests.clear()
        payload = await client.call(ServiceKind.DEVICE, element(TDS, "GetDeviceInformation"))
        assert text(payload, "Model") == "DS-2DF7276-AEL"
        # Remembered: once settled, a call is one request (Digest answers the
        # remembered challenge pre-emptively).
        assert camera.requests["GetDeviceInformation"] == 1


async def test_wrong_password_with_ws_security(transport: LoopbackOnlyTransport) -> None:
    secret = "not-the-password-123"
    async with replay(HIKVISION, auth="ws-security") as camera:
        client = client_for(camera, transport, password=secret)
        with pytest.raises(NotAuthorized) as caught:
            await client.connect()
        message = str(caught.value)
        assert "wrong username or password" in message
        assert "'admin'" in message
        assert secret not in message
        assert PASSWORD not in message
        # One retry after re-reading the clock, never more.
        assert camera.requests["GetServices"] == 2
        assert camera.requests["GetSystemDateAndTime"] == 2
        await client.aclose()


async def test_wrong_password_with_digest(transport: LoopbackOnlyTransport) -> None:
    secret = "not-the-password-123"
    async with replay(HIKVISION, auth="digest") as camera:
        client = client_for(camera, transport, password=secret)
        with pytest.raises(AuthenticationError) as caught:
            await client.connect()
        message = str(caught.value)
        assert "wrong username or password" in message
        assert secret not in message
        assert PASSWORD not in message
        await client.aclose()


async def test_camera_two_hours_ahead_accepts_our_tokens(
    transport: LoopbackOnlyTransport,
) -> None:
    ahead = datetime.now(UTC) + timedelta(hours=2)
    async with (
        replay(HIKVISION, auth="ws-security", camera_time=ahead) as camera,
        client_for(camera, transport) as client,
    ):
        assert abs(client.clock_offset - timedelta(hours=2)) < timedelta(seconds=2)
        assert client.auth_mode == "ws-security"
        # Signed with the camera's time at the first try: no re-read was needed.
        assert camera.requests["GetSystemDateAndTime"] == 1
        assert camera.requests["GetServices"] == 1


async def test_clock_jump_after_connect_is_survived_once(
    transport: LoopbackOnlyTransport,
) -> None:
    async with (
        replay(HIKVISION, auth="ws-security", camera_time=datetime.now(UTC)) as camera,
        client_for(camera, transport) as client,
    ):
        assert abs(client.clock_offset) < timedelta(seconds=2)
        camera.set_camera_time(datetime.now(UTC) + timedelta(hours=2))
        camera.requests.clear()
        payload = await client.call(ServiceKind.DEVICE, element(TDS, "GetDeviceInformation"))
        assert text(payload, "Manufacturer") == "HIKVISION"
        assert camera.requests == {"GetDeviceInformation": 2, "GetSystemDateAndTime": 1}
        assert abs(client.clock_offset - timedelta(hours=2)) < timedelta(seconds=2)


# ----------------------------------------------------------------------------- NAT


async def test_client_rewrites_private_addresses(transport: LoopbackOnlyTransport) -> None:
    services = (CORPUS / "device/hikvision_DS-2DF7276-AEL_GetServices.xml").read_bytes()
    # A duplicated port as some firmware advertises it.
    services = services.replace(
        b"http://10.10.1.60/onvif/Imaging", b"http://10.1.2.3:80:80/onvif/x", 1
    )
    assert b"http://10.1.2.3:80:80/onvif/x" in services
    async with (
        replay(HIKVISION, rewrite_addresses=False, responses={"GetServices": services}) as camera,
        client_for(camera, transport) as client,
    ):
        imaging = client.services[ServiceKind.IMAGING.namespace]
        assert imaging.advertised_url == "http://10.1.2.3:80:80/onvif/x"
        assert imaging.url == f"http://127.0.0.1:{camera.port}/onvif/x"
        assert (
            client.service_url(ServiceKind.MEDIA) == f"http://127.0.0.1:{camera.port}/onvif/Media"
        )
        # A call to a rewritten address reaches the camera (the transport refuses others).
        payload = await client.call(ServiceKind.MEDIA, element(TRT, "GetVideoSources"))
        assert payload.tag == f"{{{TRT}}}GetVideoSourcesResponse"


async def test_without_client_rewrite_the_loopback_guard_refuses(
    transport: LoopbackOnlyTransport,
) -> None:
    from tests.conftest import NonLoopbackDestination

    async with (
        replay(HIKVISION, rewrite_addresses=False) as camera,
        client_for(camera, transport, rewrite_xaddrs=False) as client,
    ):
        assert client.service_url(ServiceKind.MEDIA) == "http://10.10.1.60/onvif/Media"
        with pytest.raises(NonLoopbackDestination):
            await client.call(ServiceKind.MEDIA, element(TRT, "GetVideoSources"))


# ----------------------------------------------------------------------------- failures


async def test_a_camera_that_never_answers_times_out() -> None:
    transport = LoopbackOnlyTransport(AsyncioSoapTransport(timeout=0.5))
    async with replay(HIKVISION, hang={"GetDeviceInformation"}) as camera:
        async with client_for(camera, transport) as client:
            started = time.monotonic()
            with pytest.raises(ReadTimeout, match="did not answer in time"):
                await client.call(ServiceKind.DEVICE, element(TDS, "GetDeviceInformation"))
            assert time.monotonic() - started < 2.0
        await transport.aclose()


async def test_a_refused_port_is_a_connect_error(transport: LoopbackOnlyTransport) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = OnvifClient("127.0.0.1", port, "admin", PASSWORD, transport=transport)
    with pytest.raises(ConnectError, match=f"cannot connect to http://127.0.0.1:{port}"):
        await client.connect()
    await client.aclose()


async def test_a_reply_that_is_not_xml(transport: LoopbackOnlyTransport) -> None:
    async with (
        replay(HIKVISION, responses={"GetDeviceInformation": b"Hello from a web server"}) as camera,
        client_for(camera, transport) as client,
    ):
        with pytest.raises(RemoteProtocolError, match="malformed XML") as caught:
            await client.call(ServiceKind.DEVICE, element(TDS, "GetDeviceInformation"))
        assert caught.value.operation == "GetDeviceInformation"


async def test_call_escape_hatch_and_faults(transport: LoopbackOnlyTransport) -> None:
    async with replay("pelco_D6230L") as camera, client_for(camera, transport) as client:
        hostname = await client.call(ServiceKind.DEVICE, element(TDS, "GetHostname"))
        assert text(hostname, "HostnameInformation", "Name") == "localhost"
        # No capture at all: the replay answers ActionNotSupported.
        with pytest.raises(ActionNotSupported) as unknown:
            await client.call(ServiceKind.DEVICE, element(TDS, "GetGeoLocationX"))
        assert unknown.value.subcodes == ("ActionNotSupported",)
        # A captured fault (faults/pelco_D6230L_GetAccessPolicy.xml) keeps its codes.
        with pytest.raises(SoapFaultError) as captured:
            await client.call(ServiceKind.DEVICE, element(TDS, "GetAccessPolicy"))
        assert captured.value.operation == "GetAccessPolicy"


async def test_invalid_arg_fault_over_http_400(transport: LoopbackOnlyTransport) -> None:
    async with (
        replay("trendnet_TV-IP320PI", prefer_faults={"GetServices"}) as camera,
        client_for(camera, transport) as client,
    ):
        with pytest.raises(InvalidArgValue) as caught:
            await client.device.get_services()
        assert caught.value.subcodes == ("InvalidArgVal", "InvalidParameter")
        assert caught.value.reason == "the parameter value is illegal"


async def test_concurrent_calls_share_the_connection(transport: LoopbackOnlyTransport) -> None:
    async with replay(HIKVISION, auth="digest") as camera, client_for(camera, transport) as client:
        camera.requests.clear()
        payloads = await asyncio.gather(
            *(
                client.call(ServiceKind.DEVICE, element(TDS, "GetDeviceInformation"))
                for _ in range(8)
            )
        )
        assert {text(p, "SerialNumber") for p in payloads} == {
            "DS-2DF7276-AEL20140613CCWR468714298B"
        }


# ----------------------------------------------------------------------------- typed calls


async def test_device_and_ptz_and_events_on_hikvision(transport: LoopbackOnlyTransport) -> None:
    async with replay(HIKVISION, auth="digest") as camera, client_for(camera, transport) as client:
        info = await client.device.get_device_information()
        assert (info.manufacturer, info.model, info.firmware_version, info.hardware_id) == (
            "HIKVISION",
            "DS-2DF7276-AEL",
            "V5.1.6 build 140401",
            "88",
        )
        services = await client.device.get_services()
        assert services[0].xaddr == camera.base_url + "/onvif/device_service"
        # media/hikvision_DS-2DF7276-AEL_GetStreamUri.xml, host on loopback.
        stream = await client.media.get_stream_uri("Profile_3")
        assert stream.uri == (
            "rtsp://127.0.0.1:554/Streaming/Channels/3?transportmode=unicast&profile=Profile_3"
        )
        assert stream.timeout == timedelta(seconds=60)
        # ptz/hikvision_DS-2DF7276-AEL_GetStatus.xml
        status = await client.ptz.get_status("Profile_1")
        assert status.position is not None
        assert (status.position.pan, status.position.tilt, status.position.zoom) == (
            0.333167,
            -0.682,
            0.0,
        )
        assert status.error == "NO error"
        presets = await client.ptz.get_presets("Profile_1")
        assert [(p.token, p.name) for p in presets[:5]] == [
            ("1", "preset 1"),
            ("2", "preset 1"),
            ("3", "preset 2"),
            ("4", "Parking"),
            ("5", "West"),
        ]
        # events/hikvision_DS-2DF7276-AEL_GetEventProperties.xml
        properties = await client.events.get_event_properties()
        assert properties.fixed_topic_set is True
        assert properties.topics[0].topic == "MediaControl"
        # A pull point at the address the camera gave, rewritten to loopback.
        subscription = await client.events.create_pull_point_subscription()
        pulled = await subscription.pull_messages()
        assert pulled.current_time == datetime(2018, 2, 27, 14, 53, 23, tzinfo=UTC)
        assert pulled.termination_time == datetime(2018, 2, 27, 15, 3, 23, tzinfo=UTC)
        assert pulled.messages == ()
        assert camera.requests["PullMessages"] == 1


async def test_media_on_pelco(transport: LoopbackOnlyTransport) -> None:
    async with replay("pelco_D6230L") as camera, client_for(camera, transport) as client:
        stream = await client.media.get_stream_uri("1")
        assert stream.uri == "rtsp://127.0.0.1/stream2_v"
        assert stream.timeout == timedelta(seconds=900)
        snapshot = await client.media.get_snapshot_uri("1")
        assert snapshot.uri == f"http://127.0.0.1:{camera.port}/jpeg"


async def test_media_uris_rewritten_by_the_client(transport: LoopbackOnlyTransport) -> None:
    # The replay leaves rtsp://10.10.1.66/stream2_v and http://10.10.1.66/jpeg as
    # captured; the client's own rewrite must bring them to the camera we reached.
    async with (
        replay("pelco_D6230L", rewrite_addresses=False) as camera,
        client_for(camera, transport) as client,
    ):
        assert (await client.media.get_stream_uri("1")).uri == "rtsp://127.0.0.1/stream2_v"
        raw = await client.media.get_stream_uri("1", rewrite_host=False)
        assert raw.uri == "rtsp://10.10.1.66/stream2_v"
        snapshot = await client.media.get_snapshot_uri("1")
        assert snapshot.uri.startswith("http://127.0.0.1")
        assert snapshot.uri.endswith("/jpeg")


async def test_profiles_encoders_and_imaging_on_bosch(transport: LoopbackOnlyTransport) -> None:
    # The Bosch capture has no GetServices: borrow the Hikvision list of addresses.
    services = (CORPUS / "device/hikvision_DS-2DF7276-AEL_GetServices.xml").read_bytes()
    async with (
        replay("bosch_FLEXIDOME-indoor-5100i-IR", responses={"GetServices": services}) as camera,
        client_for(camera, transport) as client,
    ):
        profiles = await client.media.get_profiles()
        first = profiles[0]
        assert (first.token, first.name) == ("0", "Profile_L1S1")
        encoder = first.video_encoder_configuration
        assert encoder is not None
        assert encoder.encoding is not None
        assert (encoder.token, encoder.encoding.value, str(encoder.resolution)) == (
            "EncCfg_L1S1",
            "H264",
            "1920x1080",
        )
        assert (encoder.bitrate_limit, encoder.gov_length, encoder.profile) == (5200, 255, "Main")
        # imaging/bosch_FLEXIDOME-indoor-5100i-IR_GetImagingSettings.xml
        imaging = await client.imaging.get_imaging_settings("1")
        assert (imaging.brightness, imaging.color_saturation, imaging.contrast) == (
            128.0,
            128.0,
            128.0,
        )
        snapshot = await client.media.get_snapshot_uri("0")
        assert snapshot.uri == f"http://127.0.0.1:{camera.port}/snap.jpg?JpegCam=1"


async def test_encoder_configurations_and_ptz_on_axis(transport: LoopbackOnlyTransport) -> None:
    async with replay("axis_Q6045-E") as camera, client_for(camera, transport) as client:
        configs = await client.media.get_video_encoder_configurations()
        assert configs[0].token == "0"
        assert configs[0].encoding is not None
        assert configs[0].encoding.value == "JPEG"
        assert str(configs[0].resolution) == "1280x720"
        presets = await client.ptz.get_presets("profile_1_h264")
        assert (presets[0].token, presets[0].name) == ("22", "Living Room")
        properties = await client.events.get_event_properties()
        assert properties.fixed_topic_set is False
        assert properties.topics[0].topic == "Device/IO/VirtualInput"


async def test_media2_profiles_and_stream_on_axis_m2025(transport: LoopbackOnlyTransport) -> None:
    async with replay("axis_M2025-LE") as camera, client_for(camera, transport) as client:
        assert client.media.uses_media2 is True
        profiles = await client.media.get_profiles()
        assert profiles[0].token == "profile_1_h264"
        stream = await client.media.get_stream_uri("profile_1_h264")
        # media2/axis_M2025-LE_GetStreamUri.xml: a bare tr2:Uri.
        assert stream.uri == (
            "rtsp://127.0.0.1/onvif-media/media.amp?profile=profile_1_h264"
            "&sessiontimeout=60&streamtype=unicast"
        )
        assert camera.requests["GetStreamUri"] == 1


async def test_auth_mode_is_settled_by_a_non_auth_fault(
    transport: LoopbackOnlyTransport,
) -> None:
    # The TRENDnet TV-IP320PI faults on GetServices (InvalidArgVal). That fault
    # still proves the token was accepted, so the client must not probe auth
    # again on GetCapabilities or later calls.
    async with (
        replay("trendnet_TV-IP320PI", auth="ws-security", prefer_faults={"GetServices"}) as camera,
        client_for(camera, transport) as client,
    ):
        assert client.auth_mode == "ws-security"
        assert camera.requests["GetServices"] == 1
        assert camera.requests["GetCapabilities"] == 1
        assert camera.requests["GetSystemDateAndTime"] == 1


async def test_network_and_analytics_operations(transport: LoopbackOnlyTransport) -> None:
    async with replay(HIKVISION) as camera, client_for(camera, transport) as client:
        protocols = await client.device.get_network_protocols()
        assert [(p.name, p.enabled, p.ports) for p in protocols] == [
            ("HTTP", True, (80,)),
            ("RTSP", True, (554,)),
        ]
        gateway = await client.device.get_network_default_gateway()
        # The capture says 10.10.1.1; the replay camera rewrites every private address.
        assert gateway.ipv4_addresses == ("127.0.0.1",)
        uris = await client.device.get_system_uris()
        assert [log.log_type for log in uris.system_logs] == ["System"]
        rules = await client.analytics.get_rules("VideoAnalyticsToken")
        assert [(r.name, r.type_name) for r in rules] == [
            ("MyMotionDetectorRule", "tt:CellMotionDetector"),
            ("MyTamperDetectorRule", "hikxsd:TamperDetector"),
        ]
        assert rules[0].parameters[0].name == "MinCount"
        assert rules[0].parameters[0].value == "5"
        assert camera.requests["GetRules"] == 1
