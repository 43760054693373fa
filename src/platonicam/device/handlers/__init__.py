"""SOAP operation handlers, one module per ONVIF service (mirroring ``onvif/services``).

Each module has a :class:`~platonicam.device.handlers.base.Registry` named
``registry``; :data:`platonicam.device.handlers.catalog.ALL_OPERATIONS` is
every operation the device answers.
"""
