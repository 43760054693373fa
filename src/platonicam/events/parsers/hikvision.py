"""Hikvision topics in ``http://www.hikvision.com/2011/event/topics`` (``tnshik``).

Names from the topic sets of the DS-2CD2012-I and DS-2DF7276-AEL (corpus
``events/hikvision_*_GetEventProperties.xml``) and the alarm-input
notification a user logged (``events/hikvision_unknown_NotificationMessage-hikvision-alarm.json``).
Everything else these cameras send uses the ONVIF standard topics.
"""

from __future__ import annotations

from platonicam.events.model import EventKind
from platonicam.events.parsers._helpers import boolean, failure
from platonicam.events.topics import TopicRegistry

K = EventKind


def register(registry: TopicRegistry) -> None:
    r = registry.register
    # An alarm input is a digital input by another name: Source AlarmInToken, Data State.
    r(
        "Device/Trigger/AlarmIn",
        boolean(K.DIGITAL_INPUT, "State"),
        kinds={K.DIGITAL_INPUT},
        vendor="hikvision",
    )
    # Disk alarms have a source (HardDiskNo) and no data: their arrival is the alarm.
    for name in ("HardDiskFull", "HardDiskError", "HardDiskUnformat"):
        r(
            f"Device/HardwareFailure/{name}",
            failure(K.STORAGE_FAILURE, "State", extra={"reason": name}),
            kinds={K.STORAGE_FAILURE},
            vendor="hikvision",
        )
    r(
        "VideoSource/SignalStandardMismatch",
        failure(K.VIDEO_LOSS, "State", extra={"reason": "SignalStandardMismatch"}),
        kinds={K.VIDEO_LOSS},
        vendor="hikvision",
    )
    for name in ("EthernetBroken", "IPAddrConflict"):
        r(
            f"Device/Network/{name}",
            failure(K.OTHER, "State", extra={"reason": name}),
            kinds={K.OTHER},
            vendor="hikvision",
        )
    r(
        "UserAlarm/IllegalAccess",
        failure(K.OTHER, "State", extra={"reason": "IllegalAccess"}),
        kinds={K.OTHER},
        vendor="hikvision",
    )
