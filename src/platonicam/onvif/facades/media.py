"""The media service's typed operations: Media2 when the device offers it, Media otherwise.

Strategy: every method asks :attr:`OnvifClient.is_profile_t` once per call and
uses the Media2 (ver20) request when it is true. Both generations parse into
the same models, so callers never see which one answered. The exception is
:meth:`MediaService.get_video_sources`: Media2 has no GetVideoSources, so it
always goes to Media (ver10), which Profile T cameras keep offering.

Stream and snapshot URIs name the address the camera believes it has. Behind
NAT that is a private address we cannot reach, so the host is replaced by the
one we connected to (:func:`rewrite_media_uri`); unlike service addresses the
port is kept, because RTSP and HTTP snapshots listen on their own ports.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

from platonicam.onvif.errors import LocalProtocolError, RemoteProtocolError
from platonicam.onvif.facades.base import Facade
from platonicam.onvif.models.common import ServiceKind
from platonicam.onvif.models.media import (
    MediaProfile,
    SnapshotUri,
    StreamProtocol,
    StreamType,
    StreamUri,
    TransportProtocol,
    VideoEncoderConfiguration,
    VideoEncoderConfigurationOptions,
    VideoSource,
)
from platonicam.onvif.services import media as media1
from platonicam.onvif.services import media2

# How each protocol a caller can ask for is spelled in a ver10 StreamSetup.
_MEDIA1_TRANSPORT: dict[StreamProtocol, TransportProtocol] = {
    StreamProtocol.RTSP: TransportProtocol.RTSP,
    StreamProtocol.RTSP_OVER_HTTP: TransportProtocol.HTTP,
    StreamProtocol.RTSP_UNICAST: TransportProtocol.UDP,
}


def rewrite_media_uri(uri: str, host: str) -> str:
    """``uri`` with its host replaced by ``host`` when they differ; everything else
    (scheme, user info, port, path, query) is kept byte for byte.

    ``host`` is a name or an IPv4/IPv6 address (with or without brackets).
    Comparison ignores case. A URI without a host gets ``host``; a string that
    is not an absolute URI is returned unchanged.
    """
    parts = urlsplit(uri)
    if not parts.scheme or not uri[len(parts.scheme) :].startswith("://"):
        return uri
    bare = host.strip().strip("[]")
    current = parts.hostname or ""
    if current.lower() == bare.lower():
        return uri
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    port = ""
    if hostport.startswith("["):
        closing = hostport.find("]")
        port = hostport[closing + 1 :] if closing >= 0 else ""
    elif ":" in hostport:
        port = hostport[hostport.rfind(":") :]
    new_host = f"[{bare}]" if ":" in bare else bare
    return urlunsplit(
        (parts.scheme, f"{userinfo}{at}{new_host}{port}", parts.path, parts.query, parts.fragment)
    )


class MediaService(Facade):
    """``client.media``: profiles, encoder settings and stream URIs."""

    __slots__ = ()

    @property
    def uses_media2(self) -> bool:
        """Whether calls go to Media2 (the device offers it: Profile T)."""
        return self._client.is_profile_t

    # ------------------------------------------------------------ profiles

    async def get_profiles(self) -> list[MediaProfile]:
        """Every profile with its video source and encoder configurations."""
        if self.uses_media2:
            payload = await self._client.call(ServiceKind.MEDIA2, media2.build_get_profiles())
            return media2.parse_get_profiles(payload)
        payload = await self._client.call(ServiceKind.MEDIA, media1.build_get_profiles())
        return media1.parse_get_profiles(payload)

    async def get_profile(self, token: str) -> MediaProfile:
        """One profile. Faults (``ter:NoProfile``) raise :class:`InvalidArgValue`;
        a Media2 answer with no profile in it raises :class:`RemoteProtocolError`."""
        if self.uses_media2:
            payload = await self._client.call(
                ServiceKind.MEDIA2, media2.build_get_profiles(token=token)
            )
            profiles = media2.parse_get_profiles(payload)
            if not profiles:
                raise RemoteProtocolError(
                    f"GetProfiles for token {token!r} answered no profile", operation="GetProfiles"
                )
            return profiles[0]
        payload = await self._client.call(ServiceKind.MEDIA, media1.build_get_profile(token))
        return media1.parse_get_profile(payload)

    async def create_profile(self, name: str, token: str | None = None) -> str:
        """Create an empty profile and return its token. ``token`` is only a wish
        (ver10 lets the client propose one; Media2 always picks its own)."""
        if self.uses_media2:
            payload = await self._client.call(ServiceKind.MEDIA2, media2.build_create_profile(name))
            return media2.parse_create_profile(payload)
        payload = await self._client.call(
            ServiceKind.MEDIA, media1.build_create_profile(name, token)
        )
        return media1.parse_create_profile(payload).token

    async def delete_profile(self, token: str) -> None:
        if self.uses_media2:
            await self._client.call(ServiceKind.MEDIA2, media2.build_delete_profile(token))
        else:
            await self._client.call(ServiceKind.MEDIA, media1.build_delete_profile(token))

    async def add_video_encoder_configuration(
        self, profile_token: str, configuration_token: str
    ) -> None:
        if self.uses_media2:
            request = media2.build_add_configuration(
                profile_token, [("VideoEncoder", configuration_token)]
            )
            await self._client.call(ServiceKind.MEDIA2, request)
        else:
            request = media1.build_add_video_encoder_configuration(
                profile_token, configuration_token
            )
            await self._client.call(ServiceKind.MEDIA, request)

    # ------------------------------------------------------------ sources and encoders

    async def get_video_sources(self) -> list[VideoSource]:
        """Always Media (ver10): Media2 has no GetVideoSources."""
        payload = await self._client.call(ServiceKind.MEDIA, media1.build_get_video_sources())
        return media1.parse_get_video_sources(payload)

    async def get_video_encoder_configurations(self) -> list[VideoEncoderConfiguration]:
        if self.uses_media2:
            payload = await self._client.call(
                ServiceKind.MEDIA2, media2.build_get_video_encoder_configurations()
            )
            return media2.parse_get_video_encoder_configurations(payload)
        payload = await self._client.call(
            ServiceKind.MEDIA, media1.build_get_video_encoder_configurations()
        )
        return media1.parse_get_video_encoder_configurations(payload)

    async def get_video_encoder_configuration_options(
        self, configuration_token: str | None = None, profile_token: str | None = None
    ) -> VideoEncoderConfigurationOptions:
        """What the camera accepts, for one configuration, one profile, or in general."""
        if self.uses_media2:
            request = media2.build_get_video_encoder_configuration_options(
                configuration_token, profile_token
            )
            payload = await self._client.call(ServiceKind.MEDIA2, request)
            return media2.parse_get_video_encoder_configuration_options(payload)
        request = media1.build_get_video_encoder_configuration_options(
            configuration_token, profile_token
        )
        payload = await self._client.call(ServiceKind.MEDIA, request)
        return media1.parse_get_video_encoder_configuration_options(payload)

    async def set_video_encoder_configuration(
        self,
        config: VideoEncoderConfiguration,
        *,
        force_persistence: bool = True,
        options: VideoEncoderConfigurationOptions | None = None,
    ) -> None:
        """Apply ``config``. With ``options`` (as the camera advertised them), a
        value outside them raises :class:`LocalProtocolError` naming the field and
        the allowed values before anything is sent. ``force_persistence`` only
        exists in ver10; Media2 always persists."""
        if options is not None:
            options.check(config)
        if self.uses_media2:
            await self._client.call(
                ServiceKind.MEDIA2, media2.build_set_video_encoder_configuration(config)
            )
        else:
            request = media1.build_set_video_encoder_configuration(
                config, force_persistence=force_persistence
            )
            await self._client.call(ServiceKind.MEDIA, request)

    # ------------------------------------------------------------ URIs

    async def get_stream_uri(
        self,
        profile_token: str,
        protocol: StreamProtocol = StreamProtocol.RTSP,
        *,
        rewrite_host: bool = True,
    ) -> StreamUri:
        """The RTSP URI of a profile's stream, its host pointed at the address we
        reached the device on unless ``rewrite_host`` is false.

        RTSPS needs Media2: on a Media-only device it raises
        :class:`LocalProtocolError`.
        """
        if self.uses_media2:
            payload = await self._client.call(
                ServiceKind.MEDIA2, media2.build_get_stream_uri(profile_token, protocol)
            )
            result = media2.parse_get_stream_uri(payload)
        else:
            transport = _MEDIA1_TRANSPORT.get(protocol)
            if transport is None:
                raise LocalProtocolError(
                    f"{protocol.value} streams need Media2, which this device does not offer"
                )
            request = media1.build_get_stream_uri(
                profile_token, stream=StreamType.RTP_UNICAST, transport=transport
            )
            payload = await self._client.call(ServiceKind.MEDIA, request)
            result = media1.parse_get_stream_uri(payload)
        if not rewrite_host:
            return result
        return replace(result, uri=rewrite_media_uri(result.uri, self._client.host))

    async def get_snapshot_uri(
        self, profile_token: str, *, rewrite_host: bool = True
    ) -> SnapshotUri:
        """The HTTP(S) URI of a profile's JPEG snapshot, host rewritten as for streams."""
        if self.uses_media2:
            payload = await self._client.call(
                ServiceKind.MEDIA2, media2.build_get_snapshot_uri(profile_token)
            )
            result = media2.parse_get_snapshot_uri(payload)
        else:
            payload = await self._client.call(
                ServiceKind.MEDIA, media1.build_get_snapshot_uri(profile_token)
            )
            result = media1.parse_get_snapshot_uri(payload)
        if not rewrite_host:
            return result
        return replace(result, uri=rewrite_media_uri(result.uri, self._client.host))
