"""The captured-camera corpus in ``tests/corpus`` (a copy of shared/onvif-corpus).

One place that finds files, names them for test IDs (``vendor-model-operation``)
and opens them the way the client would.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from platonicam.onvif.soap.envelope import envelope_from_root, parse_envelope
from platonicam.onvif.soap.namespaces import local_name
from platonicam.onvif.soap.xml import parse_xml

CORPUS = Path(__file__).parent / "corpus"
_NOT_CAPTURES = {"SOURCES.md", "MANIFEST.json"}


@dataclass(frozen=True, slots=True)
class Capture:
    path: str  # relative to the corpus root, e.g. "device/axis_Q6045-E_GetHostname.xml"
    vendor: str
    model: str
    operation: str

    @property
    def file(self) -> Path:
        return CORPUS / self.path

    def read_bytes(self) -> bytes:
        return self.file.read_bytes()


def _manifest() -> dict[str, Capture]:
    rows = json.loads((CORPUS / "MANIFEST.json").read_text())
    return {
        row["file"]: Capture(row["file"], row["vendor"], row["model"], row["op"]) for row in rows
    }


MANIFEST = _manifest()


def all_capture_paths() -> list[str]:
    """Every capture file on disk, relative to the corpus root."""
    return sorted(
        str(p.relative_to(CORPUS))
        for p in CORPUS.rglob("*")
        if p.is_file() and p.name not in _NOT_CAPTURES
    )


def capture(path: str) -> Capture:
    return MANIFEST[path]


def corpus_id(path: str) -> str:
    """A test ID: ``vendor-model-operation`` (plus the file's stem when that repeats)."""
    entry = MANIFEST.get(path)
    stem = Path(path).stem
    if entry is None:
        return stem
    base = f"{entry.vendor}-{entry.model}-{entry.operation}"
    return base if stem.endswith(entry.operation) else f"{base}-{stem.split('_', 2)[-1]}"


def ids(paths: Iterable[str]) -> list[str]:
    return [corpus_id(p) for p in paths]


def payload(path: str) -> etree._Element:
    """The SOAP body's first element, as the client would get it.

    Body-only captures (no envelope) give their root element. A Fault raises,
    exactly as it would on the wire.
    """
    data = (CORPUS / path).read_bytes()
    root = parse_xml(data)
    if local_name(root.tag) == "Envelope":
        return envelope_from_root(root).payload
    return root


def envelope_bytes(path: str) -> bytes:
    return (CORPUS / path).read_bytes()


def parse(path: str) -> etree._Element:
    """``parse_envelope`` over the file's bytes (raises on faults)."""
    return parse_envelope(envelope_bytes(path)).payload
