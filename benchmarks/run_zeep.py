"""Connect-benchmark runner for onvif-zeep-async (the library Home Assistant uses).

Runs under ``benchmarks/.peers/zeep/bin/python``. Drives the library the way
Home Assistant's ONVIF integration does: ``ONVIFCamera`` with the WSDL directory
the package ships, ``update_xaddrs()`` (with ``adjust_time=True`` it first reads
GetSystemDateAndTime without credentials, then GetServices), then zeep service
proxies for devicemgmt and media. WS-Security UsernameToken with PasswordDigest
is its default (``encrypt=True``).
"""

from __future__ import annotations

import time

import _harness

_start = time.perf_counter_ns()
import onvif  # noqa: E402
from onvif import ONVIFCamera  # noqa: E402

_IMPORT_NS = time.perf_counter_ns() - _start

_WSDL_DIR = onvif.__file__.rsplit("/", 1)[0] + "/wsdl"


class ZeepWorkload:
    def __init__(self, target: _harness.Target) -> None:
        self._target = target
        self._camera: ONVIFCamera | None = None

    async def open(self) -> None:
        t = self._target
        # no_cache=True as Home Assistant passes it: the WSDLs are local files.
        self._camera = ONVIFCamera(
            t.host, t.port, t.username, t.password, _WSDL_DIR, adjust_time=True, no_cache=True
        )
        await self._camera.update_xaddrs()

    async def three_calls(self) -> _harness.Answers:
        assert self._camera is not None
        device = await self._camera.create_devicemgmt_service()
        info = await device.GetDeviceInformation()
        media = await self._camera.create_media_service()
        profiles = await media.GetProfiles()
        token = profiles[0].token
        uri = await media.GetStreamUri(
            {
                "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
                "ProfileToken": token,
            }
        )
        return _harness.Answers(
            model=str(info.Model),
            profile_count=len(profiles),
            first_profile_token=str(token),
            stream_uri=str(uri.Uri),
        )

    async def close(self) -> None:
        if self._camera is not None:
            await self._camera.close()


if __name__ == "__main__":
    _harness.main(ZeepWorkload, import_ns=_IMPORT_NS, library="onvif-zeep-async")
