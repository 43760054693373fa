"""Sans-IO request builders and response parsers, one module per ONVIF service.

``build_<operation>(...)`` returns the request element; ``parse_<operation>(payload)``
takes the response element (the SOAP body's first child) and returns models.
Neither does I/O; :mod:`platonicam.onvif.client` sends them.
"""
