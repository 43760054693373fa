"""Ajax Systems topics in ``http://ajax.systems/onvif/topics`` (``tnsajax``).

Ajax cameras use the ONVIF ``RuleEngine/ObjectDetection/Object`` rule for
people, vehicles and animals (handled in :mod:`.generic`), and their own
``tnsajax:LineDetector/Crossing`` for lines: a momentary event whose data is an
``ElementItem`` with the line's points and no SimpleItem at all (corpus
``events/ajax_unknown_NotificationMessage-ajax-line-crossing.json``).
"""

from __future__ import annotations

from platonicam.events.model import EventKind
from platonicam.events.parsers._helpers import pulse
from platonicam.events.topics import TopicRegistry


def register(registry: TopicRegistry) -> None:
    registry.register(
        "RuleEngine/LineDetector/Crossing",
        pulse(EventKind.LINE_CROSSING),
        kinds={EventKind.LINE_CROSSING},
        vendor="ajax",
    )
