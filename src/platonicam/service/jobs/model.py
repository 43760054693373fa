"""The apply engine's data: desired settings, jobs, steps and results.

Strategy: the engine works on frozen dataclasses with snake_case names and the
camera's own units (bitrate in kbit/s as ONVIF writes it, exposure time in
microseconds). The REST contract speaks JSON with camelCase keys and Mbit/s;
the pure functions here translate both ways, so routers call
:func:`desired_from_json` on a request body and :meth:`Job.to_json` on the
answer, and the SQL store can keep :meth:`Job.to_json` and read it back with
:meth:`Job.from_json`.

A *field* is a dotted snake_case path (``stream.bitrate_kbps``,
``low_light.wdr_mode``). :func:`flatten` turns :class:`DesiredSettings` into
``{field: value}`` and :func:`unflatten` back; the planner diffs and the
verifier compares in that flat form. In JSON a field is written as its REST
path (``stream.bitrateMbps``) with the REST unit (:func:`json_field_name`).

Job JSON shape (the REST contract's keys, plus a few camelCase extras)::

    {"job_id", "cameraId", "status", "progress", "currentStep", "steps": [...],
     "result": {"applied_settings", "verification_status", "mismatches",
                "changes", "rollback"}, "desired", "previous", "autoRollback",
     "error", "createdAt", "updatedAt"}
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Final, TypeAlias, TypeVar

from platonicam.onvif.models.common import Resolution
from platonicam.onvif.models.imaging import (
    BacklightCompensationMode,
    ExposureMode,
    IrCutFilterMode,
    WideDynamicMode,
)
from platonicam.onvif.models.media import VideoEncoding
from platonicam.service.jobs.errors import DesiredSettingsError

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = dict[str, JsonValue]

#: A value of one field, in the engine's types and units.
FieldValue: TypeAlias = (
    Resolution
    | VideoEncoding
    | ExposureMode
    | WideDynamicMode
    | IrCutFilterMode
    | BacklightCompensationMode
    | float
    | int
    | str
)

E = TypeVar("E", bound=enum.StrEnum)
T = TypeVar("T")

# --------------------------------------------------------------------------- desired settings


@dataclass(frozen=True, slots=True)
class DesiredStream:
    """Encoder settings of the camera's main profile. ``bitrate_kbps`` in kbit/s,
    ``fps`` in frames per second, ``gop`` in frames; ``encoder_profile`` is the
    codec profile as the camera spells it (``Main``, ``High`` ...)."""

    resolution: Resolution | None = None
    codec: VideoEncoding | None = None
    fps: float | None = None
    bitrate_kbps: int | None = None
    gop: int | None = None
    encoder_profile: str | None = None


@dataclass(frozen=True, slots=True)
class DesiredExposure:
    """``exposure_time_us`` in microseconds, ``gain`` in the camera's units (dB)."""

    mode: ExposureMode | None = None
    exposure_time_us: float | None = None
    gain: float | None = None


@dataclass(frozen=True, slots=True)
class DesiredLowLight:
    wdr_mode: WideDynamicMode | None = None
    wdr_level: float | None = None
    ir_cut_filter: IrCutFilterMode | None = None
    backlight_mode: BacklightCompensationMode | None = None


@dataclass(frozen=True, slots=True)
class DesiredImage:
    """Levels in the camera's own ranges (its imaging options give them)."""

    brightness: float | None = None
    contrast: float | None = None
    sharpness: float | None = None
    color_saturation: float | None = None


@dataclass(frozen=True, slots=True)
class DesiredSettings:
    """What a caller wants; ``None`` everywhere means "leave as it is"."""

    stream: DesiredStream | None = None
    exposure: DesiredExposure | None = None
    low_light: DesiredLowLight | None = None
    image: DesiredImage | None = None

    @property
    def is_empty(self) -> bool:
        return not flatten(self)


