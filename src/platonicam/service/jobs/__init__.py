"""The apply engine: plan, apply, read back, verify, roll back.

- :mod:`~platonicam.service.jobs.model`: desired settings, jobs, steps and
  results as frozen dataclasses, with the REST JSON conversions (pure);
- :mod:`~platonicam.service.jobs.plan`: the diff against the camera's current
  values and the check against its options, and the read-back verification (pure);
- :mod:`~platonicam.service.jobs.runner`: :class:`ApplyRunner`, which runs jobs
  against cameras (asyncio, one apply per camera at a time);
- :mod:`~platonicam.service.jobs.store`: the :class:`JobStore` protocol and an
  in-memory store (the service's SQL store implements the same protocol);
- :mod:`~platonicam.service.jobs.errors`: the error tree.

Import the modules themselves: this package imports nothing, so the store
layer can read the model without pulling in the ONVIF client.
"""
