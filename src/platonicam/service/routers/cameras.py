"""Registered cameras: add, list, show, change, delete; capabilities and current settings.

Roles: viewers read (cameras they hold a grant for; admins all), admins add,
change and delete. Adding or re-addressing a camera connects to it first with
the given credentials: a wrong password or address is refused with the
camera's problem (``camera-auth``, ``camera-unreachable`` ...) and nothing is
stored. The password is write-only: responses say ``hasPassword``. Every change
is written to the audit log (without the password).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import OnvifError
from platonicam.onvif.models.media import MediaProfile, VideoEncoderConfigurationOptions
from platonicam.onvif.settings import CameraSettings, read_settings, summarize_capabilities
from platonicam.service.cameras import CameraAddress, CameraLogin, main_profile
from platonicam.service.deps import Admin, Context, Viewer, requires
from platonicam.service.schemas.cameras import (
    CameraCapabilitiesOut,
    CameraCreate,
    CameraList,
    CameraOut,
    CameraSettingsOut,
    CameraUpdate,
    CapabilitiesOut,
    CurrentSettingsOut,
    DeviceInfoOut,
    ExposureOut,
    ImageOut,
    LowLightOut,
    StreamSettingsOut,
    VideoEncoderOut,
)
from platonicam.service.schemas.problem import problem_responses
from platonicam.store.records import CameraChanges, NewCamera, Role, UserRecord
from platonicam.store.repositories.errors import NotFoundError

router = APIRouter(
    prefix="/api/cameras", tags=["cameras"], responses=problem_responses(401, 403, 404, 422)
)

CAMERA_ERRORS = problem_responses(409, 501, 502, 504)

CameraViewer = Annotated[UserRecord, Depends(requires(Role.VIEWER, camera="camera_id"))]
CameraOperator = Annotated[UserRecord, Depends(requires(Role.OPERATOR, camera="camera_id"))]
CameraAdmin = Annotated[UserRecord, Depends(requires(Role.ADMIN, camera="camera_id"))]


@router.get("")
async def list_cameras(context: Context, user: Viewer) -> CameraList:
    """The cameras the caller may use (admins: all), by name."""
    ids = None if user.role is Role.ADMIN else user.grants
    return CameraList(cameras=[CameraOut.of(c) for c in await context.cameras.list(ids)])


@router.post("", status_code=status.HTTP_201_CREATED, responses=CAMERA_ERRORS)
async def add_camera(context: Context, actor: Admin, body: CameraCreate) -> CameraOut:
    """Register a camera after connecting to it once with the credentials."""
    sighting = None
    if body.discovery_id is not None:
        sighting = context.discovery.seen(body.discovery_id)
        if sighting is None or sighting.candidate.host is None:
            raise NotFoundError("discovered camera", body.discovery_id)
        host = sighting.candidate.host
        port = body.port or sighting.candidate.port or 80
        use_https = body.use_https or (sighting.candidate.xaddr or "").startswith("https:")
    else:
        assert body.ip is not None  # the model requires ip or discoveryId
        host, port, use_https = body.ip.strip("[]"), body.port or 80, body.use_https
    address = CameraAddress(host, port, use_https, body.verify_tls, body.ca_cert_pem)
    info = await context.camera_manager.identify(address, CameraLogin(body.username, body.password))
    name = body.name or (sighting.candidate.name if sighting else None)
    candidate = sighting.candidate if sighting is not None else None
    camera = await context.cameras.create(
        NewCamera(
            name=name or f"{info.manufacturer} {info.model}".strip() or address.label,
            host=host,
            port=port,
            username=body.username,
            password=body.password,
            use_https=use_https,
            verify_tls=body.verify_tls,
            ca_cert_pem=body.ca_cert_pem,
            manufacturer=info.manufacturer or None,
            model=info.model or None,
            firmware_version=info.firmware_version or None,
            serial_number=info.serial_number or None,
            hardware_id=info.hardware_id or None,
            mac_address=candidate.mac if candidate is not None else None,
            scopes=candidate.scopes if candidate is not None else (),
        )
    )
    await context.audit.record(
        actor.name,
        "camera.create",
        f"registered camera {camera.id} ({camera.name}) at {address.label}",
        camera_id=camera.id,
    )
    context.camera_changed(camera.id)
    return CameraOut.of(camera)


@router.get("/{camera_id}")
async def get_camera(context: Context, user: CameraViewer, camera_id: str) -> CameraOut:
    """One registered camera (never its password)."""
    return CameraOut.of(await context.cameras.require(camera_id))


@router.patch("/{camera_id}", responses={**CAMERA_ERRORS, **problem_responses(409)})
async def update_camera(
    context: Context, actor: CameraAdmin, camera_id: str, body: CameraUpdate
) -> CameraOut:
    """Change a camera; a new address or credentials are checked by connecting first."""
    current = await context.cameras.require(camera_id)
    connection_changed = any(
        value is not None
        for value in (
            body.ip,
            body.port,
            body.username,
            body.password,
            body.use_https,
            body.verify_tls,
            body.ca_cert_pem,
        )
    )
    if connection_changed and not body.clear_password:
        stored = await context.cameras.credentials(camera_id)
        address = CameraAddress(
            body.ip.strip("[]") if body.ip is not None else current.host,
            body.port or current.port,
            body.use_https if body.use_https is not None else current.use_https,
            body.verify_tls if body.verify_tls is not None else current.verify_tls,
            body.ca_cert_pem if body.ca_cert_pem is not None else current.ca_cert_pem,
        )
        login = CameraLogin(
            body.username or stored.username,
            body.password if body.password is not None else stored.password,
        )
        await context.camera_manager.identify(address, login)
    camera = await context.cameras.update(
        camera_id,
        CameraChanges(
            name=body.name,
            host=body.ip.strip("[]") if body.ip is not None else None,
            port=body.port,
            username=body.username,
            password=body.password,
            clear_password=body.clear_password,
            use_https=body.use_https,
            verify_tls=body.verify_tls,
            ca_cert_pem=body.ca_cert_pem,
        ),
    )
    await context.camera_manager.forget(camera_id)
    fields = [
        name
        for name, value in body.model_dump(exclude_none=True, exclude_defaults=True).items()
        if value is not None
    ]
    summary = ", ".join("password" if f in ("password", "clear_password") else f for f in fields)
    await context.audit.record(
        actor.name,
        "camera.update",
        f"updated camera {camera_id}: {summary or 'no change'}",
        camera_id=camera_id,
    )
    context.camera_changed(camera_id)
    return CameraOut.of(camera)


@router.delete("/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_camera(context: Context, actor: CameraAdmin, camera_id: str) -> Response:
    """Forget a camera, its stored credentials and every grant on it."""
    camera = await context.cameras.require(camera_id)
    await context.cameras.delete(camera_id)
    await context.camera_manager.forget(camera_id)
    await context.audit.record(
        actor.name,
        "camera.delete",
        f"deleted camera {camera_id} ({camera.name})",
        camera_id=camera_id,
    )
    context.camera_changed(camera_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------- reading the camera


async def _encoder_options(
    client: OnvifClient, profiles: list[MediaProfile]
) -> list[tuple[str, VideoEncoderConfigurationOptions]]:
    """Options per distinct encoder configuration; one failing (some firmware
    faults on the sub stream's) does not hide the others."""
    found: list[tuple[str, VideoEncoderConfigurationOptions]] = []
    seen: set[str] = set()
    for profile in profiles:
        encoder = profile.video_encoder_configuration
        if encoder is None or encoder.token in seen:
            continue
        seen.add(encoder.token)
        try:
            options = await client.media.get_video_encoder_configuration_options(
                configuration_token=encoder.token, profile_token=profile.token
            )
        except OnvifError:
            continue
        found.append((profile.token, options))
    return found


@router.get("/{camera_id}/capabilities", responses=CAMERA_ERRORS)
async def get_capabilities(
    context: Context, user: CameraViewer, camera_id: str
) -> CameraCapabilitiesOut:
    """What the camera can do: identity, encoder options of the main profile,
    codecs, largest resolution, highest frame rate, services."""
    await context.cameras.require(camera_id)
    async with context.camera_manager.client(camera_id) as client:
        info = await client.device.get_device_information()
        profiles = await client.media.get_profiles()
        options = await _encoder_options(client, list(profiles))
        try:
            scopes = [scope.item for scope in await client.device.get_scopes()]
        except OnvifError:
            scopes = []
        kinds = [e.kind for e in client.services.values() if e.kind is not None]
        media2 = client.is_profile_t
    summary = summarize_capabilities(
        kinds, [o for _, o in options], scopes=scopes, profiles=profiles
    )
    main = main_profile(profiles)
    main_options = next(
        (o for token, o in options if main is not None and token == main.token),
        options[0][1] if options else None,
    )
    encoders = [
        VideoEncoderOut(
            codec=option.encoding.value,
            resolutions=[str(r) for r in option.resolutions],
            frame_rates=list(option.frame_rates),
            fps_range=[option.frame_rate_range.min, option.frame_rate_range.max]
            if option.frame_rate_range
            else None,
            bitrate_range_kbps=[option.bitrate_range.min, option.bitrate_range.max]
            if option.bitrate_range
            else None,
            gop_range=[option.gov_length_range.min, option.gov_length_range.max]
            if option.gov_length_range
            else None,
            profiles=list(option.profiles),
        )
        for option in (main_options.encodings if main_options is not None else ())
    ]
    onvif_profiles = [
        name
        for name, member in (
            ("S", summary.profile_s),
            ("T", summary.profile_t),
            ("M", summary.profile_m),
            ("G", summary.profile_g),
        )
        if member
    ]
    bitrate = summary.bitrate_range_kbps
    return CameraCapabilitiesOut(
        cameraId=camera_id,
        capabilities=CapabilitiesOut(
            device=DeviceInfoOut(
                manufacturer=info.manufacturer,
                model=info.model,
                firmware_version=info.firmware_version,
                serial_number=info.serial_number,
                hardware_id=info.hardware_id,
            ),
            video_encoders=encoders,
            max_resolution=str(summary.max_resolution) if summary.max_resolution else None,
            supported_codecs=[codec.value for codec in summary.codecs],
            max_fps=summary.max_fps,
            bitrate_range_mbps=[bitrate[0] / 1000, bitrate[1] / 1000] if bitrate else None,
            h265=summary.h265,
            media2=media2,
            onvif_profiles=onvif_profiles,
            ptz=summary.ptz,
            imaging=summary.imaging,
            events=summary.events,
            analytics=summary.analytics,
            audio=summary.audio,
        ),
    )


def current_settings_out(settings: CameraSettings) -> CurrentSettingsOut:
    """The contract's ``currentSettings`` (camelCase keys, Mbit/s) of normalised settings."""
    stream = settings.stream
    exposure, low_light, image = settings.exposure, settings.low_light, settings.image
    return CurrentSettingsOut(
        stream=StreamSettingsOut(
            profile_token=stream.profile_token,
            resolution=str(stream.resolution) if stream.resolution else None,
            codec=stream.codec.value if stream.codec else None,
            fps=stream.fps,
            bitrate_mbps=stream.bitrate_mbps,
            gop=stream.gop,
            profile=stream.encoder_profile,
        )
        if stream is not None
        else None,
        exposure=ExposureOut(
            mode=exposure.mode.value if exposure.mode else None,
            exposure_time=exposure.exposure_time_us,
            gain=exposure.gain,
        )
        if exposure is not None
        else None,
        low_light=LowLightOut(
            wdr=low_light.wdr_mode.value if low_light.wdr_mode else None,
            wdr_level=low_light.wdr_level,
            ir_cut_filter=low_light.ir_cut_filter.value if low_light.ir_cut_filter else None,
            backlight=low_light.backlight_mode.value if low_light.backlight_mode else None,
        )
        if low_light is not None
        else None,
        image=ImageOut(
            brightness=image.brightness,
            contrast=image.contrast,
            sharpness=image.sharpness,
            saturation=image.color_saturation,
        )
        if image is not None
        else None,
    )


@router.get("/{camera_id}/current-settings", responses=CAMERA_ERRORS)
async def get_current_settings(
    context: Context, user: CameraViewer, camera_id: str
) -> CameraSettingsOut:
    """What the camera does now: main stream, exposure, low-light and image levels."""
    await context.cameras.require(camera_id)
    async with context.camera_manager.client(camera_id) as client:
        settings = await read_settings(client)
    return CameraSettingsOut(camera_id=camera_id, current_settings=current_settings_out(settings))
