"""The discovery captures: a real Axis ProbeMatches and a CLI log of eight real cameras."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from platonicam.discovery.candidate import Candidate
from platonicam.discovery.messages import (
    DEVICE,
    NETWORK_VIDEO_TRANSMITTER,
    AppSequence,
    ProbeMatches,
    TargetService,
    parse_message,
)
from tests import corpus


@dataclass(frozen=True, slots=True)
class Device:
    """What one device in a capture must read as."""

    endpoint_reference: str
    manufacturer: str | None
    model: str
    name: str
    host: str
    port: int
    xaddrs: int
    profiles: tuple[str, ...]
    location: str | None = None
    mac: str | None = None


AXIS_PROBE = "discovery/axis_M2025-LE_ProbeMatches.xml"
CLI_LOG = "discovery/mixed_reolink-bosch-axis_discovery-cli-log.txt"

CASES: dict[str, tuple[Device, ...]] = {
    AXIS_PROBE: (
        Device(
            "urn:uuid:3ea96f68-b845-4c0b-87cf-eee904c4be65",
            None,
            "M2025-LE",
            "AXIS M2025-LE",  # sent URL-encoded: AXIS%20M2025-LE
            "192.168.0.209",  # not the 169.254.251.249 link-local XAddr listed beside it
            80,
            4,
            ("S", "G", "T"),
        ),
    ),
    # No camera in the log sends a manufacturer scope; Reolink names itself IPC-BO and
    # serves ONVIF on port 8000; Axis lists link-local XAddrs too (camera 7).
    CLI_LOG: (
        Device(
            "urn:uuid:15020314-0204-0408-1500-ec71db465af7",
            None,
            "E1Zoom",
            "IPC-BO",
            "192.168.2.61",
            8000,
            1,
            ("S", "T"),
            location="country/china",
        ),
        Device(
            "urn:uuid:00075fe0-a604-04a6-e05f-0700075fe05f",
            None,
            "AUTODOME_IP_starlight_5000i",
            "Bosch",
            "192.168.2.57",
            80,
            2,
            ("S", "G", "T"),
        ),
        Device(
            "urn:uuid:555a3d17-6698-43d9-9a52-2a199ff14dec",
            None,
            "P3818-PVE",
            "AXIS P3818-PVE",
            "192.168.2.82",
            80,
            1,
            ("S", "G", "M", "T"),
        ),
        Device(
            "urn:uuid:12060714-0005-0000-0302-ec71dbe838cc",
            None,
            "ReolinkTrackMixWiFi",
            "IPC-BO",
            "192.168.2.236",
            8000,
            1,
            ("S", "T"),
            location="country/china",
        ),
        Device(
            "urn:uuid:00075fca-f8fa-faf8-ca5f-0700075fca5f",
            None,
            "FLEXIDOME_IP_starlight_8000i",
            "Bosch",
            "192.168.2.200",
            80,
            2,
            ("S", "G", "T"),
        ),
        Device(
            "urn:uuid:00075fd5-9fbe-be9f-d55f-0700075fd55f",
            None,
            "FLEXIDOME_panoramic_5100i",
            "Bosch",
            "192.168.2.24",
            80,
            2,
            ("S", "G", "T", "M"),
        ),
        Device(
            "urn:uuid:cbc93166-2a81-4635-9fe3-dcd5e99528d3",
            None,
            "Q3819-PVE",
            "AXIS Q3819-PVE",
            "192.168.2.190",
            80,
            4,
            ("S", "G", "M", "T"),
        ),
        Device(
            "urn:uuid:9e8de0a1-c818-448d-90eb-85670b2b9872",
            None,
            "P5655-E",
            "AXIS P5655-E",
            "192.168.2.30",
            80,
            2,
            ("S", "G", "M", "T"),
        ),
    ),
}


def _log_targets(text: str) -> list[TargetService]:
    """The devices a discovery CLI log lists (``Camera N:`` blocks)."""
    targets = []
    for block in re.split(r"^Camera \d+:$", text, flags=re.MULTILINE)[1:]:
        endpoint = re.search(r"Endpoint: (\S+)", block)
        assert endpoint is not None
        targets.append(
            TargetService(
                endpoint.group(1),
                scopes=tuple(re.findall(r"^\s+- (\S+)$", block, flags=re.MULTILINE)),
                xaddrs=tuple(re.findall(r"XAddr: (\S+)", block)),
            )
        )
    return targets


def _candidates(path: str) -> list[Candidate]:
    data = corpus.CORPUS.joinpath(path).read_bytes()
    if path.endswith(".xml"):
        message = parse_message(data)
        assert isinstance(message, ProbeMatches)
        return [Candidate.from_target(m) for m in message.matches]
    return [Candidate.from_target(t) for t in _log_targets(data.decode())]


@pytest.mark.parametrize(("path", "expected"), CASES.items(), ids=corpus.ids(CASES))
def test_capture_reads_as_expected(path: str, expected: tuple[Device, ...]) -> None:
    candidates = _candidates(path)
    assert len(candidates) == len(expected)
    for candidate, device in zip(candidates, expected, strict=True):
        assert candidate.endpoint_reference == device.endpoint_reference
        assert candidate.manufacturer == device.manufacturer
        assert candidate.model == device.model
        assert candidate.name == device.name
        assert (candidate.host, candidate.port) == (device.host, device.port)
        assert len(candidate.xaddrs) == device.xaddrs
        assert candidate.profiles == device.profiles
        assert candidate.location == device.location
        assert candidate.mac == device.mac


def test_axis_probe_matches_header_types_and_raw_lists() -> None:
    message = parse_message(corpus.CORPUS.joinpath(AXIS_PROBE).read_bytes())
    assert isinstance(message, ProbeMatches)
    assert message.message_id == "uuid:f0a90683-02ff-4f05-98fe-537b6c9486e4"
    assert message.relates_to == "uuid:63a205c4-7eae-4dd5-99dc-75e38ff576b3"
    assert message.app_sequence == AppSequence(instance_id=1669141867, message_number=6)
    (match,) = message.matches
    assert match.types == (DEVICE, NETWORK_VIDEO_TRANSMITTER)
    assert match.metadata_version == 1
    # Lists split over several padded lines are read whole.
    assert match.xaddrs == (
        "http://192.168.0.209/onvif/device_service",
        "https://192.168.0.209/onvif/device_service",
        "http://169.254.251.249/onvif/device_service",
        "https://169.254.251.249/onvif/device_service",
    )
    assert match.scopes[-1] == "onvif://www.onvif.org/location/"
    assert len(match.scopes) == 6
    # The empty location scope gives no location.
    assert Candidate.from_target(match).location is None
    assert Candidate.from_target(match).xaddr == "http://192.168.0.209/onvif/device_service"
