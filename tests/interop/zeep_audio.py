"""Read the device's audio with onvif-zeep-async (Media ver10) and print it as one JSON line.

Runs under ``tests/interop/.venv-zeep/bin/python`` like ``zeep_client.py`` (whose
helpers it reuses), so it imports only the standard library, ``onvif``/``zeep``
and that script. Usage: ``zeep_audio.py HOST PORT USER PASSWORD``. Each step's
result, or ``{"error": ...}``, is recorded, so one failure does not hide the others.
"""

from __future__ import annotations

import asyncio
import sys
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from zeep_client import emit, new_camera, plain


async def main() -> int:
    host, port, user, password = sys.argv[1:5]
    camera = await new_camera(host, int(port), user, password)
    results: dict[str, Any] = {}

    async def step(name: str, action: Callable[[], Awaitable[Any]]) -> None:
        try:
            results[name] = plain(await action())
        except Exception as exc:
            results[name] = {
                "error": f"{type(exc).__name__}: {exc}",
                "trace": traceback.format_exc(),
            }

    try:
        media = await camera.create_media_service()
        await step("GetProfiles", media.GetProfiles)
        await step("GetAudioSources", media.GetAudioSources)
        await step("GetAudioSourceConfigurations", media.GetAudioSourceConfigurations)
        await step("GetAudioEncoderConfigurations", media.GetAudioEncoderConfigurations)
        await step(
            "GetAudioEncoderConfiguration",
            lambda: media.GetAudioEncoderConfiguration({"ConfigurationToken": "AudioEncoder_1"}),
        )
        await step(
            "GetAudioEncoderConfigurationOptions",
            lambda: media.GetAudioEncoderConfigurationOptions({"ProfileToken": "Profile_1_main"}),
        )
        await step(
            "GetAudioSourceConfigurationOptions",
            lambda: media.GetAudioSourceConfigurationOptions({}),
        )
    finally:
        await camera.close()
    emit(results)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
