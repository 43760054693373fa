"""Frozen dataclasses for ONVIF types, shared by the client and the reference device.

Each model reads itself with ``from_xml(element)`` and, where the device answers
with it, writes itself with ``to_xml(parent)``; the two round-trip.
"""
