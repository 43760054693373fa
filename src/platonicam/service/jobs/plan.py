"""Planning an apply, and verifying it afterwards: pure functions, no I/O.

Strategy: everything is compared in the flat ``{field: value}`` form of
:func:`~platonicam.service.jobs.model.flatten`. :func:`current_values` reads
that form from what the camera reported (:class:`CameraState`); the plan is the
desired fields whose value differs from it, checked against the camera's
options *before anything is sent*. Every impossible field is reported at once
(a caller fixing one field at a time would need as many round trips), each
message naming the field, the value and the allowed values.

The stream step sends a whole encoder configuration (SetVideoEncoderConfiguration
has no partial form), so the plan merges the changed fields into the camera's
current configuration. The imaging step sends only what changes
(SetImagingSettings leaves absent fields alone), with the modes the nested
ONVIF types require (``Exposure.Mode``, ``WideDynamicRange.Mode``) filled in
from the current settings when the caller did not give them.

:func:`verify` compares read-back values with what was sent, with tolerances
for what cameras round: bitrate to their own step, frame rate to what the
sensor mode gives (29.97 for 30), imaging levels to ``xs:float`` precision.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Final

from platonicam.onvif.models.common import FloatRange, IntRange
from platonicam.onvif.models.imaging import (
    BacklightCompensation,
    BacklightCompensationMode,
    Exposure,
    ExposureMode,
    ImagingOptions,
    ImagingSettings,
    IrCutFilterMode,
    WideDynamicMode,
    WideDynamicRange,
)
from platonicam.onvif.models.media import (
    EncodingOptions,
    VideoEncoderConfiguration,
    VideoEncoderConfigurationOptions,
    VideoEncoding,
)
from platonicam.onvif.settings import CameraSettings
from platonicam.service.jobs.errors import PlanError, PlanProblem
from platonicam.service.jobs.model import (
    Change,
    DesiredSettings,
    FieldValue,
    Mismatch,
    flatten,
    unflatten,
)

STREAM_FIELDS: Final = (
    "stream.resolution",
    "stream.codec",
    "stream.fps",
    "stream.bitrate_kbps",
    "stream.gop",
    "stream.encoder_profile",
)

#: Bitrate read back within this many kbit/s, or this fraction, of what was sent is
#: the same: cameras store the limit in their own steps and answer the rounded value.
BITRATE_TOLERANCE_KBPS: Final = 64
BITRATE_TOLERANCE_RATIO: Final = 0.05
#: Frame rates within half a frame per second are the same (30 is answered as 29.97,
#: 25 as 25.000002 after a round trip through xs:float).
FPS_TOLERANCE: Final = 0.5


@dataclass(frozen=True, slots=True)
class CameraState:
    """What the camera reported before an apply.

    ``encoder`` is the main profile's full encoder configuration (the one
    ``settings.stream`` describes); ``imaging`` belongs to
    ``settings.video_source_token``. Options are ``None`` when the camera did
    not give them: the values are then not checked here, the camera judges.
    ``media2`` says whether the camera offers Media2 (H.265 and fractional
    frame rates need it).
    """

    settings: CameraSettings
    encoder: VideoEncoderConfiguration | None
    encoder_options: VideoEncoderConfigurationOptions | None = None
    imaging: ImagingSettings | None = None
    imaging_options: ImagingOptions | None = None
    media2: bool = True


@dataclass(frozen=True, slots=True)
class Plan:
    """What an apply will send.

    ``encoder_target`` is ``None`` when no stream field changes,
    ``imaging_target`` (only the changing parts) when no imaging field does.
    ``previous`` holds the camera's values of the changed fields (the ones it
    reported), for a rollback.
    """

    profile_token: str | None
    video_source_token: str | None
    stream_changes: tuple[Change, ...]
    imaging_changes: tuple[Change, ...]
    encoder_target: VideoEncoderConfiguration | None
    imaging_target: ImagingSettings | None
    previous: DesiredSettings

    @property
    def changes(self) -> tuple[Change, ...]:
        return self.stream_changes + self.imaging_changes

    @property
    def is_noop(self) -> bool:
        """Nothing differs: no apply step sends anything."""
        return not self.changes

    @property
    def expected(self) -> dict[str, FieldValue]:
        """The value every changed field should read back as."""
        return {change.field: change.new for change in self.changes}


def current_values(state: CameraState) -> dict[str, FieldValue]:
    """The camera's values in the flat field form (fields it did not report are absent)."""
    values: dict[str, FieldValue | None] = {}
    encoder = state.encoder
    if encoder is not None:
        values.update(
            {
                "stream.resolution": encoder.resolution,
                "stream.codec": encoder.encoding,
                "stream.fps": encoder.frame_rate_limit,
                "stream.bitrate_kbps": encoder.bitrate_limit,
                "stream.gop": encoder.gov_length,
                "stream.encoder_profile": encoder.profile,
            }
        )
    imaging = state.imaging
    if imaging is not None:
        exposure = imaging.exposure
        wdr = imaging.wide_dynamic_range
        blc = imaging.backlight_compensation
        values.update(
            {
                "exposure.mode": exposure.mode if exposure else None,
                "exposure.exposure_time_us": exposure.exposure_time if exposure else None,
                "exposure.gain": exposure.gain if exposure else None,
                "low_light.wdr_mode": wdr.mode if wdr else None,
                "low_light.wdr_level": wdr.level if wdr else None,
                "low_light.ir_cut_filter": imaging.ir_cut_filter,
                "low_light.backlight_mode": blc.mode if blc else None,
                "image.brightness": imaging.brightness,
                "image.contrast": imaging.contrast,
                "image.sharpness": imaging.sharpness,
                "image.color_saturation": imaging.color_saturation,
            }
        )
    return {name: value for name, value in values.items() if value is not None}


