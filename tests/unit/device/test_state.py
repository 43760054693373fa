"""Device state files: defaults, validation messages, atomic writes under SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from platonicam.device.state import FILE_NAMES, DeviceState, MediaFile, StateFileError, load_file


def test_fresh_folder_gets_defaults_and_no_users(tmp_path: Path) -> None:
    state = DeviceState.load(tmp_path, channels=2)
    assert state.users.users == []
    assert [p.token for p in state.media.profiles] == [
        "Profile_1_main",
        "Profile_1_sub",
        "Profile_1_h265",
        "Profile_2_main",
        "Profile_2_sub",
        "Profile_2_h265",
    ]
    assert {f"{name}.yaml" for name in FILE_NAMES} <= {p.name for p in tmp_path.iterdir()}
    assert (tmp_path / "users.yaml").stat().st_mode & 0o777 == 0o600
    again = DeviceState.load(tmp_path)
    assert again.media == state.media
    assert again.device.identity == state.device.identity


def test_bad_file_names_file_and_field(tmp_path: Path) -> None:
    DeviceState.load(tmp_path)
    (tmp_path / "device.yaml").write_text("discovery_mode: Sometimes\n")
    with pytest.raises(StateFileError) as caught:
        DeviceState.load(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'device.yaml'}: discovery_mode: Input should be")
    (tmp_path / "device.yaml").write_text("hostname: [unclosed\n")
    with pytest.raises(StateFileError, match=r"device\.yaml: not valid YAML at line 2"):
        DeviceState.load(tmp_path)


def test_model_invariant_errors_are_reported_too(tmp_path: Path) -> None:
    path = tmp_path / "ptz.yaml"
    path.write_text("presets:\n  PTZNode_1:\n  - token: p\n    position: {pan: 1.0}\n")
    from platonicam.device.state import PTZFile

    with pytest.raises(StateFileError, match=r"ptz\.yaml: PTZVector needs pan and tilt together"):
        load_file(path, PTZFile)


_WRITER = """
import sys
from pathlib import Path
from platonicam.device.state import DeviceState
state = DeviceState.load(Path(sys.argv[1]))
print("ready", flush=True)
n = 0
while True:
    n += 1
    state.device.hostname = f"host-{n}"
    state.media.profiles[0] = state.media.profiles[0].__class__(
        token=state.media.profiles[0].token, name=f"name-{n}" * (n % 50 + 1)
    )
    state.save("device")
    state.save("media")
"""


def test_sigkill_during_writes_never_breaks_a_file(tmp_path: Path) -> None:
    DeviceState.load(tmp_path)
    rng = random.Random(7)
    for _ in range(50):
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        state = DeviceState.load(tmp_path)  # every file loads, whatever the moment
        assert state.device.hostname.startswith(("host-", "platonicam"))
        assert isinstance(state.media, MediaFile)
    assert not list(tmp_path.glob(".*.tmp"))
