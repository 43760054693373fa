"""The reference ONVIF device: SOAP services, discovery responder, RTSP source and snapshots."""
