"""What every service facade holds: the client it sends through."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from platonicam.onvif.client import OnvifClient


class Facade:
    __slots__ = ("_client",)

    def __init__(self, client: OnvifClient) -> None:
        self._client = client
