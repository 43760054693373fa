"""One repository per aggregate; each method is one transaction and returns frozen records."""

from platonicam.store.repositories.audit import AuditRepository
from platonicam.store.repositories.cameras import CameraRepository
from platonicam.store.repositories.users import RefreshTokenRepository, UserRepository

__all__ = ["AuditRepository", "CameraRepository", "RefreshTokenRepository", "UserRepository"]
