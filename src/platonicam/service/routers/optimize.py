"""``POST /api/optimize``: recommended settings for a camera and a scene.

The recommender (``ServiceContext.recommender``, the built-in rules unless
``create_app`` was given another) gets the camera's abilities, read from the
registered camera named by ``cameraId`` (viewer role and a grant) or given in
the request. Nothing is changed: the answer's ``recommendedSettings`` go to
``POST /api/apply`` when the caller agrees with them.
"""

from __future__ import annotations

from fastapi import APIRouter

from platonicam.onvif.models.common import Resolution
from platonicam.onvif.models.media import VideoEncoding
from platonicam.onvif.settings import read_capability_summary
from platonicam.service.deps import Context, Viewer, check_camera
from platonicam.service.jobs.errors import DesiredSettingsError
from platonicam.service.jobs.model import desired_to_json
from platonicam.service.optimize import CameraAbilities, Scene
from platonicam.service.schemas.apply import SettingsIn
from platonicam.service.schemas.optimize import AbilitiesIn, OptimizeIn, OptimizeOut
from platonicam.service.schemas.problem import problem_responses

router = APIRouter(
    tags=["optimize"], responses=problem_responses(401, 403, 404, 422, 501, 502, 504)
)


def abilities_from_request(given: AbilitiesIn) -> CameraAbilities:
    """Abilities described by hand; :class:`DesiredSettingsError` (422) for an
    unknown codec or a malformed resolution."""
    problems: list[str] = []
    codecs: list[VideoEncoding] = []
    for raw in given.supported_codecs:
        name = raw.strip().upper().replace(".", "")
        if name not in (VideoEncoding.H264.value, VideoEncoding.H265.value):
            problems.append(f"capabilities.supported_codecs: {raw!r} is not H264 or H265")
        elif VideoEncoding(name) not in codecs:
            codecs.append(VideoEncoding(name))
    resolutions: list[Resolution] = []
    for raw in given.resolutions:
        width, _, height = raw.lower().partition("x")
        if not (width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
            problems.append(f"capabilities.resolutions: {raw!r} is not WIDTHxHEIGHT")
        elif int(width) <= 20000 and int(height) <= 20000:
            resolutions.append(Resolution(int(width), int(height)))
    bitrate = None
    if given.bitrate_range_mbps is not None:
        low, high = given.bitrate_range_mbps
        if not 0 <= low <= high:
            problems.append("capabilities.bitrate_range_mbps: expected [low, high], low <= high")
        else:
            bitrate = (round(low * 1000), round(high * 1000))
    if problems:
        raise DesiredSettingsError(problems)
    return CameraAbilities(
        codecs=tuple(codecs),
        resolutions={codec: tuple(resolutions) for codec in codecs} if resolutions else {},
        max_fps=given.max_fps,
        bitrate_range_kbps=bitrate,
        imaging=given.imaging,
    )


@router.post("/api/optimize")
async def optimize(context: Context, user: Viewer, body: OptimizeIn) -> OptimizeOut:
    """Settings the recommender suggests for the camera in this scene, with reasons."""
    if body.camera_id is not None:
        check_camera(user, body.camera_id)
        await context.cameras.require(body.camera_id)
        async with context.camera_manager.client(body.camera_id) as client:
            summary = await read_capability_summary(client)
        abilities = CameraAbilities.of(summary)
    else:
        assert body.capabilities is not None  # the model requires one of the two
        abilities = abilities_from_request(body.capabilities)
    given = body.scene
    scene = Scene(
        type=given.type,
        lighting=given.lighting,
        motion=given.motion,
        priority=given.priority,
        backlight=given.backlight,
        max_bitrate_kbps=round(given.max_bitrate_mbps * 1000) if given.max_bitrate_mbps else None,
    )
    try:
        recommendation = context.recommender.recommend(abilities, scene)
    except ValueError as error:
        raise DesiredSettingsError([f"capabilities: {error}"]) from None
    return OptimizeOut(
        cameraId=body.camera_id,
        recommendedSettings=SettingsIn.model_validate(desired_to_json(recommendation.settings)),
        reasons=list(recommendation.reasons),
        confidence=recommendation.confidence,
        recommender=recommendation.recommender,
    )