def make_plan(desired: DesiredSettings, state: CameraState) -> Plan:
    """Diff ``desired`` against ``state`` and check it against the camera's options.

    Raises :class:`PlanError` listing every field the camera cannot take
    (value not offered, outside a range, a mode not offered, a section the
    camera has no settings for). A plan where nothing differs is valid: its
    :attr:`Plan.is_noop` is true.
    """
    wanted = flatten(desired)
    current = current_values(state)
    problems: list[PlanProblem] = []

    stream_wanted = {k: v for k, v in wanted.items() if k.startswith("stream.")}
    imaging_wanted = {k: v for k, v in wanted.items() if not k.startswith("stream.")}

    stream_changes = _diff(stream_wanted, current)
    encoder_target: VideoEncoderConfiguration | None = None
    if stream_wanted and state.encoder is None:
        problems.append(
            PlanProblem(
                "stream",
                "stream: the camera's main profile has no video encoder configuration to change",
            )
        )
    elif stream_changes and state.encoder is not None:
        stream_changes = _follow_codec(stream_changes, stream_wanted, state)
        encoder_target = _merge_encoder(state.encoder, stream_changes)
        problems.extend(_check_stream(encoder_target, stream_changes, state))

    imaging_changes = _diff(imaging_wanted, current)
    imaging_target: ImagingSettings | None = None
    if imaging_wanted and (state.imaging is None or state.settings.video_source_token is None):
        for section in dict.fromkeys(name.split(".")[0] for name in imaging_wanted):
            problems.append(
                PlanProblem(
                    section,
                    f"{section}: the camera reports no imaging settings for its main "
                    "profile's video source",
                )
            )
    elif imaging_changes and state.imaging is not None:
        problems.extend(_check_imaging(imaging_changes, state.imaging_options))
        target, target_problems = _imaging_target(imaging_changes, state.imaging)
        problems.extend(target_problems)
        imaging_target = target

    if problems:
        raise PlanError(problems)
    changes = stream_changes + imaging_changes
    stream = state.settings.stream
    return Plan(
        profile_token=stream.profile_token if stream is not None else None,
        video_source_token=state.settings.video_source_token,
        stream_changes=stream_changes,
        imaging_changes=imaging_changes,
        encoder_target=encoder_target,
        imaging_target=imaging_target,
        previous=unflatten({c.field: c.old for c in changes if c.old is not None}),
    )