def flatten(desired: DesiredSettings) -> dict[str, FieldValue]:
    """``{field: value}`` for every field that is set, in declaration order."""
    flat: dict[str, FieldValue] = {}
    for section in fields(desired):
        part: object = getattr(desired, section.name)
        if part is None:
            continue
        for item in fields(part):  # type: ignore[arg-type]  # every section is a dataclass
            value: FieldValue | None = getattr(part, item.name)
            if value is not None:
                flat[f"{section.name}.{item.name}"] = value
    return flat


def _take(values: Mapping[str, FieldValue], key: str, kind: type[T]) -> T | None:
    value = values.get(key)
    if value is None:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # type: ignore[return-value]  # kind is float here
    if not isinstance(value, kind):
        raise TypeError(f"{key} must be {kind.__name__}, got {type(value).__name__}")
    return value


def unflatten(values: Mapping[str, FieldValue]) -> DesiredSettings:
    """The inverse of :func:`flatten`. Raises :class:`KeyError` for an unknown
    field and :class:`TypeError` for a value of the wrong type (a bug, not input)."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise KeyError(f"unknown fields: {', '.join(sorted(unknown))}")
    stream = DesiredStream(
        resolution=_take(values, "stream.resolution", Resolution),
        codec=_take(values, "stream.codec", VideoEncoding),
        fps=_take(values, "stream.fps", float),
        bitrate_kbps=_take(values, "stream.bitrate_kbps", int),
        gop=_take(values, "stream.gop", int),
        encoder_profile=_take(values, "stream.encoder_profile", str),
    )
    exposure = DesiredExposure(
        mode=_take(values, "exposure.mode", ExposureMode),
        exposure_time_us=_take(values, "exposure.exposure_time_us", float),
        gain=_take(values, "exposure.gain", float),
    )
    low_light = DesiredLowLight(
        wdr_mode=_take(values, "low_light.wdr_mode", WideDynamicMode),
        wdr_level=_take(values, "low_light.wdr_level", float),
        ir_cut_filter=_take(values, "low_light.ir_cut_filter", IrCutFilterMode),
        backlight_mode=_take(values, "low_light.backlight_mode", BacklightCompensationMode),
    )
    image = DesiredImage(
        brightness=_take(values, "image.brightness", float),
        contrast=_take(values, "image.contrast", float),
        sharpness=_take(values, "image.sharpness", float),
        color_saturation=_take(values, "image.color_saturation", float),
    )
    return DesiredSettings(
        stream=stream if any(k.startswith("stream.") for k in values) else None,
        exposure=exposure if any(k.startswith("exposure.") for k in values) else None,
        low_light=low_light if any(k.startswith("low_light.") for k in values) else None,
        image=image if any(k.startswith("image.") for k in values) else None,
    )


# --------------------------------------------------------------------------- JSON per field

_RESOLUTION: Final = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")


def _parse_resolution(raw: JsonValue) -> Resolution:
    if isinstance(raw, str):
        match = _RESOLUTION.match(raw)
        if match and int(match[1]) > 0 and int(match[2]) > 0:
            return Resolution(int(match[1]), int(match[2]))
    raise ValueError(f"expected WIDTHxHEIGHT such as '1920x1080', got {raw!r}")


def _parse_number(raw: JsonValue) -> float:
    # bool is an int in Python, never a number in the contract.
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ValueError(f"expected a number, got {raw!r}")
    return float(raw)


def _parse_int(raw: JsonValue) -> int:
    number = _parse_number(raw)
    if not number.is_integer():
        raise ValueError(f"expected a whole number, got {raw!r}")
    return int(number)


def _parse_str(raw: JsonValue) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"expected a non-empty string, got {raw!r}")
    return raw.strip()


def _parse_bitrate_mbps(raw: JsonValue) -> int:
    mbps = _parse_number(raw)
    if mbps <= 0:
        raise ValueError(f"expected a positive number of Mbit/s, got {raw!r}")
    return round(mbps * 1000)


def _enum_parser(kind: type[E], allowed: tuple[E, ...] | None = None) -> Callable[[JsonValue], E]:
    members = allowed or tuple(kind)

    def parse(raw: JsonValue) -> E:
        if isinstance(raw, str):
            for member in members:
                if member.value.casefold() == raw.strip().casefold():
                    return member
        names = " or ".join(f"'{member.value}'" for member in members)
        raise ValueError(f"expected {names}, got {raw!r}")

    return parse


def _dump(value: FieldValue) -> JsonValue:
    if isinstance(value, Resolution):
        return str(value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    return value


def _dump_bitrate(value: FieldValue) -> JsonValue:
    return value / 1000 if isinstance(value, int | float) else _dump(value)


@dataclass(frozen=True, slots=True)
class _JsonField:
    section: str
    key: str
    parse: Callable[[JsonValue], FieldValue]
    dump: Callable[[FieldValue], JsonValue] = _dump


#: Every field: where it sits in the REST JSON and how its value is converted.
FIELDS: Final[dict[str, _JsonField]] = {
    "stream.resolution": _JsonField("stream", "resolution", _parse_resolution),
    "stream.codec": _JsonField(
        "stream",
        "codec",
        _enum_parser(VideoEncoding, (VideoEncoding.H264, VideoEncoding.H265)),
    ),
    "stream.fps": _JsonField("stream", "fps", _parse_number),
    "stream.bitrate_kbps": _JsonField("stream", "bitrateMbps", _parse_bitrate_mbps, _dump_bitrate),
    "stream.gop": _JsonField("stream", "gop", _parse_int),
    "stream.encoder_profile": _JsonField("stream", "profile", _parse_str),
    "exposure.mode": _JsonField("exposure", "mode", _enum_parser(ExposureMode)),
    "exposure.exposure_time_us": _JsonField("exposure", "exposureTime", _parse_number),
    "exposure.gain": _JsonField("exposure", "gain", _parse_number),
    "low_light.wdr_mode": _JsonField("lowLight", "wdr", _enum_parser(WideDynamicMode)),
    "low_light.wdr_level": _JsonField("lowLight", "wdrLevel", _parse_number),
    "low_light.ir_cut_filter": _JsonField("lowLight", "irCutFilter", _enum_parser(IrCutFilterMode)),
    "low_light.backlight_mode": _JsonField(
        "lowLight", "backlight", _enum_parser(BacklightCompensationMode)
    ),
    "image.brightness": _JsonField("image", "brightness", _parse_number),
    "image.contrast": _JsonField("image", "contrast", _parse_number),
    "image.sharpness": _JsonField("image", "sharpness", _parse_number),
    "image.color_saturation": _JsonField("image", "saturation", _parse_number),
}
_SECTIONS: Final = ("stream", "exposure", "lowLight", "image")
_BY_JSON: Final = {(spec.section, spec.key): name for name, spec in FIELDS.items()}


def json_field_name(name: str) -> str:
    """The REST path of a field (``stream.bitrate_kbps`` -> ``stream.bitrateMbps``)."""
    spec = FIELDS[name]
    return f"{spec.section}.{spec.key}"


def field_from_json_name(json_name: str) -> str:
    """The inverse of :func:`json_field_name`; :class:`KeyError` when unknown."""
    section, _, key = json_name.partition(".")
    return _BY_JSON[(section, key)]


def value_to_json(name: str, value: FieldValue | None) -> JsonValue:
    """A field's value in the REST unit (kbit/s become Mbit/s)."""
    return None if value is None else FIELDS[name].dump(value)


