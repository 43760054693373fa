"""Connect-benchmark runner for onveef.

Runs under ``benchmarks/.peers/onveef/bin/python``. onveef discovers services
lazily and reads the camera clock only after an authentication failure; to do
the same wire work as the other clients (clock, then services) the connect
step asks for the clock explicitly and then calls ``connect()`` (GetServices).
Its default is WS-Security UsernameToken with PasswordDigest.
"""

from __future__ import annotations

import time

import _harness

_start = time.perf_counter_ns()
from onveef import AsyncOnvifClient  # noqa: E402

_IMPORT_NS = time.perf_counter_ns() - _start


class OnveefWorkload:
    def __init__(self, target: _harness.Target) -> None:
        self._target = target
        self._client: AsyncOnvifClient | None = None

    async def open(self) -> None:
        t = self._target
        self._client = AsyncOnvifClient(t.host, t.port, t.username, t.password)
        await self._client.get_system_date_time()
        await self._client.connect()

    async def three_calls(self) -> _harness.Answers:
        assert self._client is not None
        info = await self._client.get_device_information()
        profiles = await self._client.get_profiles()
        token = profiles[0]["token"]
        uri = await self._client.get_stream_uri(profile_token=token)
        return _harness.Answers(
            model=info["Model"],
            profile_count=len(profiles),
            first_profile_token=token,
            stream_uri=uri,
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


if __name__ == "__main__":
    _harness.main(OnveefWorkload, import_ns=_IMPORT_NS, library="onveef")
