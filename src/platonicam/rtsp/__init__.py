"""RTSP/RTP: a sans-IO message and SDP core, H.264/H.265 (de)packetizers, and asyncio shells."""
