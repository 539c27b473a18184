"""The monthly credit evaluation of property companies (notice clause 20), explained factor by factor.

For a company and a month, every project of the company that overlaps the month contributes the part of the month
its contract covers, at that estate, with month and contract bounds taken in the estate's time zone. Each factor of
the model (``supervision.model``) adds its raw counts over those parts, is measured, and is scored 0-100; the score
is the weighted mean of the factors that have data (a factor without data gives its weight to the others in
proportion to theirs), and the star level is the band the score reaches. The formulas are in docs/supervision.md.

An evaluation is stored per (company, month) with the model version; computing it again replaces it, so the
monthly job and a recomputation on request may run any number of times.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
from psycopg import Connection
from psycopg.types.json import Jsonb

from dispatch.kpi import compute_kpis
from dispatch.performance import ComplaintFigures, complaint_figures, preventive_figures, response_figures
from ingest.registry import site_timezone
from services.bookings import booking_satisfaction
from supervision.companies import get_company
from supervision.errors import Invalid
from supervision.inspections import get_opinion, inspection_scores
from supervision.lists import LIST_TIMEZONE
from supervision.model import CreditModel, FactorSpec, credit_model

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


class InvalidMonth(Invalid):
    """A month that is not ``YYYY-MM`` or lies in the future."""

    field = "month"


@dataclass(frozen=True)
class Factor:
    """One factor of an evaluation: what was measured, its 0-100 score, its weight in the model and after
    redistribution (percent of the total), its contribution to the score, and the raw counts behind it.
    ``no_data``: nothing to measure this month; the factor has no score and no effective weight."""

    id: str
    measure: str
    measured: float | None
    score: Decimal | None
    weight: Decimal
    effective_weight: Decimal
    contribution: Decimal | None
    counts: dict[str, Any]
    no_data: bool


@dataclass(frozen=True)
class CreditMonth:
    """A company's evaluation for the month starting on ``month``; ``score`` and ``stars`` are ``None`` when no
    factor had data."""

    company_id: int
    month: date
    model_version: str
    score: Decimal | None
    stars: int | None
    factors: list[Factor]
    computed_at: datetime


@dataclass(frozen=True)
class Part:
    """The part of a month one project covers: its estate and the instants ``[start, end)``."""

    site_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Measured:
    """What one factor measured: the value, its 0-100 score (``None``: no data) and the raw counts."""

    measured: float | None
    score: Decimal | None
    counts: dict[str, Any]


def parse_month(text: str, *, now: datetime | None = None) -> date:
    """The first day of a ``YYYY-MM`` month that has begun in China; raises ``InvalidMonth``."""
    try:
        year, month = (int(p) for p in text.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise InvalidMonth(f"a month is written YYYY-MM, not {text!r}") from None
    if first > (now or datetime.now(UTC)).astimezone(LIST_TIMEZONE).date():
        raise InvalidMonth(f"{text} has not begun")
    return first


def next_month(month: date) -> date:
    """The first day of the month after ``month``."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def parts(conn: psycopg.Connection, company_id: int, month: date) -> list[Part]:
    """The parts of ``month`` the company's projects cover, estate by estate."""
    rows = conn.execute(
        """SELECT site_id, greatest(starts_on, %(first)s), least(ends_on + 1, %(next)s)
           FROM supervision_projects
           WHERE company_id = %(company)s AND starts_on < %(next)s AND ends_on >= %(first)s
           ORDER BY site_id, starts_on""",
        {"company": company_id, "first": month, "next": next_month(month)},
    ).fetchall()
    found = []
    for site_id, first_day, end_day in rows:
        tz = site_timezone(conn, site_id)
        found.append(Part(site_id, datetime.combine(first_day, time(), tz), datetime.combine(end_day, time(), tz)))
    return found


def evaluate(conn: psycopg.Connection, company_id: int, month: date, *, model: CreditModel | None = None,
             now: datetime | None = None) -> CreditMonth:
    """The evaluation of a company for ``month`` from the data as it stands, not stored."""
    model = model or credit_model()
    get_company(conn, company_id)
    covered = parts(conn, company_id, month)
    measured = {spec.id: _MEASURES[spec.id](conn, spec, company_id, month, covered)
                for spec in model.factors.values()}
    with_data = {fid: m for fid, m in measured.items() if m.score is not None}
    total_weight = sum((model.factors[fid].weight for fid in with_data), Decimal(0))
    factors = []
    for spec in model.factors.values():
        m = measured[spec.id]
        share = spec.weight / total_weight if m.score is not None else Decimal(0)
        factors.append(Factor(
            id=spec.id, measure=spec.measure, measured=m.measured, score=m.score, weight=spec.weight,
            effective_weight=(share * HUNDRED).quantize(CENT, ROUND_HALF_UP),
            contribution=(m.score * share).quantize(CENT, ROUND_HALF_UP) if m.score is not None else None,
            counts=m.counts, no_data=m.score is None))
    score = None
    if with_data:
        weighted = sum((model.factors[fid].weight * m.score for fid, m in with_data.items()), Decimal(0))
        score = (weighted / total_weight).quantize(CENT, ROUND_HALF_UP)
    return CreditMonth(company_id=company_id, month=month, model_version=model.version, score=score,
                       stars=model.stars(score) if score is not None else None, factors=factors,
                       computed_at=now or datetime.now(UTC))


