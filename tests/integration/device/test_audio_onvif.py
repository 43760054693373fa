"""The device's audio as Media and Media2 advertise it, read with our own ONVIF client.

The SOAP side only (no video is encoded: the streams are :class:`NullStreams`);
that the streams really carry the AAC track is ``test_device_audio.py``'s job.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import uvicorn
from lxml import etree

from platonicam.device.app import create_device_app
from platonicam.device.audio import AudioSettings
from platonicam.device.core import DeviceOptions
from platonicam.device.state import DeviceState
from platonicam.device.streams import NullStreams
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import ActionNotSupported, InvalidArgValue
from platonicam.onvif.models.common import ServiceKind
from platonicam.onvif.models.device import User, UserLevel
from platonicam.onvif.soap.build import element, sub
from platonicam.onvif.soap.namespaces import TMD, TR2, TRT, TT, qn
from tests.conftest import LoopbackOnlyTransport
from tests.integration.device.conftest import ADMIN, serve

StartDevice = Callable[..., Awaitable[OnvifClient]]


@pytest.fixture
async def client_for(tmp_path: Path) -> AsyncIterator[StartDevice]:
    """``await client_for(audio, channels)``: a client of a device served on loopback."""
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []
    clients: list[OnvifClient] = []
    transport = LoopbackOnlyTransport()

    async def start(audio: AudioSettings | None, channels: int = 1) -> OnvifClient:
        state = DeviceState.load(tmp_path / f"data-{len(servers)}", channels=channels)
        app = create_device_app(state, NullStreams(), DeviceOptions(audio=audio))
        app.device.users.create([User(ADMIN[0], UserLevel.ADMINISTRATOR, ADMIN[1])])
        await app.device.start()
        server, task, port = await serve(app)
        servers.append((server, task))
        client = OnvifClient("127.0.0.1", port, *ADMIN, transport=transport)
        clients.append(client)
        await client.connect()
        return client

    yield start
    for client in clients:
        await client.aclose()
    for server, task in servers:
        server.should_exit = True
        await task
    await transport.aclose()


def request(namespace: str, operation: str, **arguments: str) -> etree._Element:
    payload = element(namespace, operation)
    for name, value in arguments.items():
        sub(payload, namespace, name, value)
    return payload


def texts(node: etree._Element, path: str) -> list[str]:
    return [str(found.text) for found in node.iterfind(path, {"tt": TT, "trt": TRT, "tr2": TR2})]


async def test_profiles_reference_the_aac_encoder_in_media1_and_media2(
    client_for: StartDevice,
) -> None:
    client = await client_for(AudioSettings())
    # Our client's typed view (Media2, the device is Profile T).
    profiles = await client.media.get_profiles()
    assert {p.token for p in profiles} == {"Profile_1_main", "Profile_1_sub", "Profile_1_h265"}
    for profile in profiles:
        assert profile.audio_source_configuration_token == "AudioSourceConfig_1"
        assert profile.audio_encoder_configuration_token == "AudioEncoder_1"
    # Media1: the whole configurations, in schema order, inside the profile.
    answer = await client.call(
        ServiceKind.MEDIA, request(TRT, "GetProfile", ProfileToken="Profile_1_main")
    )
    (profile,) = answer.iterfind(f"{{{TRT}}}Profile")
    names = [etree.QName(node).localname for node in profile]
    assert names[:5] == [
        "Name",
        "VideoSourceConfiguration",
        "AudioSourceConfiguration",
        "VideoEncoderConfiguration",
        "AudioEncoderConfiguration",
    ]
    encoder = profile.find(qn(TT, "AudioEncoderConfiguration"))
    assert encoder is not None
    assert encoder.get("token") == "AudioEncoder_1"
    assert texts(encoder, "tt:Encoding") == ["AAC"]
    assert texts(encoder, "tt:Bitrate") == ["64"]
    assert texts(encoder, "tt:SampleRate") == ["48"]  # kHz
    assert texts(encoder, "tt:UseCount") == ["3"]  # every profile of channel 1 carries it
    assert texts(encoder, "tt:SessionTimeout") == ["PT60S"]
    source = profile.find(qn(TT, "AudioSourceConfiguration"))
    assert source is not None
    assert texts(source, "tt:SourceToken") == ["AudioSource_1"]
    # Media2 with Type All: AudioSource and AudioEncoder among the configurations.
    answer = await client.call(
        ServiceKind.MEDIA2, request(TR2, "GetProfiles", Token="Profile_1_h265", Type="All")
    )
    configurations = answer.find(f"{{{TR2}}}Profiles/{{{TR2}}}Configurations")
    assert configurations is not None
    assert [etree.QName(node).localname for node in configurations][:4] == [
        "VideoSource",
        "AudioSource",
        "VideoEncoder",
        "AudioEncoder",
    ]
    encoder2 = configurations.find(qn(TR2, "AudioEncoder"))
    assert encoder2 is not None
    assert texts(encoder2, "tt:Encoding") == ["mpeg4-generic"]
    assert (texts(encoder2, "tt:Bitrate"), texts(encoder2, "tt:SampleRate")) == (["64"], ["48"])
    # Without Type, Media2 answers names and tokens: no audio either.
    bare = await client.call(
        ServiceKind.MEDIA2, request(TR2, "GetProfiles", Token="Profile_1_main")
    )
    assert bare.find(f".//{{{TR2}}}AudioEncoder") is None


async def test_audio_sources_and_configurations_per_channel(client_for: StartDevice) -> None:
    client = await client_for(AudioSettings(), channels=2)
    sources = await client.call(ServiceKind.MEDIA, request(TRT, "GetAudioSources"))
    assert [n.get("token") for n in sources] == ["AudioSource_1", "AudioSource_2"]
    assert texts(sources, "trt:AudioSources/tt:Channels") == ["1", "1"]
    media1 = await client.call(ServiceKind.MEDIA, request(TRT, "GetAudioSourceConfigurations"))
    assert texts(media1, "trt:Configurations/tt:SourceToken") == ["AudioSource_1", "AudioSource_2"]
    one = await client.call(
        ServiceKind.MEDIA,
        request(TRT, "GetAudioEncoderConfiguration", ConfigurationToken="AudioEncoder_2"),
    )
    assert texts(one, "trt:Configuration/tt:Encoding") == ["AAC"]
    options = await client.call(
        ServiceKind.MEDIA,
        request(TRT, "GetAudioEncoderConfigurationOptions", ProfileToken="Profile_2_main"),
    )
    assert texts(options, "trt:Options/tt:Options/tt:Encoding") == ["AAC"]
    assert texts(options, "trt:Options/tt:Options/tt:BitrateList/tt:Items") == ["64"]
    assert texts(options, "trt:Options/tt:Options/tt:SampleRateList/tt:Items") == ["48"]
    # A channel-2 profile carries channel 2's sound.
    (profile,) = [p for p in await client.media.get_profiles() if p.token == "Profile_2_sub"]
    assert profile.audio_encoder_configuration_token == "AudioEncoder_2"
    # Media2 selects by profile and by token.
    by_profile = await client.call(
        ServiceKind.MEDIA2,
        request(TR2, "GetAudioEncoderConfigurations", ProfileToken="Profile_2_sub"),
    )
    assert [n.get("token") for n in by_profile] == ["AudioEncoder_2"]
    assert texts(by_profile, "tr2:Configurations/tt:Encoding") == ["mpeg4-generic"]
    every = await client.call(ServiceKind.MEDIA2, request(TR2, "GetAudioSourceConfigurations"))
    assert [n.get("token") for n in every] == ["AudioSourceConfig_1", "AudioSourceConfig_2"]
    options2 = await client.call(
        ServiceKind.MEDIA2, request(TR2, "GetAudioEncoderConfigurationOptions")
    )
    assert texts(options2, "tr2:Options/tt:Encoding") == ["mpeg4-generic"]
    # Unknown tokens, and a source configuration's token asked of the encoders.
    for service, payload in (
        (
            ServiceKind.MEDIA,
            request(TRT, "GetAudioEncoderConfiguration", ConfigurationToken="AudioSourceConfig_1"),
        ),
        (ServiceKind.MEDIA, request(TRT, "GetAudioSourceConfiguration", ConfigurationToken="nope")),
        (
            ServiceKind.MEDIA2,
            request(TR2, "GetAudioEncoderConfigurations", ConfigurationToken="nope"),
        ),
    ):
        with pytest.raises(InvalidArgValue) as refused:
            await client.call(service, payload)
        assert refused.value.subcodes[-1] == "NoConfig"
    io = await client.call(ServiceKind.DEVICEIO, request(TMD, "GetServiceCapabilities"))
    assert io[0].get("AudioSources") == "2"


async def test_a_device_without_audio_advertises_none(client_for: StartDevice) -> None:
    client = await client_for(None)
    profiles = await client.media.get_profiles()
    assert profiles
    assert all(p.audio_encoder_configuration_token is None for p in profiles)
    assert all(p.audio_source_configuration_token is None for p in profiles)
    for operation in (
        "GetAudioSources",
        "GetAudioSourceConfigurations",
        "GetAudioEncoderConfigurations",
    ):
        answer = await client.call(ServiceKind.MEDIA, request(TRT, operation))
        assert len(answer) == 0, operation
    answer = await client.call(ServiceKind.MEDIA2, request(TR2, "GetAudioEncoderConfigurations"))
    assert len(answer) == 0
    for service, namespace in ((ServiceKind.MEDIA, TRT), (ServiceKind.MEDIA2, TR2)):
        with pytest.raises(ActionNotSupported) as refused:
            await client.call(service, request(namespace, "GetAudioEncoderConfigurationOptions"))
        assert refused.value.subcodes[-1] == "AudioNotSupported"
    io = await client.call(ServiceKind.DEVICEIO, request(TMD, "GetServiceCapabilities"))
    assert io[0].get("AudioSources") == "0"
