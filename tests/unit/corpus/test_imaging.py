"""Imaging (timg) parsers against captured real-camera answers.

``CASES`` holds, per capture, the value its parser must return, written down by
reading the file (tests/corpus/SOURCES.md says where each came from).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lxml import etree

import tests.corpus
from platonicam.onvif.errors import LocalProtocolError
from platonicam.onvif.models.common import FloatRange
from platonicam.onvif.models.imaging import ImagingOptions, ImagingSettings
from platonicam.onvif.services import imaging as ops
from platonicam.onvif.soap.namespaces import local_name

CASES: dict[str, object] = {
    # Bosch firmware 8.71.0066 reports only these three, as decimals with two
    # places; its envelope also carries bogus "_xmlns:" attributes that must not
    # get in the way.
    "imaging/bosch_FLEXIDOME-indoor-5100i-IR_GetImagingSettings.xml": ImagingSettings(
        brightness=128.0, color_saturation=128.0, contrast=128.0
    ),
    "imaging/generic-gsoap_PREDATOR-mockup_GetOptions.xml": ImagingOptions(
        brightness=FloatRange(0.0, 255.0),
        color_saturation=FloatRange(0.0, 255.0),
        contrast=FloatRange(0.0, 255.0),
    ),
}

PARSERS: dict[str, Callable[[etree._Element], object]] = {
    "GetImagingSettings": ops.parse_get_imaging_settings,
    "GetOptions": ops.parse_get_options,
}


def test_cases_cover_the_imaging_folder() -> None:
    on_disk = {p for p in tests.corpus.all_capture_paths() if p.startswith("imaging/")}
    assert set(CASES) == on_disk


@pytest.mark.parametrize(("path", "expected"), list(CASES.items()), ids=tests.corpus.ids(CASES))
def test_capture(path: str, expected: object) -> None:
    operation = tests.corpus.capture(path).operation
    payload = tests.corpus.payload(path)
    assert local_name(payload.tag) == f"{operation}Response"
    assert PARSERS[operation](payload) == expected


def test_options_from_the_capture_refuse_a_brightness_above_255() -> None:
    options = ops.parse_get_options(
        tests.corpus.payload("imaging/generic-gsoap_PREDATOR-mockup_GetOptions.xml")
    )
    options.check(ImagingSettings(brightness=255.0, contrast=0.0))
    with pytest.raises(
        LocalProtocolError, match=r"brightness 256 is outside the camera's range 0\.\.255"
    ):
        options.check(ImagingSettings(brightness=256.0))
