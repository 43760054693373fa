"""PlatoniCam: an open camera platform on ONVIF.

Importing the package is cheap on purpose; the faces live in sub-packages:
``platonicam.onvif`` (the async ONVIF client) and ``platonicam.discovery``
(WS-Discovery).
"""

__version__ = "0.1.0"
