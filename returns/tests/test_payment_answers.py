"""What a refund endpoint answers is read defensively: deeply nested JSON is no answer, not a crash."""

from returns import payments


def test_a_deeply_nested_answer_reads_as_no_answer():
    assert payments._json("[" * 5000 + "]" * 5000) == {}
    assert payments._json('{"reference": "R-1"}') == {"reference": "R-1"}
