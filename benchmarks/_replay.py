"""The replay camera of the connect benchmark, in a process of its own.

Runs under the project's ``.venv`` python, so the server never shares CPU time
or memory with a measured client. Protocol on the pipes, one JSON object per
line:

* on start, stdout gets ``{"port": N, "device_url": "..."}``;
* each ``counts`` line on stdin answers with the requests served since the
  previous ``counts``, by operation (then resets them), so the driver can check
  that every client did the same wire work;
* end of stdin stops the camera.

The camera's clock is set to the machine's clock: clock skew is a separate
question, and every client here reads the camera clock before signing anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from platonicam.testing.replay import ReplayCamera


async def serve(corpus: Path, camera_name: str, username: str, password: str) -> None:
    camera = ReplayCamera(
        corpus,
        camera_name,
        auth="ws-security",
        username=username,
        password=password,
        camera_time=datetime.now(UTC),
    )
    loop = asyncio.get_running_loop()
    async with camera:
        _say({"port": camera.port, "device_url": camera.device_url})
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            if line.strip() == "counts":
                _say(dict(camera.requests))
                camera.requests.clear()


def _say(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--camera", required=True, help="vendor_model prefix in the corpus")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.corpus, args.camera, args.username, args.password))


if __name__ == "__main__":
    main()
