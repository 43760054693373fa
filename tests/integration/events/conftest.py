"""Real mosquitto brokers for the MQTT tests (Debian's ``mosquitto`` package).

- ``broker`` (session): anonymous, a plain and a TLS listener on 127.0.0.1,
  the TLS one with a certificate from the ``tls_ca`` trustme CA.
- ``auth_broker`` (session): refuses anonymous clients; one user, from a
  ``mosquitto_passwd`` file (see :data:`BROKER_USER`).
- ``fresh_broker`` (per test): a broker of its own, for tests that stop and
  restart it; it keeps sessions across restarts (``persistence true``), so a
  test's persistent subscriber misses nothing while the broker is down.

Brokers are stopped when their scope ends. When mosquitto cannot start, every
test that needs it fails with mosquitto's reason; nothing is skipped.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.integration.events.mosquitto import BrokerError, Mosquitto, TlsFiles

BROKER_USER = "platonicam"
# Characters that need percent-encoding in a URL, on purpose.
BROKER_PASSWORD = "s3cret:p@ss/word"


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def tls_files(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    folder = tmp_path_factory.mktemp("mqtt-tls")
    server = tls_ca.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(ca=folder / "ca.pem", cert=folder / "server.pem", key=folder / "server.key")
    tls_ca.cert_pem.write_to_path(str(files.ca))
    server.private_key_pem.write_to_path(str(files.key))
    files.cert.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    return files


@pytest.fixture(scope="session")
def client_tls_context(tls_ca: trustme.CA) -> ssl.SSLContext:
    """A verifying client context that trusts the test CA (and nothing else)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls_ca.configure_trust(context)
    return context


def _started(
    folder: Path,
    *,
    users: dict[str, str] | None = None,
    tls: TlsFiles | None = None,
    persistent: bool = False,
) -> Mosquitto:
    try:
        broker = Mosquitto(folder, users=users, tls=tls, persistent=persistent)
        broker.start()
    except (BrokerError, OSError) as exc:
        pytest.fail(f"cannot start mosquitto: {exc}", pytrace=False)
    return broker


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory, tls_files: TlsFiles) -> Iterator[Mosquitto]:
    instance = _started(tmp_path_factory.mktemp("mosquitto"), tls=tls_files)
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def auth_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    instance = _started(
        tmp_path_factory.mktemp("mosquitto-auth"), users={BROKER_USER: BROKER_PASSWORD}
    )
    yield instance
    instance.stop()


@pytest.fixture
def fresh_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    instance = _started(tmp_path / "mosquitto", persistent=True)
    yield instance
    instance.stop()
