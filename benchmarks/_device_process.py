"""The reference device in a process of its own, for the device benchmarks.

``python benchmarks/_device_process.py DATA_DIR CORE [--no-audio]`` pins itself to
``CORE`` (``os.sched_setaffinity``; -1 leaves it unpinned), starts a
:class:`~platonicam.device.runtime.DeviceRuntime` on 127.0.0.1 with ephemeral
ports and no discovery (and without its AAC beep with ``--no-audio``), prints
one JSON line (``port``, ``rtsp_port``, ``pid``) and serves until its stdin
closes. :class:`DeviceProcess` is the
parent's handle: start, read the CPU time the child used (``/proc``), stop.
:class:`RtpCounter` is a deliberately small RTSP reader (Digest auth, RTP
interleaved over TCP) that counts frames by the RTP marker bit without
depacketizing, so a hundred of them cost the load-generator core little.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Self

from platonicam.rtsp.auth import DigestChallenge, answer_challenge

USERNAME = "admin"
PASSWORD = "bench-admin-1"
ROOT = Path(__file__).resolve().parent.parent
_TICKS = os.sysconf("SC_CLK_TCK")


def pin(core: int) -> None:
    if core >= 0:
        os.sched_setaffinity(0, {core})


def cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))


class DeviceProcess:
    """A device child process (see the module docstring)."""

    def __init__(self, data_dir: Path, core: int, *, audio: bool = True) -> None:
        self.data_dir = data_dir
        self.core = core
        self.audio = audio
        self.port = 0
        self.rtsp_port = 0
        self.pid = 0
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            [
                sys.executable,
                __file__,
                str(self.data_dir),
                str(self.core),
                *([] if self.audio else ["--no-audio"]),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the device process did not start")
        ready = json.loads(line)
        self.port, self.rtsp_port, self.pid = ready["port"], ready["rtsp_port"], ready["pid"]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.close()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the device process (all its threads), in seconds."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS


class RtpCounter:
    """One RTSP client over TCP counting video frames (RTP packets with the marker bit)."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.url = f"rtsp://{host}:{port}{path}"
        self.host, self.port = host, port
        self.frames = 0
        self.gaps = 0
        self.bytes = 0
        self._cseq = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._challenge: DigestChallenge | None = None
        self._session: str | None = None
        self.session_timeout = 60.0

    async def _request(
        self, method: str, uri: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        assert self._reader is not None
        assert self._writer is not None
        for _ in range(2):
            self._cseq += 1
            lines = [
                f"{method} {uri} RTSP/1.0",
                f"CSeq: {self._cseq}",
                "User-Agent: platonicam-bench",
            ]
            lines += [f"{k}: {v}" for k, v in headers.items()]
            if self._session is not None:
                lines.append(f"Session: {self._session}")
            if self._challenge is not None:
                credentials = answer_challenge(
                    self._challenge, username=USERNAME, password=PASSWORD, method=method, uri=uri
                )
                lines.append(f"Authorization: {credentials}")
            self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            head = await self._reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split()[1])
            answer = {}
            for line in header_lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    answer[name.strip().lower()] = value.strip()
            body = await self._reader.readexactly(int(answer.get("content-length", "0")))
            if status == 401 and self._challenge is None:
                self._challenge = DigestChallenge.parse(answer["www-authenticate"])
                continue
            return status, answer, body
        raise RuntimeError(f"{method} {uri}: still 401 after answering the challenge")

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        status, headers, sdp = await self._request(
            "DESCRIBE", self.url, {"Accept": "application/sdp"}
        )
        if status != 200:
            raise RuntimeError(f"DESCRIBE {self.url}: {status}")
        control = re.search(rb"m=video.*?a=control:(\S+)", sdp, re.S)
        base = headers.get("content-base", self.url + "/")
        track = control.group(1).decode() if control else ""
        uri = track if track.startswith("rtsp://") else base.rstrip("/") + "/" + track
        status, headers, _ = await self._request(
            "SETUP", uri, {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
        )
        if status != 200:
            raise RuntimeError(f"SETUP {uri}: {status}")
        session = headers["session"].split(";")
        self._session = session[0]
        timeout = [p.split("=", 1)[1] for p in session[1:] if p.strip().startswith("timeout=")]
        self.session_timeout = float(timeout[0]) if timeout else 60.0
        status, _, _ = await self._request("PLAY", self.url, {"Range": "npt=0.000-"})
        if status != 200:
            raise RuntimeError(f"PLAY {self.url}: {status}")

    async def run(self) -> None:
        """Read until cancelled, counting frames and sequence gaps on channel 0.

        Reads in large chunks and walks the ``$``-framing in the buffer (one
        await per chunk, not per packet), so many readers fit on one core."""
        reader = self._reader
        assert reader is not None
        keepalive = asyncio.create_task(self._keepalive())
        try:
            await self._read(reader)
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive

    async def _keepalive(self) -> None:
        # The server ends a session its client is silent on for the session
        # timeout (RFC 2326 section 12.37), even while it plays; a long ramp
        # outlives it. The answers arrive interleaved and _read skips them.
        assert self._writer is not None
        while True:
            await asyncio.sleep(self.session_timeout / 2)
            self._cseq += 1
            lines = [f"GET_PARAMETER {self.url} RTSP/1.0", f"CSeq: {self._cseq}"]
            lines.append(f"Session: {self._session}")
            assert self._challenge is not None
            credentials = answer_challenge(
                self._challenge,
                username=USERNAME,
                password=PASSWORD,
                method="GET_PARAMETER",
                uri=self.url,
            )
            lines.append(f"Authorization: {credentials}")
            self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def _read(self, reader: asyncio.StreamReader) -> None:
        buffer = bytearray()
        last_seq: int | None = None
        while True:
            chunk = await reader.read(262144)
            if not chunk:
                raise ConnectionError("the server closed the stream")
            buffer += chunk
            offset = 0
            size_all = len(buffer)
            while offset + 4 <= size_all:
                if buffer[offset] != 0x24:  # an RTSP answer (keep-alive): skip to its end
                    end = buffer.find(b"\r\n\r\n", offset)
                    if end < 0:
                        break
                    head = bytes(buffer[offset:end])
                    match = re.search(rb"content-length:\s*(\d+)", head, re.I)
                    length = int(match.group(1)) if match else 0
                    if end + 4 + length > size_all:
                        break
                    offset = end + 4 + length
                    continue
                size = (buffer[offset + 2] << 8) | buffer[offset + 3]
                if offset + 4 + size > size_all:
                    break
                if buffer[offset + 1] == 0 and size >= 12:
                    seq = (buffer[offset + 6] << 8) | buffer[offset + 7]
                    if last_seq is not None and seq != (last_seq + 1) & 0xFFFF:
                        self.gaps += 1
                    last_seq = seq
                    if buffer[offset + 5] & 0x80:
                        self.frames += 1
                offset += 4 + size
            self.bytes += offset
            del buffer[:offset]

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()


async def _serve(data_dir: Path, audio: bool) -> None:
    from platonicam.device.runtime import DeviceRuntime

    async with DeviceRuntime(
        data_dir, "127.0.0.1", 0, 0, discovery=False, admin_password=PASSWORD, audio=audio
    ) as runtime:
        print(
            json.dumps({"port": runtime.port, "rtsp_port": runtime.rtsp_port, "pid": os.getpid()}),
            flush=True,
        )
        loop = asyncio.get_running_loop()
        closed = asyncio.Event()
        loop.add_reader(sys.stdin.fileno(), lambda: closed.set() if not sys.stdin.read(1) else None)
        await closed.wait()
        loop.remove_reader(sys.stdin.fileno())


if __name__ == "__main__":
    pin(int(sys.argv[2]))
    # PLATONICAM_BENCH_PROFILE=FILE: cProfile the device for its whole life and
    # write the stats to FILE (read them with ``python -m pstats FILE``).
    profile_to = os.environ.get("PLATONICAM_BENCH_PROFILE")
    if profile_to:
        import cProfile

        with cProfile.Profile() as profiler:
            asyncio.run(_serve(Path(sys.argv[1]), "--no-audio" not in sys.argv))
        profiler.dump_stats(profile_to)
    else:
        asyncio.run(_serve(Path(sys.argv[1]), "--no-audio" not in sys.argv))
