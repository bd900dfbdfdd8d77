"""The status of one expected observation at a moment, from the evidence in the catalog.

    released     a matched product is public: first public date and latency in days
    exclusive    matched products are in the catalog (metadata public) but embargoed until D,
                 or embargoed with no date stated (a placeholder like 2099-01-01): never overdue,
                 since the archive holds the products, and the reason says whether the nominal
                 due date has passed
    pending      nothing public yet, not past the due date
    overdue      nothing public and past the due date
    not_watched  nothing public and no harvested source covers its archive: never overdue
    unconfirmed  a rumoured or proposed observation: listed, never flagged

Due date: the earliest release date an archive states for a matched product (MAST
t_obs_release, PSA release_date, ObsCore obs_release_date); else the end of the observation
window plus the nominal latency of its release policy (the upper end of a range).

Evaluating "as of" a moment D uses the archive's own dates, so a catalog harvested later can be
asked what was public on D: a product counts as public from its `first_public`, and as known
(metadata public) from the earlier of `first_seen` and `first_public`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from harvester.timeutil import iso, parse_iso
from harvester.watch.campaign import Expected
from harvester.watch.coverage import Coverage
from harvester.watch.matching import Matched
from harvester.watch.policies import Policy

STATUSES = ("released", "exclusive", "pending", "overdue", "not_watched", "unconfirmed")
SECONDS_PER_DAY = 86400.0


@dataclass
class ExpectedStatus:
    expected: Expected
    status: str
    reason: str
    short_reason: str = ""
    due_date: datetime | None = None
    due_basis: str | None = None
    policy: Policy | None = None
    first_public: datetime | None = None
    # False when the archive states no public date and first_public is only when the harvester
    # first saw the product (MPC astrometry): then the latency is an upper bound.
    first_public_stated: bool = True
    latency_days: float | None = None
    exclusive_until: datetime | None = None
    overdue_days: float | None = None
    due_in_days: float | None = None
    matches: list[Matched] = field(default_factory=list)
    public_keys: list[str] = field(default_factory=list)
    exclusive_keys: list[str] = field(default_factory=list)

    @property
    def evidence(self) -> list[str]:
        """The product keys this status rests on."""
        return [m.product_key for m in self.matches]


def days_between(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / SECONDS_PER_DAY, 1)


def public_at(product: Matched) -> str | None:
    """When the product became public, as the catalog's canonical ISO text (None: not public)."""
    if product.access != "public":
        return None
    return product.first_public or product.first_seen


def public_date_stated(product: Matched) -> bool:
    """Does the public date come from the archive, rather than from our first sight?"""
    return bool(product.release_date) or (product.first_public or "") != product.first_seen


def known_at(product: Matched) -> str:
    return min(product.first_seen, product.first_public) if product.first_public else product.first_seen


def state_at(product: Matched, moment: str) -> str:
    """'public', 'exclusive', 'unknown' (in the catalog, access not stated) or 'unseen' at
    `moment`. Catalog times are canonical ISO UTC text, so they compare as strings: a million
    products are never parsed."""
    public = public_at(product)
    if public is not None and public <= moment:
        return "public"
    if known_at(product) > moment:
        return "unseen"
    # An embargo with no date (a placeholder the adapter dropped) is still an embargo.
    return "exclusive" if product.release_date or product.access == "exclusive" else "unknown"


def evaluate(expected: Expected, matches: list[Matched], policy: Policy | None,
             coverage: Coverage, now: datetime) -> ExpectedStatus:
    moment = iso(now)
    states = [state_at(m, moment) for m in matches]
    visible = [m for m, state in zip(matches, states, strict=True) if state != "unseen"]
    public = [m for m, state in zip(matches, states, strict=True) if state == "public"]
    embargoed = [m for m, state in zip(matches, states, strict=True) if state == "exclusive"]
    result = ExpectedStatus(expected=expected, status="pending", reason="", matches=visible,
                            policy=policy)
    result.public_keys = [m.product_key for m in public]
    result.exclusive_keys = [m.product_key for m in embargoed]
    _set_due(result, visible, policy)
    if public:
        return _released(result, public, len(visible))
    if expected.status == "unconfirmed":
        result.status, result.reason = "unconfirmed", "unconfirmed: listed, never flagged"
        return result
    embargo = min((m.release_date for m in embargoed if m.release_date), default=None)
    if embargo is not None and embargo > moment:
        result.status, result.exclusive_until = "exclusive", parse_iso(embargo)
        result.due_in_days = days_between(now, result.exclusive_until)
        result.reason = (f"{len(embargoed)} product(s) in the catalog, data embargoed "
                         f"until {result.exclusive_until.date()}")
        return result
    if embargo is None and embargoed:
        return _embargoed_without_date(result, embargoed, now)
    if not coverage.watched:
        result.status, result.reason = "not_watched", coverage.reason
        result.short_reason = coverage.short
        return result
    if result.due_date is None:
        result.reason = "no due date: no release policy applies and the archive states none"
        return result
    if now > result.due_date:
        result.status = "overdue"
        result.overdue_days = days_between(result.due_date, now)
        result.reason = f"{result.overdue_days:g} days past due {result.due_date.date()}, nothing public"
    else:
        result.due_in_days = days_between(now, result.due_date)
        result.reason = f"due {result.due_date.date()} (in {result.due_in_days:g} days)"
    if visible:
        result.reason += f"; {len(visible)} product(s) known, none public"
    return result


def _embargoed_without_date(result: ExpectedStatus, embargoed: list[Matched],
                            now: datetime) -> ExpectedStatus:
    """The archive holds the products and says they are not public yet, without a date: not
    overdue (nothing fell silent), but how long past its nominal due date it is, is said."""
    result.status = "exclusive"
    result.reason = (f"{len(embargoed)} product(s) in the catalog, data embargoed with no "
                     "release date stated")
    if result.due_date is not None and now > result.due_date:
        result.reason += (f"; nominal due date {result.due_date.date()} passed "
                          f"{days_between(result.due_date, now):g} days ago")
    return result


def _set_due(result: ExpectedStatus, visible: list[Matched], policy: Policy | None) -> None:
    stated = min(((m.release_date, m.product_key, m.archive) for m in visible if m.release_date),
                 default=None)
    if stated:
        result.due_date = parse_iso(stated[0])
        result.due_basis = f"release date stated by {stated[2]} for {stated[1]}"
        return
    end = result.expected.window_end
    if policy is not None and end is not None:
        result.due_date = policy.due_after(end)
        result.due_basis = (f"policy {policy.id}: {policy.describe()} after the end of the "
                            f"observation ({result.expected.obs_end})")


def _released(result: ExpectedStatus, public: list[Matched], visible: int) -> ExpectedStatus:
    first = min(public, key=public_at)
    result.status = "released"
    result.first_public = parse_iso(public_at(first))
    result.first_public_stated = public_date_stated(first)
    observed = first.obs_end or first.obs_start
    end = parse_iso(observed) if observed else result.expected.window_end
    result.latency_days = max(days_between(end, result.first_public), 0.0) if end else None
    late = ""
    if not result.first_public_stated:
        late = " (the archive states no public date: the harvester's first sight, an upper bound)"
    elif result.due_date is not None and result.first_public > result.due_date:
        late = f", {days_between(result.due_date, result.first_public):g} days after due"
    result.reason = (f"{len(public)} of {visible} product(s) public, first "
                     f"{result.first_public.date()} ({first.product_key}){late}")
    return result