def recompute(conn: psycopg.Connection, company_id: int, month: date, *, now: datetime | None = None) -> CreditMonth:
    """Evaluate a company's month and store it in place of any earlier evaluation of that month."""
    result = evaluate(conn, company_id, month, now=now)
    conn.execute(
        """INSERT INTO supervision_credit_months (company_id, month, model_version, score, stars, factors,
                  computed_at) VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (company_id, month) DO UPDATE SET model_version = excluded.model_version,
               score = excluded.score, stars = excluded.stars, factors = excluded.factors,
               computed_at = excluded.computed_at""",
        (company_id, month, result.model_version, result.score, result.stars,
         Jsonb([_json_factor(f) for f in result.factors]), result.computed_at),
    )
    return result


def recompute_all(conn: psycopg.Connection, month: date, *, now: datetime | None = None) -> list[CreditMonth]:
    """Evaluate every company whose projects overlap ``month``."""
    ids = [row[0] for row in conn.execute(
        """SELECT DISTINCT company_id FROM supervision_projects WHERE starts_on < %s AND ends_on >= %s
           ORDER BY company_id""", (next_month(month), month))]
    return [recompute(conn, company_id, month, now=now) for company_id in ids]


def current_month(now: datetime | None = None) -> date:
    """The first day of the month under way in China at ``now`` (default: now)."""
    return (now or datetime.now(UTC)).astimezone(LIST_TIMEZONE).date().replace(day=1)


def credit_history(conn: psycopg.Connection, company_id: int, *, limit: int = 24, ended_only: bool = False,
                   now: datetime | None = None) -> list[CreditMonth]:
    """A company's stored evaluations, latest month first; with ``ended_only``, only months that have ended in
    China (what is published: a month under way is a preview for the sub-district, its complaints still open and
    its deadlines still running)."""
    before = current_month(now) if ended_only else date.max
    rows = conn.execute(
        """SELECT company_id, month, model_version, score, stars, factors, computed_at
           FROM supervision_credit_months WHERE company_id = %s AND month < %s ORDER BY month DESC LIMIT %s""",
        (company_id, before, limit)).fetchall()
    return [_stored(row) for row in rows]


def latest_credit(conn: psycopg.Connection, company_id: int, *, now: datetime | None = None) -> CreditMonth | None:
    """The company's latest stored evaluation of an ended month that has a score, or ``None`` (what the board and
    the project view show)."""
    row = conn.execute(
        """SELECT company_id, month, model_version, score, stars, factors, computed_at
           FROM supervision_credit_months WHERE company_id = %s AND score IS NOT NULL AND month < %s
           ORDER BY month DESC LIMIT 1""", (company_id, current_month(now))).fetchone()
    return _stored(row) if row else None


# --- the factors ------------------------------------------------------------------------------------------------


def _rate(hits: int, total: int, hits_name: str, total_name: str) -> Measured:
    score = (Decimal(hits) * HUNDRED / Decimal(total)).quantize(CENT, ROUND_HALF_UP) if total else None
    return Measured(hits / total if total else None, score, {hits_name: hits, total_name: total})


def _sum(values: Iterator[int]) -> int:
    return sum(values, 0)


def _sla(conn: Connection, spec: FactorSpec, company_id: int, month: date, covered: list[Part]) -> Measured:
    rates = [compute_kpis(conn, start=p.start, end=p.end, site_id=p.site_id).sla_compliance for p in covered]
    return _rate(_sum(r.hits for r in rates), _sum(r.total for r in rates), "met", "decided")


def _response(conn: Connection, spec: FactorSpec, company_id: int, month: date, covered: list[Part]) -> Measured:
    figures = [response_figures(conn, site_id=p.site_id, start=p.start, end=p.end) for p in covered]
    acked = _sum(f.acknowledged for f in figures)
    seconds = sum((f.ack_seconds for f in figures), 0.0)
    counts = {"acknowledged": acked, "ack_seconds": round(seconds, 3)}
    if not acked:
        return Measured(None, None, counts)
    mean = seconds / acked
    full, zero = Decimal(str(spec.full_within_s)), Decimal(str(spec.zero_at_s))
    position = (zero - Decimal(str(mean))) / (zero - full)
    score = (min(max(position, Decimal(0)), Decimal(1)) * HUNDRED).quantize(CENT, ROUND_HALF_UP)
    return Measured(round(mean, 3), score, counts)


