"""Connect-benchmark runner for PlatoniCam's own client.

Runs under the project's ``.venv`` python. ``OnvifClient.connect()`` reads
GetSystemDateAndTime (no credentials) and then GetServices; ``auth_mode`` stays
at its default ``auto``, which sends a WS-Security UsernameToken with
PasswordDigest first, so against a token camera it does the same wire work as
the peers.
"""

from __future__ import annotations

import time

import _harness

_start = time.perf_counter_ns()
from platonicam.onvif import OnvifClient  # noqa: E402

_IMPORT_NS = time.perf_counter_ns() - _start


class PlatonicamWorkload:
    def __init__(self, target: _harness.Target) -> None:
        self._target = target
        self._client: OnvifClient | None = None

    async def open(self) -> None:
        t = self._target
        self._client = OnvifClient(t.host, t.port, t.username, t.password)
        await self._client.connect()

    async def three_calls(self) -> _harness.Answers:
        assert self._client is not None
        # The typed facades, as users call them: full model parsing included.
        info = await self._client.device.get_device_information()
        profiles = await self._client.media.get_profiles()
        uri = await self._client.media.get_stream_uri(profiles[0].token)
        return _harness.Answers(
            model=info.model,
            profile_count=len(profiles),
            first_profile_token=profiles[0].token,
            stream_uri=uri.uri,
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


if __name__ == "__main__":
    _harness.main(PlatonicamWorkload, import_ns=_IMPORT_NS, library="platonicam")
