"""The period report's statistics on known rows: counts, rates, median and 90th
percentile of the decision time, deadlines met by the documented rules, appeals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflow.records import statistics
from workflow.records.statistics import CaseRow

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
AS_OF = T0 + timedelta(days=10)
H, D = timedelta(hours=1), timedelta(days=1)


def row(status, *, uf="SP", category="own_mail_server", decided=None, activated=None,
        appealed=None, answer_due=7 * D, execution_due=14 * D) -> CaseRow:
    """A case submitted at T0; times are offsets from T0."""
    def at(offset):
        return None if offset is None else T0 + offset
    return CaseRow(uf=uf, category=category, status=status, submitted_at=T0,
                   decided_at=at(decided), answer_due_at=T0 + answer_due,
                   execution_due_at=T0 + execution_due, activated_at=at(activated),
                   appealed_at=at(appealed))


# Ten cases whose every figure is worked out by hand in the comments.
ROWS = [
    row("active", decided=1 * H, activated=2 * H),                      # 1 granted
    row("rejected", uf="RJ", category="other", decided=3 * H),           # 2 refused
    row("expired", decided=8 * D, activated=15 * D),                    # 3 late twice
    row("revoked", category="smtp_application", decided=2 * H),         # 4 never applied
    row("cancelled"),                                                   # 5 withdrawn
    row("awaiting_customer", answer_due=1 * D, execution_due=2 * D),    # 6 paused
    row("in_review", uf="RJ", answer_due=5 * D, execution_due=20 * D),  # 7 late answer
    row("appealed", appealed=9 * D, answer_due=16 * D, execution_due=23 * D),  # 8
    row("rejected", decided=20 * D, appealed=9 * D, answer_due=25 * D,
        execution_due=30 * D),                                          # 9 upheld
    row("active", decided=30 * D, activated=30 * D + H, appealed=9 * D,
        answer_due=32 * D, execution_due=40 * D),                       # 10 reversed
]


@pytest.fixture(scope="module")
def figures():
    return statistics.figures(ROWS, AS_OF)


def test_counts_by_status_category_and_uf(figures):
    assert figures.total == 10
    assert figures.by_status == {
        "submitted": 0, "in_review": 1, "awaiting_customer": 1, "pending_second_approval": 0,
        "approved": 0, "active": 2, "rejected": 2, "appealed": 1, "cancelled": 1,
        "revoked": 1, "expired": 1}
    assert figures.by_category == {"own_mail_server": 8, "smtp_application": 1, "other": 1}
    assert figures.by_uf == {"RJ": 2, "SP": 8}
    assert figures.outcomes == {"granted": 4, "refused": 2, "withdrawn": 1, "pending": 3}


def test_approval_and_revocation_rates(figures):
    assert (figures.approval.part, figures.approval.whole) == (4, 6)
    assert figures.approval.percent == 66.7
    assert (figures.revocation.part, figures.revocation.whole) == (1, 4)
    assert figures.revocation.percent == 25.0


def test_decision_time_median_and_90th_percentile(figures):
    # Decided: 1 h, 3 h, 8 d, 2 h, 20 d, 30 d → sorted 1 h, 2 h, 3 h, 8 d, 20 d, 30 d.
    assert figures.decision_time.count == 6
    assert figures.decision_time.median == (3 * 3600 + 8 * 86400) // 2 == 351000
    assert figures.decision_time.p90 == 30 * 86400  # rank ⌈0.9 · 6⌉ = 6


def test_answer_deadline(figures):
    # met: 1, 2, 4, 9, 10; missed: 3 (decided on day 8), 7 (undecided past day 5);
    # open: 6 (paused), 8 (appeal within its new deadline); not counted: 5 (cancelled).
    d = figures.answer_deadline
    assert (d.met, d.missed, d.open, d.not_applicable) == (5, 2, 2, 1)
    assert d.rate.percent == 71.4


def test_execution_deadline(figures):
    # met: 1 (applied in 2 h), 2 and 9 (refusals decided in time), 10; missed: 3 (applied
    # on day 15 > 14); open: 6, 7, 8; not counted: 4 (revoked before applied), 5.
    d = figures.execution_deadline
    assert (d.met, d.missed, d.open, d.not_applicable) == (4, 1, 3, 2)
    assert d.rate.percent == 80.0


def test_appeals_and_their_outcomes(figures):
    a = figures.appeals
    assert (a.total, a.granted, a.upheld, a.pending, a.withdrawn) == (3, 1, 1, 1, 0)


@pytest.mark.parametrize(("execution_due", "state"), [(5 * D, "missed"), (20 * D, "open")])
def test_an_approval_not_yet_applied_is_judged_by_the_clock(execution_due, state):
    case = row("approved", decided=1 * H, execution_due=execution_due)
    assert statistics.execution_state(case, AS_OF) == state
    assert statistics.answer_state(case, AS_OF) == "met"


def test_a_deadline_met_to_the_second_counts_as_met():
    case = row("rejected", decided=7 * D, answer_due=7 * D, execution_due=7 * D)
    assert statistics.answer_state(case, AS_OF) == "met"
    assert statistics.execution_state(case, AS_OF) == "met"


@pytest.mark.parametrize(("values", "median", "p90"), [
    ([], None, None),
    ([5], 5, 5),
    ([3, 1, 2], 2, 3),
    ([1, 2], 1, 2),  # (1 + 2) // 2, rounded down to the second
    (list(range(1, 11)), 5, 9),  # rank ⌈9⌉ = 9
    (list(range(1, 12)), 6, 10),  # rank ⌈9.9⌉ = 10
    (list(range(1, 101)), 50, 90),
])
def test_median_and_nearest_rank_percentile(values, median, p90):
    assert statistics.median(values) == median
    assert statistics.percentile_nearest_rank(values, 90) == p90


def test_nothing_to_count_gives_zeros_and_no_rates():
    empty = statistics.figures([], AS_OF)
    assert empty.total == 0 and set(empty.by_status.values()) == {0}
    assert empty.approval.percent is None and empty.revocation.percent is None
    assert empty.decision_time == statistics.Durations(0, None, None)
    assert empty.by_uf == {}


def test_the_figures_as_plain_values(figures):
    data = statistics.as_dict(figures)
    assert data["approval_rate"] == {"granted": 4, "decided": 6, "percent": 66.7}
    assert data["decision_time_seconds"] == {"count": 6, "median": 351000, "p90": 2592000}
    assert data["answer_deadline"]["percent_met"] == 71.4
    assert data["appeals"] == {"total": 3, "granted": 1, "upheld": 1, "pending": 1,
                               "withdrawn": 0}
