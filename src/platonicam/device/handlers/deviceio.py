"""DeviceIO service (``tmd``) handlers: relay outputs and digital inputs.

Relays are driven by SetRelayOutputState here or in the device service (both
exist in ONVIF); a change is stored in ``io.yaml`` and raised as a
``tns1:Device/Trigger/Relay`` event.
"""

from __future__ import annotations

from lxml import etree

from platonicam.device.faults import invalid_arg
from platonicam.device.handlers.base import Registry, Request, arg
from platonicam.device.security import AccessClass
from platonicam.onvif.soap.build import sub
from platonicam.onvif.soap.namespaces import TMD, qn

registry = Registry(TMD)
Element = etree._Element


def set_relay_state(request: Request, token: str, logical_state: str) -> None:
    """Set relay ``token`` to ``active`` or ``inactive`` (``InvalidArgVal`` otherwise)."""
    state = request.device.state
    record = next((r for r in state.io.relays if r.relay.token == token), None)
    if record is None:
        raise invalid_arg(f"no relay output {token!r}", "RelayToken")
    value = logical_state.strip().lower()
    if value not in ("active", "inactive"):
        raise invalid_arg(f"relay logical state {logical_state!r} is neither active nor inactive")
    record.active = value == "active"
    state.save("io")
    request.device.events.fire("relay", record.active, source=token)


@registry.op("GetServiceCapabilities", AccessClass.PRE_AUTH)
async def get_service_capabilities(request: Request, payload: Element) -> Element:
    io = request.device.state.io
    # One audio input per video channel when the streams carry sound.
    audio_sources = request.device.state.channels if request.device.options.audio else 0
    response = registry.response("GetServiceCapabilities")
    sub(
        response,
        TMD,
        "Capabilities",
        VideoSources=str(request.device.state.channels),
        VideoOutputs="0",
        AudioSources=str(audio_sources),
        AudioOutputs="0",
        RelayOutputs=str(len(io.relays)),
        SerialPorts="0",
        DigitalInputs=str(len(io.inputs)),
        DigitalInputOptions="true",
    )
    return response


@registry.op("GetRelayOutputs", AccessClass.READ_SYSTEM)
async def get_relay_outputs(request: Request, payload: Element) -> Element:
    response = registry.response("GetRelayOutputs")
    for record in request.device.state.io.relays:
        # Same type as the device service's answer, in this service's namespace.
        record.relay.to_xml(response).tag = qn(TMD, "RelayOutputs")
    return response


@registry.op("SetRelayOutputState", AccessClass.ACTUATE)
async def set_relay_output_state(request: Request, payload: Element) -> Element:
    set_relay_state(request, arg(payload, "RelayOutputToken"), arg(payload, "LogicalState"))
    return registry.response("SetRelayOutputState")


@registry.op("GetDigitalInputs", AccessClass.READ_SYSTEM)
async def get_digital_inputs(request: Request, payload: Element) -> Element:
    response = registry.response("GetDigitalInputs")
    for digital_input in request.device.state.io.inputs:
        sub(
            response,
            TMD,
            "DigitalInputs",
            token=digital_input.token,
            IdleState=digital_input.idle_state.value,
        )
    return response