def value_from_json(name: str, raw: JsonValue) -> FieldValue | None:
    """A field's value read from the REST unit; :class:`ValueError` when malformed."""
    return None if raw is None else FIELDS[name].parse(raw)


def desired_from_json(data: JsonValue) -> DesiredSettings:
    """Read the REST contract's desired settings (``{"stream": {...}, "exposure":
    {...}, "lowLight": {...}, "image": {...}}``).

    Every section and key is optional; ``null`` is the same as leaving it out.
    Unknown sections or keys are refused (a misspelt key would otherwise be
    silently ignored). Raises :class:`DesiredSettingsError` listing every bad key
    with what was expected.
    """
    if not isinstance(data, dict):
        raise DesiredSettingsError(["expected a JSON object of settings sections"])
    problems: list[str] = []
    values: dict[str, FieldValue] = {}
    for section, body in data.items():
        if section not in _SECTIONS:
            problems.append(f"unknown section {section!r} (known: {', '.join(_SECTIONS)})")
            continue
        if body is None:
            continue
        if not isinstance(body, dict):
            problems.append(f"{section}: expected an object, got {body!r}")
            continue
        for key, raw in body.items():
            name = _BY_JSON.get((section, key))
            if name is None:
                known = ", ".join(spec.key for spec in FIELDS.values() if spec.section == section)
                problems.append(f"{section}.{key}: unknown key (known: {known})")
                continue
            try:
                value = value_from_json(name, raw)
            except ValueError as exc:
                problems.append(f"{section}.{key}: {exc}")
                continue
            if value is not None:
                values[name] = value
    if problems:
        raise DesiredSettingsError(problems)
    return unflatten(values)


