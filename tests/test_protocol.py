"""Protocol numbers (DESIGN §3, contract): YYYY + 8-digit yearly sequence + check digit.

The check digit is CPF's: weights 2, 3, …, 13 on the 12 digits from the right,
r = sum mod 11, digit 0 when r < 2, else 11 − r. Worked by hand below.
"""

from __future__ import annotations

import pytest

from models import db, utcnow
from tests.factories import make_case, make_people
from workflow.errors import Conflict
from workflow.protocol import check_digit, format_protocol, is_valid, next_protocol

# body, the weighted sum written out, the check digit
BY_HAND = [
    # 2·1 + 10·6 + 11·2 + 13·2 = 110; 110 mod 11 = 0 → 0
    ("202600000001", 110, "0"),
    # 2·5 + 10·6 + 11·2 + 13·2 = 118; 118 mod 11 = 8 → 11 − 8 = 3
    ("202600000005", 118, "3"),
    # 2·3 + 3·2 + 4·1 + 10·6 + 11·2 + 13·2 = 124; 124 mod 11 = 3 → 8
    ("202600000123", 124, "8"),
    # 2·2 + 3·1 + 10·6 + 11·2 + 13·2 = 115; 115 mod 11 = 5 → 6
    ("202600000012", 115, "6"),
    # 2·2 + 10·7 + 11·2 + 13·2 = 122; 122 mod 11 = 1 → 0 (r < 2)
    ("202700000002", 122, "0"),
    # 2·9 + 3·9 + … + 9·9 + 10·9 + 11·9 + 12·9 + 13·9 = 9·90 = 810; 810 mod 11 = 7 → 4
    ("999999999999", 810, "4"),
]


@pytest.mark.parametrize(("body", "weighted_sum", "digit"), BY_HAND)
def test_the_check_digit_is_computed_as_cpfs(body, weighted_sum, digit):
    weights = range(2, 14)  # from the right
    assert sum(int(d) * w for d, w in zip(reversed(body), weights, strict=True)) == weighted_sum
    assert check_digit(body) == digit


@pytest.mark.parametrize(("year", "sequence", "protocol"), [
    (2026, 1, "2026000000010"),
    (2026, 5, "2026000000053"),
    (2026, 123, "2026000001238"),
    (2027, 2, "2027000000020"),
    (2026, 99_999_999, "2026999999992"),
])
def test_a_protocol_is_the_year_the_sequence_and_the_check_digit(year, sequence, protocol):
    assert format_protocol(year, sequence) == protocol
    assert len(protocol) == 13 and is_valid(protocol)


def single_digit_typos(protocol: str):
    for i, original in enumerate(protocol):
        for digit in "0123456789":
            if digit != original:
                yield i, protocol[:i] + digit + protocol[i + 1:]


@pytest.mark.parametrize("protocol", ["2026000001238", "2026000000053", "2026000000428"])
def test_a_one_digit_typo_is_caught(protocol):
    assert is_valid(protocol)
    missed = [(i, typo) for i, typo in single_digit_typos(protocol) if is_valid(typo)]
    # The contract's one blind spot when the check digit is not 0: the third digit has
    # weight 11 ≡ 0 (mod 11), so 2026 ↔ 2036 goes unnoticed; it lies in the year.
    assert {i for i, _ in missed} <= {2}


def test_a_check_digit_of_zero_also_hides_some_typos():
    """r = 0 and r = 1 both give 0: a typo that moves r between them is not caught.

    This is CPF's rule as the contract asks, written down so nobody relies on more.
    """
    missed = [typo for i, typo in single_digit_typos("2026000000010") if is_valid(typo) and i != 2]
    assert missed and all(typo.endswith("0") for typo in missed)


@pytest.mark.parametrize("text", [
    "", "2026000000011", "202600000001", "20260000000100", "2026-00000001-0",
    " 2026000000010", "2026000000010\n", "abcdefghijklm", "¹026000000010",
    "２０２６０００００００１０", "٢٠٢٦٠٠٠٠٠٠٠١٠",
])
def test_anything_but_thirteen_ascii_digits_with_the_right_check_is_invalid(text):
    assert is_valid(text) is False


def test_sequences_run_per_year_and_never_repeat(app):
    with app.app_context():
        issued = [next_protocol(2031), next_protocol(2031), next_protocol(2032),
                  next_protocol(2031)]
        db.session.commit()
    assert issued == [format_protocol(2031, 1), format_protocol(2031, 2),
                      format_protocol(2032, 1), format_protocol(2031, 3)]


def test_a_refused_submission_does_not_use_up_a_number(app):
    people = make_people(app, "customer", "stranger")
    first = make_case(app, people.customer, target="203.0.113.77")
    with pytest.raises(Conflict):
        make_case(app, people.stranger, target="203.0.113.77")
    second = make_case(app, people.stranger, target="203.0.113.78")
    year = utcnow().year
    assert [first, second] == [format_protocol(year, 1), format_protocol(year, 2)]
