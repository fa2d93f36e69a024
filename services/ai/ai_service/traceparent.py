"""The trace id of a W3C `traceparent` header (https://www.w3.org/TR/trace-context/).

Validated by the same rules as spur's TraceContext::adopt, so the AI service and
spur-app agree on which headers carry a trace: lowercase hex only, version
`ff` invalid, trace id and parent id not all zeros, and a version-00 header
exactly `00-<32 hex>-<16 hex>-<2 hex>`; a later version may append fields
after another `-`.
"""

from __future__ import annotations

import re

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.DOTALL)


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id of a valid `traceparent`, None for a missing or malformed one."""
    if traceparent is None:
        return None
    match = _TRACEPARENT.fullmatch(traceparent)
    if match is None:
        return None
    version, trace_id, parent_id, _flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    return trace_id