def verify(
    expected: Mapping[str, FieldValue], actual: Mapping[str, FieldValue]
) -> tuple[Mismatch, ...]:
    """The fields of ``expected`` that ``actual`` does not match (a field missing
    from ``actual`` is a mismatch with ``actual=None``). Bitrate and frame rate
    are compared with :data:`BITRATE_TOLERANCE_KBPS`/:data:`BITRATE_TOLERANCE_RATIO`
    and :data:`FPS_TOLERANCE`, other numbers to ``xs:float`` precision."""
    mismatches = []
    for name, wanted in expected.items():
        got = actual.get(name)
        if got is None or not _matches(name, wanted, got):
            mismatches.append(Mismatch(name, wanted, got))
    return tuple(mismatches)


# --------------------------------------------------------------------------- diffing


def _same(a: FieldValue, b: FieldValue) -> bool:
    if _is_number(a) and _is_number(b):
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)  # type: ignore[arg-type]
    return a == b


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _matches(name: str, wanted: FieldValue, got: FieldValue) -> bool:
    if not (_is_number(wanted) and _is_number(got)):
        return wanted == got
    w, g = float(wanted), float(got)  # type: ignore[arg-type]
    if name == "stream.bitrate_kbps":
        return abs(w - g) <= max(BITRATE_TOLERANCE_KBPS, BITRATE_TOLERANCE_RATIO * w)
    if name == "stream.fps":
        return abs(w - g) <= FPS_TOLERANCE
    # xs:float carries about seven significant digits.
    return math.isclose(w, g, rel_tol=1e-5, abs_tol=1e-3)


def _diff(
    wanted: Mapping[str, FieldValue], current: Mapping[str, FieldValue]
) -> tuple[Change, ...]:
    changes = []
    for name, value in wanted.items():
        old = current.get(name)
        if old is None or not _same(old, value):
            changes.append(Change(name, old, value))
    return tuple(changes)


def _follow_codec(
    changes: tuple[Change, ...], wanted: Mapping[str, FieldValue], state: CameraState
) -> tuple[Change, ...]:
    """A codec change without a profile keeps the current encoder profile only if
    the new codec offers it; otherwise the new codec's first profile is planned
    (an H.264 ``High`` profile means nothing to an H.265 encoder)."""
    codec = next((c.new for c in changes if c.field == "stream.codec"), None)
    encoder, options = state.encoder, state.encoder_options
    if not isinstance(codec, VideoEncoding) or "stream.encoder_profile" in wanted:
        return changes
    if encoder is None or options is None:
        return changes
    option = options.for_encoding(codec)
    if option is None or not option.profiles or encoder.profile in option.profiles:
        return changes
    return (*changes, Change("stream.encoder_profile", encoder.profile, option.profiles[0]))


def _merge_encoder(
    encoder: VideoEncoderConfiguration, changes: Iterable[Change]
) -> VideoEncoderConfiguration:
    target = encoder
    for change in changes:
        value = change.new
        match change.field:
            case "stream.resolution":
                target = replace(target, resolution=value)  # type: ignore[arg-type]
            case "stream.codec":
                target = replace(target, encoding=value)  # type: ignore[arg-type]
            case "stream.fps":
                target = replace(target, frame_rate_limit=float(value))  # type: ignore[arg-type]
            case "stream.bitrate_kbps":
                target = replace(target, bitrate_limit=value)  # type: ignore[arg-type]
            case "stream.gop":
                target = replace(target, gov_length=value)  # type: ignore[arg-type]
            case "stream.encoder_profile":
                target = replace(target, profile=value)  # type: ignore[arg-type]
    return target


# --------------------------------------------------------------------------- checks


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _range_text(allowed: IntRange | FloatRange) -> str:
    return f"{_fmt(allowed.min)}..{_fmt(allowed.max)}"


