"""The one error table: each error -> status, code and a detail a person can act on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from platonicam.onvif.errors import (
    ActionNotSupported,
    AuthenticationError,
    ConnectError,
    ConnectTimeout,
    HttpStatusError,
    InvalidArgValue,
    LocalProtocolError,
    NotAuthorized,
    OnvifError,
    OperationProhibited,
    ReadTimeout,
    RemoteProtocolError,
    ServiceNotSupported,
    SoapFaultError,
    TLSVerificationError,
)
from platonicam.service.errors import CameraOperationError, problem_for
from platonicam.service.jobs.errors import (
    CameraBusyError,
    JobNotFoundError,
    PlanError,
    PlanProblem,
)
from platonicam.store.repositories.errors import NotFoundError
from platonicam.store.secrets import SecretsError
from tests.integration.service.foundation import Service, running, settings_for

SECRET = "Sup3r-Secret-Cam"  # planted in every error's own text: it must never come out
AUTH_HINT = (
    "Update the camera's username and password; the ONVIF user needs operator or "
    "administrator rights on the camera."
)

CAMERA_CASES: list[tuple[OnvifError, int, str, str]] = [
    (
        TLSVerificationError(f"certificate verify failed for {SECRET}"),
        502,
        "camera-tls",
        "The TLS certificate of camera cam-1 did not verify. Give the camera's CA or certificate "
        "(caCertPem), or turn verifyTls off for this camera on a network you trust.",
    ),
    (
        ConnectTimeout(SECRET),
        504,
        "camera-timeout",
        "Connecting to camera cam-1 timed out. Check that the camera is powered, on this "
        "network, and at the registered address.",
    ),
    (
        ConnectError(SECRET),
        502,
        "camera-unreachable",
        "Nothing answers at the address of camera cam-1. Check the host and port (ONVIF is "
        "often on 80, 8000 or 8080) and that the camera is on.",
    ),
    (
        ReadTimeout(SECRET),
        504,
        "camera-timeout",
        "Camera cam-1 accepted the connection but did not answer in time. Check that the port "
        "is the ONVIF port; a busy camera may need a retry.",
    ),
    (
        AuthenticationError(SECRET),
        502,
        "camera-auth",
        f"Camera cam-1 refused the stored user name or password. {AUTH_HINT}",
    ),
    (
        NotAuthorized(SECRET, code="Sender", subcodes=("NotAuthorized",)),
        502,
        "camera-auth",
        f"Camera cam-1 refused the stored user name or password. {AUTH_HINT}",
    ),
    (
        HttpStatusError(SECRET, status_code=404),
        502,
        "camera-http",
        "Camera cam-1 answered with an HTTP error instead of ONVIF. Check the port, and that "
        "ONVIF is enabled in the camera's web settings.",
    ),
    (
        RemoteProtocolError(SECRET, operation="GetProfiles"),
        502,
        "camera-protocol",
        "Camera cam-1 did not answer like an ONVIF device. Check the port: something other "
        "than an ONVIF service may be listening there.",
    ),
    (
        ServiceNotSupported(SECRET),
        501,
        "camera-unsupported",
        "Camera cam-1 does not offer the ONVIF service this needs. This camera cannot do that "
        "over ONVIF.",
    ),
    (
        ActionNotSupported(SECRET, code="Receiver", subcodes=("ActionNotSupported",)),
        501,
        "camera-unsupported",
        "Camera cam-1 does not support the ONVIF operation this needs. This camera cannot do "
        "that over ONVIF.",
    ),
    (
        InvalidArgValue(SECRET, code="Sender", subcodes=("InvalidArgVal",)),
        422,
        "camera-rejected-value",
        "Camera cam-1 rejected a value in the request. Read the camera's capabilities and "
        "choose values among the ones it offers.",
    ),
    (
        OperationProhibited(SECRET, code="Sender"),
        409,
        "camera-prohibited",
        "Camera cam-1 refuses this operation in its current state or configuration. Check the "
        "camera's settings (another client may hold it) and try again.",
    ),
    (
        SoapFaultError(SECRET, code="Receiver"),
        502,
        "camera-fault",
        "Camera cam-1 answered with a SOAP fault. Check the camera's settings and the rights "
        "of its ONVIF user.",
    ),
    (
        LocalProtocolError(SECRET),
        422,
        "camera-impossible-request",
        "The request cannot be valid for camera cam-1, so nothing was sent. Read the camera's "
        "capabilities and choose values among the ones it offers.",
    ),
]


@pytest.mark.parametrize(
    ("error", "status", "code", "detail"),
    CAMERA_CASES,
    ids=[type(case[0]).__name__ for case in CAMERA_CASES],
)
def test_camera_errors_table(error: OnvifError, status: int, code: str, detail: str) -> None:
    problem = problem_for(error, camera_id="cam-1")
    assert (problem.status, problem.code, problem.detail) == (status, code, detail)
    body = problem.body()
    assert body["type"] == f"urn:platonicam:problem:{code}"
    assert SECRET not in str(body)


def test_clock_skew_is_told_apart_from_a_wrong_password() -> None:
    refused = NotAuthorized(SECRET, code="Sender", subcodes=("NotAuthorized",))
    skewed = problem_for(
        CameraOperationError("cam-4", refused, clock_offset=timedelta(hours=-3, minutes=-30))
    )
    assert (skewed.status, skewed.code) == (502, "camera-clock-skew")
    assert skewed.detail == (
        "Camera cam-4 refused the request, and its clock is 3.5 hours behind ours: it probably "
        "rejects our WS-Security timestamps. Set the camera's time (enable NTP on it); if the "
        "clock is right, check its username and password."
    )
    close = problem_for(CameraOperationError("cam-4", refused, clock_offset=timedelta(minutes=2)))
    assert close.code == "camera-auth"
    assert problem_for(ConnectError("x")).detail.startswith(
        "Nothing answers at the address of the camera."
    )


def test_plan_error_names_every_field() -> None:
    error = PlanError(
        [
            PlanProblem(
                "stream.resolution",
                "stream.resolution 4000x3000 is not offered; allowed: 1920x1080, 1280x720",
            ),
            PlanProblem("stream.bitrate_kbps", "stream.bitrate_kbps 90000 is outside 32..16384"),
        ]
    )
    problem = problem_for(error)
    assert (problem.status, problem.code) == (422, "plan-refused")
    assert problem.body()["errors"] == [
        {
            "field": "stream.resolution",
            "message": "stream.resolution 4000x3000 is not offered; allowed: 1920x1080, 1280x720",
        },
        {
            "field": "stream.bitrate_kbps",
            "message": "stream.bitrate_kbps 90000 is outside 32..16384",
        },
    ]
    assert problem.detail == (
        "Nothing was sent: stream.resolution 4000x3000 is not offered; allowed: 1920x1080, "
        "1280x720; stream.bitrate_kbps 90000 is outside 32..16384."
    )


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (CameraBusyError("cam-1", "job-9"), 409, "camera-busy"),
        (JobNotFoundError("job-9"), 404, "not-found"),
        (NotFoundError("camera", "cam-9"), 404, "not-found"),
        (SecretsError("the key changed"), 500, "credentials-key"),
        (RuntimeError(SECRET), 500, "internal-error"),
    ],
)
def test_domain_errors(error: Exception, status: int, code: str) -> None:
    problem = problem_for(error)
    assert (problem.status, problem.code) == (status, code)
    if isinstance(error, RuntimeError):
        assert problem.detail == "The server failed unexpectedly; the server log has the details."


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    async with running(settings_for(tmp_path / "data")) as started:
        yield started


async def test_errors_leave_the_app_as_problem_json(service: Service) -> None:
    async def broken(camera_id: str) -> None:
        raise ConnectError(f"http://onvif:{SECRET}@10.0.0.1 refused")

    async def crash() -> None:
        raise RuntimeError(SECRET)

    service.app.add_api_route("/test/cameras/{camera_id}/broken", broken)
    service.app.add_api_route("/test/crash", crash)
    client = service.client

    camera = await client.get("/test/cameras/cam-5/broken")
    assert camera.status_code == 502
    assert camera.headers["content-type"] == "application/problem+json"
    assert camera.json()["detail"].startswith("Nothing answers at the address of camera cam-5.")
    assert SECRET not in camera.text

    # Starlette answers an unhandled error with our 500 and then re-raises it for the
    # server to log; the ASGI transport must be told to let it go, as uvicorn does.
    transport = httpx.ASGITransport(app=service.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://platonicam") as lenient:
        crashed = await lenient.get("/test/crash")
    assert (crashed.status_code, crashed.json()["code"]) == (500, "internal-error")
    assert SECRET not in crashed.text

    unknown = await client.get("/api/nothing-here")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert (
        unknown.json()["detail"]
        == "There is no /api/nothing-here in this API; /docs lists the routes."
    )

    invalid = await client.post("/api/auth/refresh", json={})
    assert invalid.status_code == 422
    assert invalid.json()["errors"] == [
        {"field": "body.refresh_token", "message": "Field required"}
    ]

    wrong_method = await client.delete("/health")
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "method-not-allowed")
