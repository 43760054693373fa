"""The web UI's static files (``static/``), served by the service; no build step."""