def _check_stream(
    target: VideoEncoderConfiguration, changes: tuple[Change, ...], state: CameraState
) -> list[PlanProblem]:
    problems: list[PlanProblem] = []
    changed = {change.field for change in changes}
    codec = target.encoding
    if "stream.codec" in changed and codec is VideoEncoding.H265 and not state.media2:
        problems.append(
            PlanProblem(
                "stream.codec",
                "stream.codec H265 needs Media2 (Profile T), which the camera does not offer",
            )
        )
    if (
        "stream.fps" in changed
        and not state.media2
        and target.frame_rate_limit is not None
        and not float(target.frame_rate_limit).is_integer()
    ):
        problems.append(
            PlanProblem(
                "stream.fps",
                f"stream.fps {_fmt(target.frame_rate_limit)} must be a whole number on a camera "
                "without Media2",
            )
        )
    options = state.encoder_options
    if options is None or not options.encodings or codec is None:
        return problems
    option = options.for_encoding(codec)
    offered = ", ".join(o.encoding.value for o in options.encodings)
    if option is None:
        if codec is VideoEncoding.H265:
            message = f"stream.codec H265: the camera does not offer H.265 (allowed: {offered})"
        else:
            message = (
                f"stream.codec {codec.value} is not offered by the camera (allowed: {offered})"
            )
        problems.append(PlanProblem("stream.codec", message))
        return problems
    # A new codec brings new limits: every field sent must fit them, not only the changed ones.
    checked = set(STREAM_FIELDS) if "stream.codec" in changed else changed
    problems.extend(_check_encoding(target, option, checked))
    return problems


def _check_encoding(
    target: VideoEncoderConfiguration, option: EncodingOptions, checked: set[str]
) -> list[PlanProblem]:
    problems: list[PlanProblem] = []
    codec = option.encoding.value
    resolution = target.resolution
    if (
        "stream.resolution" in checked
        and resolution is not None
        and option.resolutions
        and resolution not in option.resolutions
    ):
        allowed = ", ".join(map(str, option.resolutions))
        problems.append(
            PlanProblem(
                "stream.resolution",
                f"stream.resolution {resolution} is not offered for {codec} (allowed: {allowed})",
            )
        )
    fps = target.frame_rate_limit
    if "stream.fps" in checked and fps is not None and not option.allows_frame_rate(fps):
        problems.append(
            PlanProblem(
                "stream.fps",
                f"stream.fps {_fmt(fps)} is outside what the camera allows for {codec} "
                f"(allowed: {option.describe_frame_rates()})",
            )
        )
    bitrate, bitrates = target.bitrate_limit, option.bitrate_range
    if (
        "stream.bitrate_kbps" in checked
        and bitrate is not None
        and bitrates is not None
        and bitrate not in bitrates
    ):
        problems.append(
            PlanProblem(
                "stream.bitrate_kbps",
                f"stream.bitrate_kbps {bitrate} is outside what the camera allows for {codec} "
                f"(allowed: {_range_text(bitrates)} kbit/s)",
            )
        )
    gop, gops = target.gov_length, option.gov_length_range
    if "stream.gop" in checked and gop is not None and gops is not None and gop not in gops:
        problems.append(
            PlanProblem(
                "stream.gop",
                f"stream.gop {gop} is outside what the camera allows for {codec} "
                f"(allowed: {_range_text(gops)} frames)",
            )
        )
    profile = target.profile
    if (
        "stream.encoder_profile" in checked
        and profile is not None
        and option.profiles
        and profile not in option.profiles
    ):
        problems.append(
            PlanProblem(
                "stream.encoder_profile",
                f"stream.encoder_profile {profile} is not offered for {codec} "
                f"(allowed: {', '.join(option.profiles)})",
            )
        )
    return problems


def _in_range(name: str, value: FieldValue, allowed: FloatRange | None) -> PlanProblem | None:
    if allowed is None or not _is_number(value):
        return None
    number = float(value)  # type: ignore[arg-type]
    # Cameras print bounds with few digits and xs:float is single precision:
    # a value equal to a bound after rounding is in range.
    slack = 1e-6 * max(1.0, abs(allowed.min), abs(allowed.max))
    if allowed.min - slack <= number <= allowed.max + slack:
        return None
    return PlanProblem(
        name, f"{name} {_fmt(number)} is outside the camera's range {_range_text(allowed)}"
    )


def _in_modes(name: str, value: FieldValue, modes: tuple[FieldValue, ...]) -> PlanProblem | None:
    if not modes or value in modes:
        return None
    names = ", ".join(str(mode) for mode in modes)
    return PlanProblem(name, f"{name} {value} is not one of the camera's modes ({names})")


