"""The period report's figures (DESIGN §8), as pure functions of plain case rows.

No database and no Flask here: ``report_data`` gathers the rows, this module
counts them, and the same ``Figures`` feed the PDF, its embedded JSON and the CSV.

What counts, exactly (the report prints the same rules):

- outcome: *granted* once approved (approved, active, revoked, expired), *refused*
  when rejected, *withdrawn* when cancelled (by the customer, or for want of a
  reply), *pending* otherwise (an appeal under review included);
- approval rate = granted / (granted + refused); revocation rate = revoked / granted;
- decision time = ``decided_at − submitted_at`` of the granted and refused; after
  an appeal the case holds the appeal's decision. Median: the middle value (the
  mean of the two middle ones, rounded down to the second); 90th percentile by
  nearest rank (the ⌈0.9·n⌉-th smallest);
- answer deadline met: decided at or before ``answer_due_at``; missed: decided
  after it, or undecided and past it at the report's moment;
- execution deadline met: applied in the network (activated) — or, for a refusal,
  decided — at or before ``execution_due_at``; missed: done after it, or not done
  and past it at the report's moment;
- not counted in a deadline: cases still within it, cases waiting for the
  customer (the clocks are paused), and cases closed without that step
  (withdrawn; granted but revoked or expired before being applied).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

STATUSES = ("submitted", "in_review", "awaiting_customer", "pending_second_approval",
            "approved", "active", "rejected", "appealed", "cancelled", "revoked", "expired")
CATEGORIES = ("own_mail_server", "smtp_application", "other")
GRANTED = frozenset({"approved", "active", "revoked", "expired"})
REFUSED = frozenset({"rejected"})
WITHDRAWN = frozenset({"cancelled"})
PAUSED = frozenset({"awaiting_customer"})


@dataclass(frozen=True)
class CaseRow:
    """One case as the report reads it (UTC datetimes)."""

    uf: str
    category: str
    status: str
    submitted_at: datetime
    decided_at: datetime | None
    answer_due_at: datetime
    execution_due_at: datetime
    activated_at: datetime | None = None
    appealed_at: datetime | None = None


@dataclass(frozen=True)
class Rate:
    """``part`` of ``whole``, with the percentage to one decimal (None when whole is 0)."""

    part: int
    whole: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.part / self.whole, 1) if self.whole else None


@dataclass(frozen=True)
class Durations:
    """Decision times in whole seconds."""

    count: int
    median: int | None
    p90: int | None


@dataclass(frozen=True)
class Deadline:
    met: int
    missed: int
    open: int  # still within the deadline, or paused
    not_applicable: int  # closed without that step

    @property
    def rate(self) -> Rate:
        return Rate(self.met, self.met + self.missed)


@dataclass(frozen=True)
class Appeals:
    total: int
    granted: int  # the refusal was reversed
    upheld: int  # refused again
    pending: int
    withdrawn: int


@dataclass(frozen=True)
class Figures:
    total: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_uf: dict[str, int]
    outcomes: dict[str, int]
    approval: Rate
    revocation: Rate
    decision_time: Durations
    answer_deadline: Deadline
    execution_deadline: Deadline
    appeals: Appeals


def outcome(status: str) -> str:
    """granted, refused, withdrawn or pending (see the module docstring)."""
    if status in GRANTED:
        return "granted"
    if status in REFUSED:
        return "refused"
    if status in WITHDRAWN:
        return "withdrawn"
    return "pending"


def appeal_outcome(status: str, appealed: bool) -> str | None:
    """What became of a case's appeal: granted, upheld, withdrawn, pending; None without one."""
    if not appealed:
        return None
    return {"refused": "upheld"}.get(outcome(status), outcome(status))


