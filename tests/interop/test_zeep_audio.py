"""onvif-zeep-async (Home Assistant's ONVIF library) reads the device's AAC audio.

The reference device runs with its default sound (an AAC-LC 48 kHz mono beep,
:mod:`platonicam.device.audio`), so Media ver10 must describe it in a shape
zeep's schema-driven parser accepts: the profiles' full AudioSourceConfiguration
and AudioEncoderConfiguration, GetAudioSources and the audio configurations
and options. (The package has no Media2 proxy; our own client checks Media2 in
``tests/integration/device/test_audio_onvif.py``.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.interop.conftest import HERE, InteropDevice

SCRIPT = HERE / "zeep_audio.py"


def test_zeep_reads_the_aac_audio_of_every_profile(
    zeep_python: Path, interop_device: InteropDevice
) -> None:
    result: dict[str, Any] = interop_device.client(
        [
            str(zeep_python),
            str(SCRIPT),
            interop_device.host,
            str(interop_device.port),
            interop_device.username,
            interop_device.password,
        ],
        cwd=HERE,
    ).single
    failed = {k: v["error"] for k, v in result.items() if isinstance(v, dict) and "error" in v}
    assert not failed, json.dumps(failed, indent=1)
    profiles = result["GetProfiles"]
    assert profiles
    for profile in profiles:
        source = profile["AudioSourceConfiguration"]
        assert (source["token"], source["SourceToken"]) == ("AudioSourceConfig_1", "AudioSource_1")
        encoder = profile["AudioEncoderConfiguration"]
        assert encoder["token"] == "AudioEncoder_1"
        assert (encoder["Encoding"], encoder["Bitrate"], encoder["SampleRate"]) == ("AAC", 64, 48)
        assert encoder["UseCount"] == 3
    (audio_source,) = result["GetAudioSources"]
    assert (audio_source["token"], audio_source["Channels"]) == ("AudioSource_1", 1)
    assert [c["token"] for c in result["GetAudioSourceConfigurations"]] == ["AudioSourceConfig_1"]
    (encoder,) = result["GetAudioEncoderConfigurations"]
    assert encoder == result["GetAudioEncoderConfiguration"]
    assert encoder["Multicast"]["Address"]["IPv4Address"] == "0.0.0.0"
    assert encoder["SessionTimeout"] == "0:01:00"
    (option,) = result["GetAudioEncoderConfigurationOptions"]["Options"]
    assert option["Encoding"] == "AAC"
    assert option["BitrateList"]["Items"] == [64]
    assert option["SampleRateList"]["Items"] == [48]
    assert result["GetAudioSourceConfigurationOptions"]["InputTokensAvailable"] == ["AudioSource_1"]
