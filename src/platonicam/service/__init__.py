"""The service face: ``platonicam serve`` (REST API, web UI, media gateway, job runner).

Import-light on purpose: importing this package pulls in nothing but the
standard library. ``service/app.py`` (``create_app``) is the one composition
root; the apply engine (plan, apply, verify, roll back) lives in
:mod:`platonicam.service.jobs`.
"""
