"""Registered cameras; passwords encrypted on the way in, decrypted only on request."""

from __future__ import annotations

import uuid
from dataclasses import fields

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from platonicam.clock import Clock
from platonicam.store.records import CameraChanges, CameraCredentials, CameraRecord, NewCamera
from platonicam.store.repositories.errors import ConflictError, NotFoundError
from platonicam.store.secrets import CredentialCipher
from platonicam.store.tables import CameraRow, GrantRow

# Plain columns CameraChanges can set (the password is handled on its own).
_PLAIN_FIELDS = tuple(
    f.name for f in fields(CameraChanges) if f.name not in {"password", "clear_password", "scopes"}
)


def _record(row: CameraRow) -> CameraRecord:
    return CameraRecord(
        id=row.id,
        name=row.name,
        host=row.host,
        port=row.port,
        use_https=row.use_https,
        verify_tls=row.verify_tls,
        ca_cert_pem=row.ca_cert_pem,
        username=row.username,
        has_password=row.password_encrypted is not None,
        manufacturer=row.manufacturer,
        model=row.model,
        firmware_version=row.firmware_version,
        serial_number=row.serial_number,
        hardware_id=row.hardware_id,
        mac_address=row.mac_address,
        scopes=tuple(row.scopes or ()),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class CameraRepository:
    """Cameras by id. One camera per ``host:port`` (adding it twice is a conflict)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cipher: CredentialCipher, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._clock = clock

    async def create(self, camera: NewCamera) -> CameraRecord:
        """Register ``camera`` (a fresh id unless it names one); :class:`ConflictError`
        when its id or address is already registered."""
        now = self._clock.now()
        camera_id = camera.id or f"cam-{uuid.uuid4().hex[:12]}"
        row = CameraRow(
            id=camera_id,
            name=camera.name,
            host=camera.host,
            port=camera.port,
            use_https=camera.use_https,
            verify_tls=camera.verify_tls,
            ca_cert_pem=camera.ca_cert_pem,
            username=camera.username,
            password_encrypted=(
                self._cipher.encrypt(camera.password) if camera.password is not None else None
            ),
            manufacturer=camera.manufacturer,
            model=camera.model,
            firmware_version=camera.firmware_version,
            serial_number=camera.serial_number,
            hardware_id=camera.hardware_id,
            mac_address=camera.mac_address,
            scopes=list(camera.scopes),
            created_at=now,
            updated_at=now,
        )
        async with self._sessions.begin() as session:
            session.add(row)
            try:
                await session.flush()
            except IntegrityError:
                raise ConflictError(
                    f"a camera at {camera.host}:{camera.port} (or with id {camera_id!r}) "
                    "is already registered"
                ) from None
            return _record(row)

    async def get(self, camera_id: str) -> CameraRecord | None:
        async with self._sessions() as session:
            row = await session.get(CameraRow, camera_id)
            return _record(row) if row is not None else None

    async def require(self, camera_id: str) -> CameraRecord:
        """The camera, or :class:`NotFoundError`."""
        camera = await self.get(camera_id)
        if camera is None:
            raise NotFoundError("camera", camera_id)
        return camera

    async def list(self, ids: frozenset[str] | None = None) -> list[CameraRecord]:
        """All cameras by name, or only those in ``ids`` (a user's grants)."""
        query = select(CameraRow).order_by(CameraRow.name, CameraRow.id)
        if ids is not None:
            if not ids:
                return []
            query = query.where(CameraRow.id.in_(sorted(ids)))
        async with self._sessions() as session:
            return [_record(row) for row in (await session.scalars(query)).all()]

    async def credentials(self, camera_id: str) -> CameraCredentials:
        """The decrypted username and password, for connecting to the camera.

        Raises :class:`NotFoundError`, or ``SecretsError`` when the key changed.
        """
        async with self._sessions() as session:
            row = await session.get(CameraRow, camera_id)
            if row is None:
                raise NotFoundError("camera", camera_id)
            username, token = row.username, row.password_encrypted
        password = self._cipher.decrypt(token) if token is not None else None
        return CameraCredentials(username=username, password=password)

    async def update(self, camera_id: str, changes: CameraChanges) -> CameraRecord:
        """Apply ``changes`` (``None`` fields untouched); :class:`NotFoundError`, or
        :class:`ConflictError` when the new address belongs to another camera."""
        if changes.clear_password and changes.password is not None:
            raise ValueError("clear_password and a new password exclude each other")
        async with self._sessions.begin() as session:
            row = await session.get(CameraRow, camera_id)
            if row is None:
                raise NotFoundError("camera", camera_id)
            for name in _PLAIN_FIELDS:
                value = getattr(changes, name)
                if value is not None:
                    setattr(row, name, value)
            if changes.scopes is not None:
                row.scopes = list(changes.scopes)
            if changes.password is not None:
                row.password_encrypted = self._cipher.encrypt(changes.password)
            elif changes.clear_password:
                row.password_encrypted = None
            row.updated_at = self._clock.now()
            # Read before flushing: after a failed flush the row's attributes are expired.
            address = f"{row.host}:{row.port}"
            try:
                await session.flush()
            except IntegrityError:
                raise ConflictError(f"another camera is already registered at {address}") from None
            return _record(row)

    async def delete(self, camera_id: str) -> None:
        """Remove the camera and every grant on it; :class:`NotFoundError` if absent."""
        async with self._sessions.begin() as session:
            row = await session.get(CameraRow, camera_id)
            if row is None:
                raise NotFoundError("camera", camera_id)
            await session.delete(row)
            await session.execute(delete(GrantRow).where(GrantRow.camera_id == camera_id))
