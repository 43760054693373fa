"""SOAP requests per second the reference device answers on one core, authenticated.

::

    .venv/bin/python benchmarks/device_soap.py                      # raw generator, 5 s per row
    .venv/bin/python benchmarks/device_soap.py --generator client   # our OnvifClient as the load
    .venv/bin/python benchmarks/device_soap.py --seconds 10 --connections 16

The device runs in its own process pinned to the first CPU
(``os.sched_setaffinity``); the load generator runs here, pinned to the second.
Every request is signed afresh, so the device does the whole authentication
work each time:

* ``ws-security``: a UsernameToken PasswordDigest with a new 16-byte nonce and
  the current ``Created`` per request (the replay cache sees no repeat);
* ``digest``: HTTP Digest, the challenge answered once per connection and then
  reused with an increasing nonce count (as curl, httpx and cameras' own
  clients do), so each request costs the device one MD5 check.

Generators: ``raw`` (default) keeps ``--connections`` keep-alive HTTP/1.1
connections busy with pre-serialised Media ver10 envelopes (only the token is
built per request), cheap enough that the device's core is the bottleneck;
``client`` is :class:`~platonicam.onvif.client.OnvifClient` with
``--connections`` concurrent tasks, whose own parsing makes the load core the
bottleneck first (it measures what one Python client process can drive).

Rows: GetProfiles and GetStreamUri (Media ver10, the first profile) for each
auth mode, with the device's CPU share and the load core's. ``per CPU-s`` is
requests per second of device CPU time: what one whole core would answer, the
fair figure when other processes share the machine and the device got less
than its core (then ``device CPU`` reads below 100 %). Loopback only.
Target: >= 2,000 requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import importlib.util
import os
import resource
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from _device_process import PASSWORD, USERNAME, DeviceProcess, cores, pin
from platonicam.onvif.client import AuthMode, OnvifClient
from platonicam.rtsp.auth import DigestChallenge, answer_challenge

TARGET = 2000.0
PROFILE = "Profile_1_main"
MEDIA_PATH = "/onvif/media_service"
_BODIES = {
    "GetProfiles": '<GetProfiles xmlns="http://www.onvif.org/ver10/media/wsdl"/>',
    "GetStreamUri": (
        '<GetStreamUri xmlns="http://www.onvif.org/ver10/media/wsdl">'
        '<StreamSetup><Stream xmlns="http://www.onvif.org/ver10/schema">RTP-Unicast</Stream>'
        '<Transport xmlns="http://www.onvif.org/ver10/schema"><Protocol>RTSP</Protocol>'
        f"</Transport></StreamSetup><ProfileToken>{PROFILE}</ProfileToken></GetStreamUri>"
    ),
}
_WSSE = (
    '<Security s:mustUnderstand="1" xmlns="http://docs.oasis-open.org/wss/2004/01/'
    'oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken><Username>{user}</Username>'
    '<Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-'
    'profile-1.0#PasswordDigest">{digest}</Password><Nonce EncodingType="http://docs.oasis-'
    'open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">{nonce}'
    '</Nonce><Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-'
    'utility-1.0.xsd">{created}</Created></UsernameToken></Security>'
)


def _envelope(operation: str, auth: str) -> bytes:
    header = ""
    if auth == "ws-security":
        nonce = os.urandom(16)
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        digest = hashlib.sha1(nonce + created.encode() + PASSWORD.encode()).digest()  # noqa: S324
        header = (
            "<s:Header>"
            + _WSSE.format(
                user=USERNAME,
                digest=base64.b64encode(digest).decode(),
                nonce=base64.b64encode(nonce).decode(),
                created=created,
            )
            + "</s:Header>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
        f"{header}<s:Body>{_BODIES[operation]}</s:Body></s:Envelope>"
    ).encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers


async def _raw_connection(
    port: int, operation: str, auth: str, stop_at: float, counts: list[int], latencies: list[float]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    challenge: DigestChallenge | None = None
    nc = 0
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            body = _envelope(operation, auth)
            extra = ""
            if auth == "digest" and challenge is not None:
                nc += 1
                answer = answer_challenge(
                    challenge,
                    username=USERNAME,
                    password=PASSWORD,
                    method="POST",
                    uri=MEDIA_PATH,
                    nc=nc,
                )
                extra = f"Authorization: {answer}\r\n"
            writer.write(
                f"POST {MEDIA_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/soap+xml; charset=utf-8\r\n{extra}"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            status, headers = await _read_response(reader)
            if status == 401 and auth == "digest":
                challenge, nc = DigestChallenge.parse(headers["www-authenticate"]), 0
                continue
            if status != 200:
                raise RuntimeError(f"{operation} ({auth}) answered {status}")
            counts[0] += 1
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()
        await writer.wait_closed()


async def _measure_raw(
    port: int, auth: str, operation: str, seconds: float, connections: int
) -> tuple[int, list[float]]:
    counts = [0]
    latencies: list[float] = []
    await _raw_connection(port, operation, auth, time.perf_counter() + 0.5, [0], [])  # warm-up
    await asyncio.gather(
        *(
            _raw_connection(port, operation, auth, time.perf_counter() + seconds, counts, latencies)
            for _ in range(connections)
        )
    )
    return counts[0], latencies


async def _measure_client(
    port: int, auth: str, operation: str, seconds: float, connections: int
) -> tuple[int, list[float]]:
    mode: AuthMode = "ws-security" if auth == "ws-security" else "digest"
    async with OnvifClient("127.0.0.1", port, USERNAME, PASSWORD, auth_mode=mode) as client:
        await client.connect()
        call: Callable[[], Awaitable[object]]
        if operation == "GetProfiles":
            call = client.media.get_profiles
        else:
            call = lambda: client.media.get_stream_uri(PROFILE)  # noqa: E731
        for _ in range(50):  # warm the pool and both processes
            await call()
        done = 0
        latencies: list[float] = []
        stop_at = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                await call()
                latencies.append(time.perf_counter() - started)
                done += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        return done, latencies


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per row (default 5)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent requests (8)")
    parser.add_argument("--generator", choices=("raw", "client"), default="raw")
    args = parser.parse_args()
    available = cores()
    device_core = available[0] if len(available) > 1 else -1
    load_core = available[1] if len(available) > 1 else -1
    measure = _measure_raw if args.generator == "raw" else _measure_client
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        DeviceProcess(Path(tmp) / "device", device_core) as device,
    ):
        pin(load_core)
        for auth in ("ws-security", "digest"):
            for operation in ("GetProfiles", "GetStreamUri"):
                device_before, own_before = device.cpu_seconds(), _own_cpu()
                wall = time.perf_counter()
                done, latencies = asyncio.run(
                    measure(device.port, auth, operation, args.seconds, args.connections)
                )
                elapsed = time.perf_counter() - wall
                latencies.sort()
                rows.append(
                    (
                        operation,
                        auth,
                        done / args.seconds,
                        latencies[len(latencies) // 2] * 1000,
                        (device.cpu_seconds() - device_before) / elapsed,
                        (_own_cpu() - own_before) / elapsed,
                    )
                )
    # uvicorn picks httptools whenever it is importable and falls back to the
    # pure-Python h11, which costs the device about a third of its rate: say which.
    parser_name = "httptools" if importlib.util.find_spec("httptools") else "h11"
    print(
        f"generator {args.generator}, device on CPU {device_core}, load on CPU {load_core}, "
        f"{args.connections} concurrent, {args.seconds:g} s per row, HTTP parser {parser_name}"
    )
    print(
        f"{'operation':<13} {'auth':<12} {'req/s':>7} {'median ms':>9} "
        f"{'device CPU':>10} {'per CPU-s':>9} {'load CPU':>8} {'target':>6}"
    )
    print(f"{'-' * 13} {'-' * 12} {'-' * 7} {'-' * 9} {'-' * 10} {'-' * 9} {'-' * 8} {'-' * 6}")
    for operation, auth, rate, median, device_cpu, load_cpu in rows:
        verdict = "ok" if rate >= TARGET else "MISSED"
        print(
            f"{operation:<13} {auth:<12} {rate:>7.0f} {median:>9.2f} "
            f"{device_cpu:>10.0%} {rate / max(device_cpu, 1e-9):>9.0f} "
            f"{load_cpu:>8.0%} {verdict:>6}"
        )


if __name__ == "__main__":
    main()
