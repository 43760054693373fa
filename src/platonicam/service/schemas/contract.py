"""The base of the original REST contract's shapes, whose keys are mixed.

The PlatoniCam integration that clients already call writes some keys in
snake_case (``discovered_at``, ``video_encoders``, ``job_id``) and some in
camelCase (``scanDuration``, ``cameraId``). Models here keep the Python name as
the key unless a field declares an alias, so each shape reads exactly as the
contract writes it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ContractModel(BaseModel):
    """Keys as declared (aliases where the contract is camelCase); unknown input refused."""

    model_config = ConfigDict(
        populate_by_name=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
    )
