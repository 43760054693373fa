"""Our client against the reference device: media, Media2, imaging, PTZ and events."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from platonicam.device.streams import NullStreams
from platonicam.onvif.errors import InvalidArgValue, NotAuthorized, SoapFaultError
from platonicam.onvif.models.common import Resolution, ServiceKind
from platonicam.onvif.models.imaging import ImagingSettings, IrCutFilterMode
from platonicam.onvif.models.media import VideoEncoding
from platonicam.onvif.models.ptz import MoveStatus, PTZSpeed, PTZVector
from platonicam.onvif.services import media as media1
from tests.conftest import FakeClock
from tests.integration.device.conftest import OPERATOR, VIEWER, RunningDevice, start_device


async def test_profiles_for_profile_s_and_t(device: RunningDevice) -> None:
    async with device.client() as client:
        profiles = await client.media.get_profiles()  # Media2
        by_token = {p.token: p for p in profiles}
        main = by_token["Profile_1_main"].video_encoder_configuration
        sub = by_token["Profile_1_sub"].video_encoder_configuration
        h265 = by_token["Profile_1_h265"].video_encoder_configuration
        assert main is not None
        assert sub is not None
        assert h265 is not None
        assert (main.encoding, main.resolution) == (VideoEncoding.H264, Resolution(1920, 1080))
        assert (sub.encoding, sub.resolution) == (VideoEncoding.H264, Resolution(640, 360))
        assert h265.encoding is VideoEncoding.H265
        # Media ver10 hides the H.265 profile and still offers H.264 ones.
        v10 = media1.parse_get_profiles(
            await client.call(ServiceKind.MEDIA, media1.build_get_profiles())
        )
        assert [p.token for p in v10] == ["Profile_1_main", "Profile_1_sub"]
        uri = await client.media.get_stream_uri("Profile_1_main")
        assert uri.uri == "rtsp://127.0.0.1:8554/profile/Profile_1_main"
        snapshot = await client.media.get_snapshot_uri("Profile_1_sub")
        assert snapshot.uri == f"{device.base_url}/onvif/snapshot/Profile_1_sub.jpg"


async def test_set_encoder_reconfigures_stream_and_checks_options(device: RunningDevice) -> None:
    assert isinstance(device.streams, NullStreams)
    async with device.client(OPERATOR) as client:
        options = await client.media.get_video_encoder_configuration_options("VideoEncoder_1_sub")
        h264 = options.for_encoding(VideoEncoding.H264)
        assert h264 is not None
        assert Resolution(1280, 720) in h264.resolutions
        current = next(
            c
            for c in await client.media.get_video_encoder_configurations()
            if c.token == "VideoEncoder_1_sub"
        )
        wanted = dataclasses.replace(
            current, resolution=Resolution(1280, 720), frame_rate_limit=15, bitrate_limit=1024
        )
        options.check(wanted)  # what the device advertises accepts it ...
        await client.media.set_video_encoder_configuration(wanted)  # ... and so does Set
        configured = device.streams.configured["VideoEncoder_1_sub"]
        assert (configured.resolution, configured.frame_rate_limit) == (Resolution(1280, 720), 15)
        profile = await client.media.get_profile("Profile_1_sub")
        assert profile.video_encoder_configuration is not None
        assert profile.video_encoder_configuration.bitrate_limit == 1024
        with pytest.raises(InvalidArgValue):
            await client.media.set_video_encoder_configuration(
                dataclasses.replace(current, resolution=Resolution(1000, 1000))
            )
        with pytest.raises(InvalidArgValue):
            await client.media.set_video_encoder_configuration(
                dataclasses.replace(current, bitrate_limit=10**6)
            )
        # ver10, with its own options: out-of-range GOP is refused too.
        v10 = media1.build_set_video_encoder_configuration(
            dataclasses.replace(current, gov_length=5000)
        )
        with pytest.raises(InvalidArgValue):
            await client.call(ServiceKind.MEDIA, v10)
    async with device.client(VIEWER) as viewer:
        with pytest.raises(NotAuthorized):
            await viewer.media.set_video_encoder_configuration(wanted)


async def test_create_add_and_delete_profiles(device: RunningDevice) -> None:
    async with device.client() as client:
        token = await client.media.create_profile("nvr")
        await client.media.add_video_encoder_configuration(token, "VideoEncoder_1_main")
        created = await client.media.get_profile(token)
        assert created.name == "nvr"
        assert created.video_encoder_configuration is not None
        assert created.video_encoder_configuration.token == "VideoEncoder_1_main"
        await client.media.delete_profile(token)
        with pytest.raises(InvalidArgValue):
            await client.media.get_profile(token)
        with pytest.raises(SoapFaultError) as fixed:  # fixed profiles stay
            await client.media.delete_profile("Profile_1_main")
        assert fixed.value.subcodes == ("Action", "DeletionOfFixedProfile")


async def test_snapshot_needs_credentials(device: RunningDevice) -> None:
    url = f"{device.base_url}/onvif/snapshot/Profile_1_main.jpg"
    async with httpx.AsyncClient(trust_env=False) as http:
        anonymous = await http.get(url)
        basic = await http.get(url, auth=httpx.BasicAuth(*VIEWER))
        digest = await http.get(url, auth=httpx.DigestAuth(*VIEWER))
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Digest ")
    # NullStreams has no picture: authenticated callers get past auth to a 503.
    assert basic.status_code == 503
    assert digest.status_code == 503


async def test_imaging_settings_are_stored_and_checked(device: RunningDevice) -> None:
    async with device.client(OPERATOR) as client:
        options = await client.imaging.get_options("VideoSource_1")
        assert options.brightness is not None
        assert options.brightness.max == 100
        await client.imaging.set_imaging_settings(
            "VideoSource_1", ImagingSettings(brightness=80, ir_cut_filter=IrCutFilterMode.OFF)
        )
        settings = await client.imaging.get_imaging_settings("VideoSource_1")
        assert settings.brightness == 80
        assert settings.ir_cut_filter is IrCutFilterMode.OFF
        assert settings.contrast == 50  # untouched fields keep their values
        with pytest.raises(InvalidArgValue):
            await client.imaging.set_imaging_settings(
                "VideoSource_1", ImagingSettings(brightness=500)
            )
    assert "brightness: 80.0" in (device.app.device.state.data_dir / "imaging.yaml").read_text()


async def test_ptz_moves_over_fake_time_and_presets_persist(tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC))
    running, server, task = await start_device(tmp_path / "data", clock=clock)
    try:
        async with running.client(OPERATOR) as client:
            ptz = client.ptz
            await ptz.continuous_move(
                "Profile_1_main", PTZSpeed(pan=0.5, tilt=0.0), timeout=timedelta(seconds=1)
            )
            moving = await ptz.get_status("Profile_1_main")
            assert moving.pan_tilt_move_status is MoveStatus.MOVING
            clock.advance(0.5)
            half = await ptz.get_status("Profile_1_main")
            assert half.position is not None
            assert half.position.pan == pytest.approx(0.25)
            clock.advance(5)  # the 1 s timeout ends the move at pan 0.5
            done = await ptz.get_status("Profile_1_main")
            assert done.pan_tilt_move_status is MoveStatus.IDLE
            assert done.position is not None
            assert done.position.pan == pytest.approx(0.5)

            await ptz.absolute_move("Profile_1_main", PTZVector(pan=-1.0, tilt=0.5, zoom=0.2))
            clock.advance(10)
            preset = await ptz.set_preset("Profile_1_main", name="door")
            await ptz.set_home_position("Profile_1_main")
            await ptz.relative_move("Profile_1_main", PTZVector(pan=-0.5, tilt=0.0))
            clock.advance(10)
            clamped = await ptz.get_status("Profile_1_main")
            assert clamped.position is not None
            assert clamped.position.pan == pytest.approx(-1.0)
            await ptz.goto_preset("Profile_1_main", preset)
            clock.advance(10)
            back = await ptz.get_status("Profile_1_main")
            assert back.position is not None
            assert (back.position.pan, back.position.tilt) == pytest.approx((-1.0, 0.5))
            with pytest.raises(InvalidArgValue):
                await ptz.absolute_move("Profile_1_main", PTZVector(pan=3.0, tilt=0.0))
        async with running.client(VIEWER) as viewer:
            with pytest.raises(NotAuthorized):
                await viewer.ptz.stop("Profile_1_main")
    finally:
        server.should_exit = True
        await task
    # A restarted device reads the presets back from ptz.yaml.
    again, server, task = await start_device(tmp_path / "data", clock=clock)
    try:
        async with again.client(VIEWER) as client:
            presets = await client.ptz.get_presets("Profile_1_main")
            assert [(p.name, p.position.pan if p.position else None) for p in presets] == [
                ("door", -1.0)
            ]
    finally:
        server.should_exit = True
        await task


async def test_events_end_to_end(tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC))
    running, server, task = await start_device(tmp_path / "data", clock=clock)
    hub = running.app.device.events
    try:
        async with running.client(VIEWER) as client:
            properties = await client.events.get_event_properties()
            topics = {t.topic_path for t in properties.topics}
            assert {
                "tns1:VideoSource/MotionAlarm",
                "tns1:RuleEngine/CellMotionDetector/Motion",
                "tns1:VideoSource/GlobalSceneChange/ImagingService",
                "tns1:Device/Trigger/DigitalInput",
                "tns1:Device/Trigger/Relay",
            } <= topics
            subscription = await client.events.create_pull_point_subscription(
                topic_filter="tns1:VideoSource//.", initial_termination=timedelta(minutes=2)
            )
            assert subscription.url.startswith(f"{running.base_url}/onvif/pullpoint/")
            initial = await subscription.pull(timedelta(seconds=1))
            assert {
                (e.topic, e.property_operation.value if e.property_operation else None)
                for e in initial
            } == {
                ("VideoSource/MotionAlarm", "Initialized"),
                ("VideoSource/GlobalSceneChange/ImagingService", "Initialized"),
                ("VideoSource/ImageTooDark/ImagingService", "Initialized"),
            }
            empty = await subscription.pull(timedelta(seconds=0.2))
            assert empty == []
            hub.fire("motion", True)
            hub.fire("relay", True, source="RelayOutput_3")  # filtered out
            events = await subscription.pull(timedelta(seconds=5))
            assert [(e.topic, e.data, e.source) for e in events] == [
                ("VideoSource/MotionAlarm", {"State": "true"}, {"Source": "VideoSource_1"})
            ]
            await subscription.renew(timedelta(minutes=5))
            await subscription.set_synchronization_point()
            synced = await subscription.pull(timedelta(seconds=1))
            assert ("VideoSource/MotionAlarm", {"State": "true"}) in [
                (e.topic, e.data) for e in synced
            ]
            clock.advance(600)  # past the termination time
            assert hub.subscription_count == 0
            with pytest.raises(InvalidArgValue):
                await subscription.pull(timedelta(seconds=1))

            absolute = await client.events.create_pull_point_subscription(
                topic_filter="tns1:Device/Trigger/Relay",
                initial_termination=clock.now() + timedelta(minutes=1),
            )
            async with absolute:
                first = await absolute.pull(timedelta(seconds=1), limit=10)
                assert len(first) == 4  # one Initialized per relay
            assert hub.subscription_count == 0  # unsubscribed on exit
    finally:
        server.should_exit = True
        await task