def desired_to_json(desired: DesiredSettings) -> JsonObject:
    """The REST form of ``desired``; only the set fields, sections in contract order."""
    out: dict[str, JsonValue] = {}
    for name, value in flatten(desired).items():
        spec = FIELDS[name]
        section = out.setdefault(spec.section, {})
        assert isinstance(section, dict)
        section[spec.key] = spec.dump(value)
    return {section: out[section] for section in _SECTIONS if section in out}


# --------------------------------------------------------------------------- jobs


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    PARTIAL = "partial"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.PARTIAL)


class StepStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def finished(self) -> bool:
        return self in (StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED)


class StepName(enum.StrEnum):
    """The steps of an apply (and of a rollback), in order."""

    CONNECT = "connect"
    READ_CURRENT = "read_current"
    PLAN = "plan"
    APPLY_STREAM = "apply_stream"
    APPLY_IMAGING = "apply_imaging"
    READ_BACK = "read_back"
    VERIFY = "verify"


class VerificationStatus(enum.StrEnum):
    """``verified``: every applied field reads back as sent (within tolerance);
    ``mismatch``: at least one does not; ``unverified``: nothing could be read
    back, or nothing was applied because an earlier step failed."""

    VERIFIED = "verified"
    MISMATCH = "mismatch"
    UNVERIFIED = "unverified"


@dataclass(frozen=True, slots=True)
class Step:
    name: StepName
    status: StepStatus = StepStatus.PENDING
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def to_json(self) -> JsonObject:
        return {
            "name": self.name.value,
            "status": self.status.value,
            "message": self.message,
            "startedAt": _time_to_json(self.started_at),
            "finishedAt": _time_to_json(self.finished_at),
        }

    @classmethod
    def from_json(cls, data: JsonValue) -> Step:
        obj = _object(data, "step")
        return cls(
            name=StepName(_str(obj, "name")),
            status=StepStatus(_str(obj, "status")),
            message=_opt_str(obj, "message"),
            started_at=_time_from_json(obj.get("startedAt")),
            finished_at=_time_from_json(obj.get("finishedAt")),
        )


def initial_steps() -> tuple[Step, ...]:
    return tuple(Step(name) for name in StepName)


