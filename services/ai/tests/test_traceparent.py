import pytest

from in_child import timed_in_child
from ai_service.traceparent import trace_id_of

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_valid_version_00_header_gives_its_trace_id():
    assert trace_id_of(f"00-{TRACE}-00f067aa0ba902b7-01") == TRACE


def test_a_later_version_may_carry_more_fields():
    assert trace_id_of(f"01-{TRACE}-00f067aa0ba902b7-01-what-comes-next") == TRACE


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        f"00-{TRACE.upper()}-00f067aa0ba902b7-01",  # upper-case hex
        f"00-{'0' * 32}-00f067aa0ba902b7-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero parent id
        f"ff-{TRACE}-00f067aa0ba902b7-01",  # version ff
        f"00-{TRACE}-00f067aa0ba902b7-01-extra",  # version 00 with trailing data
        f"00-{TRACE[:-1]}-00f067aa0ba902b7-01",  # short trace id
        f"00-{TRACE}-00f067aa0ba902b-01",  # short parent id
        f"00-{TRACE}-00f067aa0ba902b7-1",  # short flags
        f"00-{TRACE}-00f067aa0ba902b7-01\n",  # a line break
        f"00_{TRACE}_00f067aa0ba902b7_01",
        f"00-{TRACE[:-1]}g-00f067aa0ba902b7-01",  # not hex
    ],
)
def test_a_malformed_header_gives_none(header):
    assert trace_id_of(header) is None


def test_a_long_header_is_checked_in_linear_time():
    results = timed_in_child(
        "from ai_service.traceparent import trace_id_of",
        {
            "long tail": (f"'01-{TRACE}-00f067aa0ba902b7-01-' + '-' * MIB", "trace_id_of(text)"),
            "long hex": ("'0' * MIB", "trace_id_of(text)"),
            "repeated prefix": (f"'01-{TRACE}-' * (MIB // 36)", "trace_id_of(text)"),
        },
        timeout=30,
    )
    assert [value for _, value in results.values()] == [TRACE, None, None]
    assert all(seconds < 2 for seconds, _ in results.values()), results
