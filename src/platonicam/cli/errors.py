"""One table: what went wrong talking to a camera, in one line, and what to try.

The CLI never shows a traceback for the failures people actually meet
(unreachable host, timeout, wrong password, clock skew, not an ONVIF device,
TLS trust); it prints :func:`describe`'s line and exits with status 2.
Messages never contain the password: they are written here from the error's
type and the target, not copied from anything that saw the credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from platonicam.onvif.errors import (
    ActionNotSupported,
    AuthenticationError,
    ConnectError,
    ConnectTimeout,
    HttpStatusError,
    NotAuthorized,
    OnvifError,
    ReadTimeout,
    RemoteProtocolError,
    ServiceNotSupported,
    SoapFaultError,
    TLSVerificationError,
    TransportError,
)

#: Exit status for "the camera could not be used" (typer uses 1 for crashes
#: and usage errors print 2 as well, which is what scripts test for).
EXIT_CAMERA_ERROR: Final = 2

#: A camera clock further than this from ours makes a refused token more
#: likely to be skew than a wrong password.
SKEW_THRESHOLD: Final = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Problem:
    """What happened (``message``) and what to try (``hint``)."""

    message: str
    hint: str

    def line(self) -> str:
        return f"error: {self.message}. Try: {self.hint}"


# Most specific first: the first matching type wins. ``{target}`` is host:port.
_TABLE: Final[tuple[tuple[type[OnvifError], str, str], ...]] = (
    (
        TLSVerificationError,
        "the TLS certificate of {target} did not verify",
        "--ca-file with the camera's CA or certificate, or --insecure on a network you trust",
    ),
    (
        ConnectTimeout,
        "timed out connecting to {target}",
        "check the address and that the camera is powered and on this network",
    ),
    (
        ConnectError,
        "cannot connect to {target} (nothing answers there)",
        "check the host and --port (ONVIF is often on 80, 8000 or 8080)",
    ),
    (
        ReadTimeout,
        "{target} accepted the connection but did not answer in time",
        "check --port (it may not be the ONVIF port) or raise --timeout",
    ),
    (
        AuthenticationError,
        "{target} refused the credentials: wrong username or password",
        "check --user and the password (--password-env); the user needs ONVIF rights",
    ),
    (
        NotAuthorized,
        "{target} refused the credentials: wrong username or password",
        "check --user and the password (--password-env); the user needs ONVIF rights",
    ),
    (
        HttpStatusError,
        "{target} answered HTTP {status} instead of ONVIF",
        "check --port and whether this device speaks ONVIF (enable it in its web settings)",
    ),
    (
        RemoteProtocolError,
        "{target} did not answer like an ONVIF device",
        "check --port: something other than an ONVIF service is listening there",
    ),
    (
        ServiceNotSupported,
        "{target} does not offer a service this command needs",
        "this camera cannot do that over ONVIF",
    ),
    (
        ActionNotSupported,
        "{target} does not support an operation this command needs",
        "this camera cannot do that over ONVIF",
    ),
    (
        SoapFaultError,
        "{target} refused a request ({reason})",
        "check the camera's settings and the user's rights",
    ),
    (
        TransportError,
        "the HTTP exchange with {target} failed",
        "check the network and try again",
    ),
)


def describe(error: OnvifError, *, target: str, clock_offset: timedelta | None = None) -> Problem:
    """The one-line problem for ``error`` met while talking to ``target``.

    ``clock_offset`` (camera minus local time, when it could be read) turns a
    refused token into a clock-skew message when the clocks are far apart.
    """
    if (
        isinstance(error, NotAuthorized)
        and clock_offset is not None
        and abs(clock_offset) > SKEW_THRESHOLD
    ):
        seconds = clock_offset.total_seconds()
        return Problem(
            f"{target} refused the credentials: wrong username or password, or the camera "
            f"checks tokens against another clock than the one it reports (its clock is "
            f"{_human(seconds)} {'ahead of' if seconds > 0 else 'behind'} ours; PlatoniCam "
            f"signs with the camera's reported time)",
            "check --user and the password; if they are right, set the camera's time (NTP)",
        )
    for error_type, message, hint in _TABLE:
        if isinstance(error, error_type):
            return Problem(
                message.format(
                    target=target,
                    status=getattr(error, "status_code", "?"),
                    reason=getattr(error, "reason", "?"),
                ),
                hint,
            )
    return Problem(f"talking to {target} failed", "run again with a working camera address")


def _human(seconds: float) -> str:
    value = abs(seconds)
    if value >= 86400:
        return f"{value / 86400:.0f} days"
    if value >= 3600:
        return f"{value / 3600:.1f} hours"
    return f"{value / 60:.0f} minutes"