def _check_imaging(
    changes: tuple[Change, ...], options: ImagingOptions | None
) -> list[PlanProblem]:
    if options is None:
        return []
    exposure, wdr, blc = (
        options.exposure,
        options.wide_dynamic_range,
        options.backlight_compensation,
    )
    problems: list[PlanProblem | None] = []
    for change in changes:
        name, value = change.field, change.new
        match name:
            case "image.brightness":
                problems.append(_in_range(name, value, options.brightness))
            case "image.contrast":
                problems.append(_in_range(name, value, options.contrast))
            case "image.sharpness":
                problems.append(_in_range(name, value, options.sharpness))
            case "image.color_saturation":
                problems.append(_in_range(name, value, options.color_saturation))
            case "exposure.mode" if exposure is not None:
                problems.append(_in_modes(name, value, exposure.modes))
            case "exposure.exposure_time_us" if exposure is not None:
                problems.append(_in_range(name, value, exposure.exposure_time))
            case "exposure.gain" if exposure is not None:
                problems.append(_in_range(name, value, exposure.gain))
            case "low_light.wdr_mode" if wdr is not None:
                problems.append(_in_modes(name, value, wdr.modes))
            case "low_light.wdr_level" if wdr is not None:
                problems.append(_in_range(name, value, wdr.level))
            case "low_light.ir_cut_filter":
                problems.append(_in_modes(name, value, options.ir_cut_filter_modes))
            case "low_light.backlight_mode" if blc is not None:
                problems.append(_in_modes(name, value, blc.modes))
    return [problem for problem in problems if problem is not None]


def _imaging_target(
    changes: tuple[Change, ...], current: ImagingSettings
) -> tuple[ImagingSettings, list[PlanProblem]]:
    new = {change.field: change.new for change in changes}
    problems: list[PlanProblem] = []

    exposure: Exposure | None = None
    if any(name.startswith("exposure.") for name in new):
        mode = new.get("exposure.mode") or (current.exposure.mode if current.exposure else None)
        if isinstance(mode, ExposureMode):
            time = new.get("exposure.exposure_time_us")
            gain = new.get("exposure.gain")
            exposure = Exposure(
                mode=mode,
                exposure_time=float(time) if isinstance(time, int | float) else None,
                gain=float(gain) if isinstance(gain, int | float) else None,
            )
        else:
            problems.append(
                PlanProblem(
                    "exposure.mode",
                    "exposure.mode: the camera reports no exposure mode; give one to set "
                    "exposure values",
                )
            )

    wdr: WideDynamicRange | None = None
    if "low_light.wdr_mode" in new or "low_light.wdr_level" in new:
        current_wdr = current.wide_dynamic_range
        wdr_mode = new.get("low_light.wdr_mode") or (current_wdr.mode if current_wdr else None)
        level = new.get("low_light.wdr_level")
        if isinstance(wdr_mode, WideDynamicMode):
            wdr = WideDynamicRange(
                mode=wdr_mode, level=float(level) if isinstance(level, int | float) else None
            )
        else:
            problems.append(
                PlanProblem(
                    "low_light.wdr_mode",
                    "low_light.wdr_mode: the camera reports no WDR mode; give one to set the "
                    "WDR level",
                )
            )

    blc_mode = new.get("low_light.backlight_mode")
    ir_cut = new.get("low_light.ir_cut_filter")

    def number(name: str) -> float | None:
        value = new.get(name)
        return float(value) if isinstance(value, int | float) else None

    target = ImagingSettings(
        backlight_compensation=(
            BacklightCompensation(mode=blc_mode)
            if isinstance(blc_mode, BacklightCompensationMode)
            else None
        ),
        brightness=number("image.brightness"),
        color_saturation=number("image.color_saturation"),
        contrast=number("image.contrast"),
        exposure=exposure,
        ir_cut_filter=ir_cut if isinstance(ir_cut, IrCutFilterMode) else None,
        sharpness=number("image.sharpness"),
        wide_dynamic_range=wdr,
    )
    return target, problems
