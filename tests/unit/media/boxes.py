"""A small ISO BMFF box reader for the tests: written apart from the muxer, to check it.

It walks sizes and nesting strictly: a box that runs past its parent, or a
parent whose children do not fill it exactly, fails the test.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

# Boxes that hold only boxes, and the bytes some sample entries hold before theirs.
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"dinf", b"stbl", b"mvex", b"moof", b"traf"}
PREFIX = {b"stsd": 8, b"dref": 8, b"avc1": 78, b"hvc1": 78, b"mp4a": 28}


@dataclass
class Box:
    kind: str
    payload: bytes  # the box's bytes after its 8-byte header
    children: list[Box] = field(default_factory=list)

    @property
    def version(self) -> int:
        return self.payload[0]

    @property
    def flags(self) -> int:
        return int.from_bytes(self.payload[1:4], "big")

    def child(self, path: str) -> Box:
        """The only box at ``path`` (slash-separated kinds) under this one."""
        node = self
        for kind in path.split("/"):
            matches = [c for c in node.children if c.kind == kind]
            assert len(matches) == 1, f"{len(matches)} {kind!r} boxes under {node.kind!r}"
            node = matches[0]
        return node

    def all(self, kind: str) -> list[Box]:
        return [c for c in self.children if c.kind == kind]

    def field(self, fmt: str, offset: int) -> tuple[int, ...]:
        return struct.unpack_from(fmt, self.payload, offset)


def parse(data: bytes) -> list[Box]:
    """The boxes of ``data``, recursing into containers and sample entries."""
    boxes = []
    offset = 0
    while offset < len(data):
        assert offset + 8 <= len(data), f"a box header runs past the end at {offset}"
        size, raw_kind = struct.unpack_from(">I4s", data, offset)
        assert size >= 8, f"box {raw_kind!r} has size {size}"
        assert offset + size <= len(data), f"box {raw_kind!r} runs past its parent"
        payload = data[offset + 8 : offset + size]
        box = Box(raw_kind.decode("latin-1"), payload)
        if raw_kind in CONTAINERS:
            box.children = parse(payload)
        elif raw_kind in PREFIX:
            box.children = parse(payload[PREFIX[raw_kind] :])
        boxes.append(box)
        offset += size
    return boxes


def root(data: bytes) -> Box:
    """A pseudo-box holding the top-level boxes of ``data``."""
    return Box("file", data, parse(data))
