"""Sans-IO SOAP: envelopes, faults, WS-Security and lenient value readers."""