def _complaints(conn: psycopg.Connection, covered: list[Part]) -> list[ComplaintFigures]:
    return [complaint_figures(conn, site_id=p.site_id, start=p.start, end=p.end) for p in covered]


def _handling(conn: Connection, spec: FactorSpec, company_id: int, month: date, covered: list[Part]) -> Measured:
    figures = _complaints(conn, covered)
    return _rate(_sum(f.handled for f in figures), _sum(f.filed for f in figures), "handled", "filed")


def _timeliness(conn: Connection, spec: FactorSpec, company_id: int, month: date, covered: list[Part]) -> Measured:
    figures = _complaints(conn, covered)
    return _rate(_sum(f.replies_on_time for f in figures), _sum(f.replies_due for f in figures),
                 "replied_on_time", "replies_due")


def _rated(ratings: dict[str, int], scale: dict[str, Decimal]) -> Measured:
    total = _sum(iter(ratings.values()))
    if not total:
        return Measured(None, None, dict(ratings))
    mean = sum((scale[r] * n for r, n in ratings.items()), Decimal(0)) / total
    score = mean.quantize(CENT, ROUND_HALF_UP)
    return Measured(float(score), score, dict(ratings))


def _satisfaction(conn: Connection, spec: FactorSpec, company_id: int, month: date, covered: list[Part]) -> Measured:
    ratings = {rating: 0 for rating in spec.ratings}
    for figures in _complaints(conn, covered):
        for rating, n in figures.ratings.items():
            ratings[rating] += n
    return _rated(ratings, spec.ratings)


def _preventive(conn: Connection, spec: FactorSpec, company_id: int, month: date, covered: list[Part]) -> Measured:
    figures = [preventive_figures(conn, site_id=p.site_id, start=p.start, end=p.end) for p in covered]
    return _rate(_sum(f.kept for f in figures), _sum(f.due for f in figures), "kept", "due")


def _inspections(conn: Connection, spec: FactorSpec, company_id: int, month: date, covered: list[Part]) -> Measured:
    scores = inspection_scores(conn, company_id, month, next_month(month))
    counts = {"inspections": len(scores), "score_sum": str(sum(scores, Decimal(0)))}
    if not scores:
        return Measured(None, None, counts)
    mean = (sum(scores, Decimal(0)) / len(scores)).quantize(CENT, ROUND_HALF_UP)
    return Measured(float(mean), mean, counts)


def _opinion(conn: Connection, spec: FactorSpec, company_id: int, month: date, covered: list[Part]) -> Measured:
    opinion = get_opinion(conn, company_id, month)
    ratings = {rating: int(opinion is not None and opinion.rating == rating) for rating in spec.ratings}
    return _rated(ratings, spec.ratings)


def _bookings(conn: Connection, spec: FactorSpec, company_id: int, month: date, covered: list[Part]) -> Measured:
    found = [booking_satisfaction(conn, p.site_id, p.start, p.end) for p in covered]
    rated = _sum(f.rated for f in found)
    # each part's mean is rounded to the cent: the sum of ratings is exact to within half a cent per rating
    total = sum((f.mean_rating * f.rated for f in found if f.mean_rating is not None), Decimal(0))
    counts = {"rated": rated, "rating_sum": str(total.quantize(CENT, ROUND_HALF_UP))}
    if not rated:
        return Measured(None, None, counts)
    mean = total / rated
    position = (mean - spec.lowest) / (spec.highest - spec.lowest)
    score = (min(max(position, Decimal(0)), Decimal(1)) * HUNDRED).quantize(CENT, ROUND_HALF_UP)
    return Measured(float(mean.quantize(CENT, ROUND_HALF_UP)), score, counts)


_MEASURES = {
    "sla_compliance": _sla,
    "response_time": _response,
    "complaint_handling": _handling,
    "complaint_timeliness": _timeliness,
    "complaint_satisfaction": _satisfaction,
    "preventive_kept": _preventive,
    "inspections": _inspections,
    "opinion": _opinion,
    "booking_satisfaction": _bookings,
}


def _json_factor(factor: Factor) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(factor).items()}


def _stored(row: tuple) -> CreditMonth:
    company_id, month, version, score, stars, factors, computed_at = row
    return CreditMonth(
        company_id=company_id, month=month, model_version=version, score=score, stars=stars,
        factors=[Factor(**{**f, "score": _dec(f["score"]), "weight": Decimal(f["weight"]),
                           "effective_weight": Decimal(f["effective_weight"]),
                           "contribution": _dec(f["contribution"])}) for f in factors],
        computed_at=computed_at)


def _dec(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None
