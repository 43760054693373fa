"""Binding the UDP port pair RTP over UDP needs, for the client and the server alike.

RTP goes to an even port and its RTCP to the odd port just above it (RFC 3550
11): bind a free port, keep it when it is even and the next one is free too,
else try again.
"""

from __future__ import annotations

import socket

__all__ = ["bind_port_pair"]

#: Attempts before giving up (each binds one ephemeral port, so success is quick).
_ATTEMPTS = 64


def bind_port_pair(host: str) -> tuple[socket.socket, socket.socket, int]:
    """Two UDP sockets bound on ``host``: RTP on an even port, RTCP on the next one,
    and the RTP port number. Raises ``OSError`` when no such pair is free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(_ATTEMPTS):
        rtp_sock = socket.socket(family, socket.SOCK_DGRAM)
        rtcp_sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            rtp_sock.bind((host, 0))
            number = int(rtp_sock.getsockname()[1])
            if number % 2 or number == 65535:
                raise OSError("odd RTP port")
            rtcp_sock.bind((host, number + 1))
        except OSError:
            rtp_sock.close()
            rtcp_sock.close()
            continue
        return rtp_sock, rtcp_sock, number
    raise OSError("no free even/odd UDP port pair for RTP")