def median(values: Sequence[int]) -> int | None:
    """The middle value; for an even count the mean of the two middle ones, rounded down."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return None
    if n % 2:
        return ordered[n // 2]
    return (ordered[n // 2 - 1] + ordered[n // 2]) // 2


def percentile_nearest_rank(values: Sequence[int], percent: int) -> int | None:
    """The ⌈percent/100 · n⌉-th smallest value (nearest-rank method)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, -(-percent * len(ordered) // 100))
    return ordered[rank - 1]


def decision_seconds(row: CaseRow) -> int | None:
    """Whole seconds from submission to decision, for a granted or refused case."""
    if row.decided_at is None or outcome(row.status) not in ("granted", "refused"):
        return None
    return int((row.decided_at - row.submitted_at).total_seconds())


def answer_state(row: CaseRow, as_of: datetime) -> str:
    """met, missed, open or not_applicable for the answer deadline."""
    if row.decided_at is not None:
        return "met" if row.decided_at <= row.answer_due_at else "missed"
    return _undone(row, row.answer_due_at, as_of)


def execution_state(row: CaseRow, as_of: datetime) -> str:
    """met, missed, open or not_applicable for the execution deadline."""
    done = row.activated_at
    if done is None and outcome(row.status) == "refused":
        done = row.decided_at
    if done is not None:
        return "met" if done <= row.execution_due_at else "missed"
    if outcome(row.status) == "granted" and row.status != "approved":
        return "not_applicable"  # revoked or expired before it was ever applied
    return _undone(row, row.execution_due_at, as_of)


def _undone(row: CaseRow, due: datetime, as_of: datetime) -> str:
    if row.status in WITHDRAWN:
        return "not_applicable"
    if row.status in PAUSED:
        return "open"  # the clock is stopped while the customer is asked
    return "missed" if as_of > due else "open"


def _deadline(states: Iterable[str]) -> Deadline:
    counts = Counter(states)
    return Deadline(counts["met"], counts["missed"], counts["open"], counts["not_applicable"])


def _appeals(rows: Sequence[CaseRow]) -> Appeals:
    counts = Counter(appeal_outcome(r.status, True) for r in rows if r.appealed_at)
    return Appeals(sum(counts.values()), counts["granted"], counts["upheld"],
                   counts["pending"], counts["withdrawn"])


def figures(rows: Sequence[CaseRow], as_of: datetime) -> Figures:
    """Every figure of the report for ``rows``, deadlines judged at ``as_of``."""
    statuses = Counter(r.status for r in rows)
    outcomes = Counter(outcome(r.status) for r in rows)
    times = [s for s in map(decision_seconds, rows) if s is not None]
    return Figures(
        total=len(rows),
        by_status={s: statuses[s] for s in STATUSES},
        by_category={c: sum(r.category == c for r in rows) for c in CATEGORIES},
        by_uf=dict(sorted(Counter(r.uf for r in rows).items())),
        outcomes={o: outcomes[o] for o in ("granted", "refused", "withdrawn", "pending")},
        approval=Rate(outcomes["granted"], outcomes["granted"] + outcomes["refused"]),
        revocation=Rate(statuses["revoked"], outcomes["granted"]),
        decision_time=Durations(len(times), median(times),
                                percentile_nearest_rank(times, 90)),
        answer_deadline=_deadline(answer_state(r, as_of) for r in rows),
        execution_deadline=_deadline(execution_state(r, as_of) for r in rows),
        appeals=_appeals(rows),
    )


def as_dict(f: Figures) -> dict:
    """The figures as plain JSON values: one level of sections, each a number or a mapping."""
    def deadline(d: Deadline) -> dict:
        return {"met": d.met, "missed": d.missed, "open": d.open,
                "not_applicable": d.not_applicable, "percent_met": d.rate.percent}

    return {
        "total": f.total, "by_status": f.by_status, "by_category": f.by_category,
        "by_uf": f.by_uf, "outcomes": f.outcomes,
        "approval_rate": {"granted": f.approval.part, "decided": f.approval.whole,
                          "percent": f.approval.percent},
        "revocation_rate": {"revoked": f.revocation.part, "granted": f.revocation.whole,
                            "percent": f.revocation.percent},
        "decision_time_seconds": {"count": f.decision_time.count,
                                  "median": f.decision_time.median,
                                  "p90": f.decision_time.p90},
        "answer_deadline": deadline(f.answer_deadline),
        "execution_deadline": deadline(f.execution_deadline),
        "appeals": {"total": f.appeals.total, "granted": f.appeals.granted,
                    "upheld": f.appeals.upheld, "pending": f.appeals.pending,
                    "withdrawn": f.appeals.withdrawn},
    }