@dataclass(frozen=True, slots=True)
class Change:
    """One field the plan changes: ``old`` as the camera had it (``None`` when it
    did not report it), ``new`` as it will be sent."""

    field: str
    old: FieldValue | None
    new: FieldValue

    def to_json(self) -> JsonObject:
        return {
            "field": json_field_name(self.field),
            "old": value_to_json(self.field, self.old),
            "new": value_to_json(self.field, self.new),
        }

    @classmethod
    def from_json(cls, data: JsonValue) -> Change:
        obj = _object(data, "change")
        name = field_from_json_name(_str(obj, "field"))
        new = value_from_json(name, obj.get("new"))
        if new is None:
            raise ValueError(f"change of {name} without a new value")
        return cls(name, value_from_json(name, obj.get("old")), new)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A field that did not read back as sent (``actual`` ``None``: not reported)."""

    field: str
    expected: FieldValue
    actual: FieldValue | None

    def to_json(self) -> JsonObject:
        return {
            "field": json_field_name(self.field),
            "expected": value_to_json(self.field, self.expected),
            "actual": value_to_json(self.field, self.actual),
        }

    @classmethod
    def from_json(cls, data: JsonValue) -> Mismatch:
        obj = _object(data, "mismatch")
        name = field_from_json_name(_str(obj, "field"))
        expected = value_from_json(name, obj.get("expected"))
        if expected is None:
            raise ValueError(f"mismatch of {name} without an expected value")
        return cls(name, expected, value_from_json(name, obj.get("actual")))


@dataclass(frozen=True, slots=True)
class RollbackResult:
    """What a rollback did: the same steps as an apply, putting ``previous`` back.
    ``automatic`` is true when the runner rolled back a failed apply by itself."""

    automatic: bool
    status: JobStatus
    steps: tuple[Step, ...]
    applied_settings: DesiredSettings
    verification_status: VerificationStatus
    mismatches: tuple[Mismatch, ...] = ()
    error: str | None = None
    finished_at: datetime | None = None

    def to_json(self) -> JsonObject:
        return {
            "automatic": self.automatic,
            "status": self.status.value,
            "steps": [step.to_json() for step in self.steps],
            "applied_settings": desired_to_json(self.applied_settings),
            "verification_status": self.verification_status.value,
            "mismatches": [m.to_json() for m in self.mismatches],
            "error": self.error,
            "finishedAt": _time_to_json(self.finished_at),
        }

    @classmethod
    def from_json(cls, data: JsonValue) -> RollbackResult:
        obj = _object(data, "rollback")
        return cls(
            automatic=obj.get("automatic") is True,
            status=JobStatus(_str(obj, "status")),
            steps=tuple(Step.from_json(s) for s in _list(obj, "steps")),
            applied_settings=desired_from_json(obj.get("applied_settings") or {}),
            verification_status=VerificationStatus(_str(obj, "verification_status")),
            mismatches=tuple(Mismatch.from_json(m) for m in _list(obj, "mismatches")),
            error=_opt_str(obj, "error"),
            finished_at=_time_from_json(obj.get("finishedAt")),
        )


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """The outcome of an apply.

    ``applied_settings`` are the values sent by the apply steps that took (a
    failed step's values are not in it); ``changes`` the whole plan;
    ``mismatches`` the applied fields that read back differently.
    """

    applied_settings: DesiredSettings
    verification_status: VerificationStatus
    changes: tuple[Change, ...] = ()
    mismatches: tuple[Mismatch, ...] = ()
    rollback: RollbackResult | None = None

    def to_json(self) -> JsonObject:
        return {
            "applied_settings": desired_to_json(self.applied_settings),
            "verification_status": self.verification_status.value,
            "changes": [c.to_json() for c in self.changes],
            "mismatches": [m.to_json() for m in self.mismatches],
            "rollback": self.rollback.to_json() if self.rollback is not None else None,
        }

    @classmethod
    def from_json(cls, data: JsonValue) -> ApplyResult:
        obj = _object(data, "result")
        rollback = obj.get("rollback")
        return cls(
            applied_settings=desired_from_json(obj.get("applied_settings") or {}),
            verification_status=VerificationStatus(_str(obj, "verification_status")),
            changes=tuple(Change.from_json(c) for c in _list(obj, "changes")),
            mismatches=tuple(Mismatch.from_json(m) for m in _list(obj, "mismatches")),
            rollback=RollbackResult.from_json(rollback) if rollback is not None else None,
        )


@dataclass(frozen=True, slots=True)
class Job:
    """One apply to one camera, as stored and as the REST API shows it.

    ``previous`` holds the camera's values of every field the plan changes,
    read before anything was sent: a rollback puts them back. ``error`` is the
    reason a job failed (a step's message, a plan refusal, a restart); it never
    carries a password.
    """

    job_id: str
    camera_id: str
    status: JobStatus
    desired: DesiredSettings
    created_at: datetime
    updated_at: datetime
    steps: tuple[Step, ...] = field(default_factory=initial_steps)
    auto_rollback: bool = False
    previous: DesiredSettings | None = None
    result: ApplyResult | None = None
    error: str | None = None

    @property
    def progress(self) -> int:
        """Percent of steps finished (completed, failed or skipped), 0..100."""
        if self.status.finished:
            return 100
        done = sum(1 for step in self.steps if step.status.finished)
        return round(100 * done / len(self.steps)) if self.steps else 0

    @property
    def current_step(self) -> StepName | None:
        """The step running now, else the next pending one; ``None`` once finished."""
        if self.status.finished:
            return None
        running = next((s for s in self.steps if s.status is StepStatus.IN_PROGRESS), None)
        if running is not None:
            return running.name
        pending = next((s for s in self.steps if s.status is StepStatus.PENDING), None)
        return pending.name if pending is not None else None

    def step(self, name: StepName) -> Step:
        return next(step for step in self.steps if step.name is name)

    def to_json(self) -> JsonObject:
        current = self.current_step
        return {
            "job_id": self.job_id,
            "cameraId": self.camera_id,
            "status": self.status.value,
            "progress": self.progress,
            "currentStep": current.value if current is not None else None,
            "steps": [step.to_json() for step in self.steps],
            "result": self.result.to_json() if self.result is not None else None,
            "desired": desired_to_json(self.desired),
            "previous": desired_to_json(self.previous) if self.previous is not None else None,
            "autoRollback": self.auto_rollback,
            "error": self.error,
            "createdAt": _time_to_json(self.created_at),
            "updatedAt": _time_to_json(self.updated_at),
        }

    @classmethod
    def from_json(cls, data: JsonValue) -> Job:
        """Read what :meth:`to_json` wrote (``progress`` and ``currentStep`` are
        derived and ignored). Raises :class:`ValueError` (or
        :class:`DesiredSettingsError`) for a malformed record."""
        obj = _object(data, "job")
        created = _time_from_json(obj.get("createdAt"))
        updated = _time_from_json(obj.get("updatedAt"))
        if created is None or updated is None:
            raise ValueError("job record without createdAt/updatedAt")
        previous = obj.get("previous")
        result = obj.get("result")
        return cls(
            job_id=_str(obj, "job_id"),
            camera_id=_str(obj, "cameraId"),
            status=JobStatus(_str(obj, "status")),
            desired=desired_from_json(obj.get("desired") or {}),
            created_at=created,
            updated_at=updated,
            steps=tuple(Step.from_json(s) for s in _list(obj, "steps")),
            auto_rollback=obj.get("autoRollback") is True,
            previous=desired_from_json(previous) if previous is not None else None,
            result=ApplyResult.from_json(result) if result is not None else None,
            error=_opt_str(obj, "error"),
        )


# --------------------------------------------------------------------------- JSON helpers


def _time_to_json(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time_from_json(raw: JsonValue) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValueError(f"expected an ISO 8601 time, got {raw!r}")
    return datetime.fromisoformat(raw)


def _object(data: JsonValue, what: str) -> dict[str, JsonValue]:
    if not isinstance(data, dict):
        raise ValueError(f"{what}: expected an object, got {data!r}")
    return data


def _str(obj: Mapping[str, JsonValue], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected a string, got {value!r}")
    return value


def _opt_str(obj: Mapping[str, JsonValue], key: str) -> str | None:
    value = obj.get(key)
    return None if value is None else _str(obj, key)


def _list(obj: Mapping[str, JsonValue], key: str) -> list[JsonValue]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{key}: expected a list, got {value!r}")
    return value
