"""GetProfiles' cached answer follows every change of the media and PTZ state.

The device builds a GetProfiles answer once per media state
(``platonicam.device.handlers.media.cached_profiles_answer``); these tests
change that state through the ONVIF operations and read the answer again.
"""

from __future__ import annotations

import dataclasses

from platonicam.onvif.client import OnvifClient
from platonicam.onvif.models.common import Resolution, ServiceKind
from platonicam.onvif.models.media import MediaProfile
from platonicam.onvif.services import media as media1
from platonicam.onvif.services import media2
from platonicam.onvif.soap.build import element, sub
from platonicam.onvif.soap.namespaces import TRT
from tests.integration.device.conftest import RunningDevice


async def _v10_profiles(client: OnvifClient) -> dict[str, MediaProfile]:
    payload = await client.call(ServiceKind.MEDIA, media1.build_get_profiles())
    return {p.token: p for p in media1.parse_get_profiles(payload)}


async def _v20_profiles(client: OnvifClient) -> dict[str, MediaProfile]:
    payload = await client.call(ServiceKind.MEDIA2, media2.build_get_profiles())
    return {p.token: p for p in media2.parse_get_profiles(payload)}


async def test_cached_answer_follows_set_video_encoder_configuration(
    device: RunningDevice,
) -> None:
    async with device.client() as client:
        before = await _v10_profiles(client)
        again = await _v10_profiles(client)  # answered from the cache
        assert again == before
        encoder = before["Profile_1_sub"].video_encoder_configuration
        assert encoder is not None
        assert (encoder.resolution, encoder.bitrate_limit) == (Resolution(640, 360), 512)
        wanted = dataclasses.replace(encoder, resolution=Resolution(1280, 720), bitrate_limit=2048)
        await client.call(ServiceKind.MEDIA, media1.build_set_video_encoder_configuration(wanted))
        for profiles in (await _v10_profiles(client), await _v20_profiles(client)):
            changed = profiles["Profile_1_sub"].video_encoder_configuration
            assert changed is not None
            assert (changed.resolution, changed.bitrate_limit) == (Resolution(1280, 720), 2048)
            main = profiles["Profile_1_main"].video_encoder_configuration
            assert main is not None
            assert main.resolution == Resolution(1920, 1080)


async def test_cached_answer_follows_create_and_delete_profile(device: RunningDevice) -> None:
    async with device.client() as client:
        assert list(await _v10_profiles(client)) == ["Profile_1_main", "Profile_1_sub"]
        v20_before = list(await _v20_profiles(client))
        payload = await client.call(ServiceKind.MEDIA, media1.build_create_profile("nvr", "nvr_1"))
        assert media1.parse_create_profile(payload).token == "nvr_1"
        after = await _v10_profiles(client)
        assert list(after) == ["Profile_1_main", "Profile_1_sub", "nvr_1"]
        assert after["nvr_1"].name == "nvr"
        assert after["nvr_1"].video_encoder_configuration is None
        assert list(await _v20_profiles(client)) == [*v20_before, "nvr_1"]
        # Attaching an encoder changes the profile's answer again.
        await client.call(
            ServiceKind.MEDIA,
            media1.build_add_video_encoder_configuration("nvr_1", "VideoEncoder_1_main"),
        )
        attached = (await _v10_profiles(client))["nvr_1"].video_encoder_configuration
        assert attached is not None
        assert attached.token == "VideoEncoder_1_main"
        assert attached.use_count == 2  # Profile_1_main and nvr_1
        await client.call(ServiceKind.MEDIA, media1.build_delete_profile("nvr_1"))
        assert list(await _v10_profiles(client)) == ["Profile_1_main", "Profile_1_sub"]


async def test_cached_answer_follows_ptz_configuration(device: RunningDevice) -> None:
    async with device.client() as client:
        before = await _v10_profiles(client)
        assert before["Profile_1_main"].ptz_configuration_token == "PTZConfig_1"
        # The client has no builder for RemovePTZConfiguration: the request by hand.
        remove = element(TRT, "RemovePTZConfiguration")
        sub(remove, TRT, "ProfileToken", "Profile_1_main")
        await client.call(ServiceKind.MEDIA, remove)
        assert (await _v10_profiles(client))["Profile_1_main"].ptz_configuration_token is None


async def test_media2_variants_are_cached_apart(device: RunningDevice) -> None:
    async with device.client() as client:
        full = await _v20_profiles(client)  # Type=All
        bare_payload = await client.call(ServiceKind.MEDIA2, media2.build_get_profiles(types=()))
        one_payload = await client.call(
            ServiceKind.MEDIA2, media2.build_get_profiles("Profile_1_sub")
        )
        bare = {p.token: p for p in media2.parse_get_profiles(bare_payload)}
        one = media2.parse_get_profiles(one_payload)
        assert list(bare) == list(full) == ["Profile_1_main", "Profile_1_sub", "Profile_1_h265"]
        assert all(p.video_encoder_configuration is not None for p in full.values())
        assert all(p.video_encoder_configuration is None for p in bare.values())
        assert [p.token for p in one] == ["Profile_1_sub"]
        assert one[0] == full["Profile_1_sub"]
