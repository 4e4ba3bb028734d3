"""Reading and writing the care group's data; every function takes an open ``Session``.

The caller owns the transaction: a state change, its event and its outbox messages are
added in one session and committed together (``flows`` does that), so either all of them
land or none does.

Invariants: ``append_transition`` only ever moves a trajectory from the version it was
read at (``UPDATE ... WHERE version = :expected``), and the event insert is guarded by
``UNIQUE(agb_code, seq)``; a second writer gets ``ConcurrentUpdateError``. Deterministic ids
(``uuid5``) make a retried write land on the same row.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from domain.clock import as_amsterdam, fact_moment
from domain.conversations import Agreement, Evaluation
from domain.errors import ConflictError
from domain.indicator_views import Reference, spread
from domain.indicators import (
    IndicatorDefinition,
    IndicatorFigures,
    IndicatorKey,
    IndicatorKind,
    IndicatorScore,
    NationalAverage,
    Target,
    ValueOp,
    indicator_key,
)
from domain.messages import OutboxMessage, about, uuid5_text
from domain.policy import Policy, PolicyVersion
from domain.registry import CareGroup, Ekc, GpGroup, Person, Practice, Programme, Registry, Role
from domain.rules.agreements import agreement_id
from domain.score_objects import stored_scores
from domain.trajectory import TrajectoryState, TrajectoryTransitioned, TrajectoryView, Trigger
from storage import driver, review
from storage.read_models import (
    ImportLogEntry,
    ScoreRevision,
    StoredAgreement,
    StoredConversation,
    StoredProjection,
    TrajectoryStep,
    value_of,
)
from storage.tables import (
    AgreementRow,
    CareGroupRow,
    ContactRow,
    ConversationRow,
    DutyRunRow,
    EngineRunRow,
    EnrolmentRow,
    GpGroupRow,
    IndicatorImportRow,
    IndicatorRow,
    IndicatorScoreRow,
    MessagePayloadRow,
    NationalAverageRow,
    OfficerAssignmentRow,
    OutboxRow,
    PeriodSpreadRow,
    PolicyVersionRow,
    PracticePersonRow,
    PracticeRow,
    ScoredIndicatorRow,
    ScoreRevisionRow,
    TargetRow,
    TrajectoryEventRow,
    TrajectoryRow,
    TrajectoryStepRow,
)


class ConcurrentUpdateError(ConflictError):
    """Another writer moved this trajectory first; re-read and decide again."""


# --- registry -----------------------------------------------------------------------------


def _in(column: Any) -> Any:
    return column.in_(sa.bindparam("codes", expanding=True))


def _chunks(values: Iterable[str], size: int = 1000) -> Iterator[list[str]]:
    """``values`` without repeats, in order, a thousand at a time: the lists a batch's ``IN (...)`` asks about."""
    ordered = sorted(set(values))
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


_PRACTICE = PracticeRow.__table__  # type: ignore[attr-defined]
_PERSON = PracticePersonRow.__table__  # type: ignore[attr-defined]
_ENROLMENT = EnrolmentRow.__table__  # type: ignore[attr-defined]
_TRAJECTORY = TrajectoryRow.__table__  # type: ignore[attr-defined]
# built once (a statement built per call cost more than running it): with and without a list of codes
_PRACTICE_ROWS = sa.select(_PRACTICE.c.agb_code, _PRACTICE.c.name, _PRACTICE.c.gp_group, _PRACTICE.c.email)
_PERSON_ROWS = sa.select(_PERSON.c.agb_code, _PERSON.c.role, _PERSON.c.name, _PERSON.c.email)
_ENROLMENT_ROWS = sa.select(_ENROLMENT.c.agb_code, _ENROLMENT.c.programme, _ENROLMENT.c.started_on)
_PRACTICE_QUERIES = {
    False: (_PRACTICE_ROWS.order_by(_PRACTICE.c.agb_code), _PERSON_ROWS.order_by(_PERSON.c.id), _ENROLMENT_ROWS),
    True: (_PRACTICE_ROWS.where(_in(_PRACTICE.c.agb_code)).order_by(_PRACTICE.c.agb_code),
           _PERSON_ROWS.where(_in(_PERSON.c.agb_code)).order_by(_PERSON.c.id),
           _ENROLMENT_ROWS.where(_in(_ENROLMENT.c.agb_code))),
}


def save_registry(session: Session, registry: Registry) -> dict[str, int]:
    """Upsert the registry. Practices not in it stay; a listed practice's people are replaced."""
    care = session.get(CareGroupRow, 1)
    if care is None:
        session.add(CareGroupRow(id=1, name=registry.care_group.name, email=registry.care_group.email))
    else:
        care.name, care.email = registry.care_group.name, registry.care_group.email
    for role, people in ((Role.OFFICER, registry.officers), (Role.BOARD, registry.board)):
        if people:
            session.execute(sa.delete(ContactRow).where(col(ContactRow.role) == role.value))
            session.add_all(ContactRow(role=role.value, name=p.name, email=p.email) for p in people)
    for group in registry.gp_groups:
        session.merge(GpGroupRow(code=group.code, name=group.name, ekc_name=group.ekc.name if group.ekc else None,
                                 ekc_email=group.ekc.email if group.ekc else None,
                                 anonymise_mirror=group.anonymise_mirror))
    session.flush()
    # in bulk, a few statements for the whole registry (a care group registers thousands of practices)
    connection = session.connection()
    # a practice listed twice: the later entry counts (as a second upsert of it would)
    listed = list({p.agb_code: p for p in registry.practices}.values())
    codes = [p.agb_code for p in listed]
    known_groups = set(session.exec(select(GpGroupRow.code)).all())
    unknown_groups = sorted({p.gp_group for p in listed if p.gp_group} - known_groups)
    if unknown_groups:  # a group named only by its practices gets its code as its name
        connection.execute(sa.insert(GpGroupRow.__table__), [  # type: ignore[attr-defined]
            {"code": g, "name": g} for g in unknown_groups])
    existing: set[str] = set()
    for start in range(0, len(codes), 1000):
        existing |= set(connection.execute(sa.select(_PRACTICE.c.agb_code).where(_in(_PRACTICE.c.agb_code)),
                                           {"codes": codes[start:start + 1000]}).scalars())
    fresh = [p for p in listed if p.agb_code not in existing]
    known = [p for p in listed if p.agb_code in existing]
    if fresh:
        connection.execute(sa.insert(_PRACTICE), [
            {"agb_code": p.agb_code, "name": p.name, "gp_group": p.gp_group, "email": p.email} for p in fresh])
        connection.execute(sa.insert(_TRAJECTORY), [
            {"agb_code": p.agb_code, "state": TrajectoryState.START.value, "since": None, "version": 0, "view": {}}
            for p in fresh])
        review.register(session, [p.agb_code for p in fresh])
    if known:
        connection.execute(
            sa.update(_PRACTICE).where(_PRACTICE.c.agb_code == sa.bindparam("_agb_code"))
            .values(name=sa.bindparam("name"), gp_group=sa.bindparam("gp_group"), email=sa.bindparam("email")),
            [{"_agb_code": p.agb_code, "name": p.name, "gp_group": p.gp_group, "email": p.email} for p in known])
    # a listed practice's people are replaced; its enrolments take the registry's start dates
    enrolled: dict[tuple[str, str], date] = {}
    for start in range(0, len(codes), 1000):
        chunk = {"codes": codes[start:start + 1000]}
        connection.execute(sa.delete(_PERSON).where(_in(_PERSON.c.agb_code)), chunk)
        enrolled.update({(a, p): d for a, p, d in connection.execute(_PRACTICE_QUERIES[True][2], chunk)})
    person_rows = [{"agb_code": p.agb_code, "role": person.role.value, "name": person.name, "email": person.email}
                   for p in listed for person in p.people]
    if person_rows:
        connection.execute(sa.insert(_PERSON), person_rows)
    wanted = {(p.agb_code, programme.value): started_on  # every entry's programmes; a later date wins
              for p in registry.practices for programme, started_on in p.programmes.items()}
    new_enrolments = [{"agb_code": a, "programme": g, "started_on": d} for (a, g), d in wanted.items()
                      if (a, g) not in enrolled]
    moved = [{"_agb_code": a, "_programme": g, "started_on": d} for (a, g), d in wanted.items()
             if (a, g) in enrolled and enrolled[(a, g)] != d]
    if new_enrolments:
        connection.execute(sa.insert(_ENROLMENT), new_enrolments)
    if moved:
        connection.execute(sa.update(_ENROLMENT).where(_ENROLMENT.c.agb_code == sa.bindparam("_agb_code"),
                                                       _ENROLMENT.c.programme == sa.bindparam("_programme"))
                           .values(started_on=sa.bindparam("started_on")), moved)
    review.touch(session, codes)  # people, enrolments, names
    return {"practices": len(registry.practices), "new_practices": len(fresh), "gp_groups": len(registry.gp_groups)}


def enrol(session: Session, agb_code: str, programme: Programme, started_on: date, keep_earlier: bool = True) -> bool:
    """Start a programme for a practice. Returns whether anything changed."""
    row = session.get(EnrolmentRow, (agb_code, programme.value))
    if row is None:
        session.add(EnrolmentRow(agb_code=agb_code, programme=programme.value, started_on=started_on))
        session.flush()  # seen at once by what reads the table through the connection (a practice read back)
        review.touch(session, [agb_code])
        return True
    if row.started_on == started_on or (keep_earlier and row.started_on <= started_on):
        return False
    row.started_on = started_on
    session.flush()
    review.touch(session, [agb_code])
    return True


_PROGRAMME_OF = {p.value: p for p in Programme}
_ROLE_OF = {r.value: r for r in Role}


@functools.lru_cache(maxsize=1 << 16)
def _person(name: str, role: str, email: str | None) -> Person:
    """One shared (frozen) ``Person`` per name, role and address: every sweep batch and every notice reads the
    practices' people again, and making them anew cost more than reading them."""
    return Person.model_construct(name=name, role=_ROLE_OF[role], email=email)


def practices_of(session: Session, codes: Sequence[str] | None = None) -> list[Practice]:
    """The practices with these AGB codes (all without ``codes``), with their people and enrolments."""
    # columns, not ORM rows (read-only here): an ORM row per practice, person and enrolment cost
    # several times the Practice made from it, and every sweep batch reads its practices
    practice_query, people_query, enrolment_query = _PRACTICE_QUERIES[codes is not None]
    params = {"codes": list(codes)} if codes is not None else {}
    connection = session.connection()
    rows = connection.execute(practice_query, params).all()
    people: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
    for agb_code, role, name, email in connection.execute(people_query, params):
        people[agb_code].append((name, role, email))
    programmes: dict[str, list[tuple[str, date]]] = defaultdict(list)
    for agb_code, programme, started_on in connection.execute(enrolment_query, params):
        programmes[agb_code].append((programme, started_on))
    return [_practice(agb_code, name, gp_group, email, tuple(programmes.get(agb_code, ())),
                      tuple(people.get(agb_code, ())))
            for agb_code, name, gp_group, email in rows]


@functools.lru_cache(maxsize=1 << 15)
def _practice(agb_code: str, name: str, gp_group: str | None, email: str | None,
              programmes: tuple[tuple[str, date], ...], people: tuple[tuple[str, str, str | None], ...]) -> Practice:
    """One shared (frozen) ``Practice`` per practice as stored, as ``_person`` shares its people: every sweep batch,
    every chunk of notices and every meeting's invitations read their practices again, and making each anew cost
    more than reading it (nothing changes a ``Practice``: its programmes are read, never written). Stored data was
    checked where it came in (``domain.inputs``); it is read back as it is, so that a rule made stricter later
    cannot stop every command on a row stored before."""
    return Practice.model_construct(agb_code=agb_code, name=name, gp_group=gp_group, email=email,
                                    programmes={_PROGRAMME_OF[p]: started for p, started in programmes},
                                    people=tuple(_person(n, role, e) for n, role, e in people))


def practices(session: Session) -> list[Practice]:
    return practices_of(session)


_HEAD_QUERIES = {False: sa.select(_PRACTICE.c.agb_code, _PRACTICE.c.name, _PRACTICE.c.gp_group)
                 .order_by(_PRACTICE.c.agb_code)}
_HEAD_QUERIES[True] = _HEAD_QUERIES[False].where(_in(_PRACTICE.c.agb_code))


def practice_heads(session: Session, codes: Sequence[str] | None = None) -> list[tuple[str, str, str | None]]:
    """(AGB code, name, GP group) of the practices with these codes (all without ``codes``), by code: what a list
    of practices shows, without their people and enrolments."""
    params = {"codes": list(codes)} if codes is not None else {}
    return [(a, n, g) for a, n, g in session.connection().execute(_HEAD_QUERIES[codes is not None], params)]


def get_practice(session: Session, agb_code: str) -> Practice | None:
    found = practices_of(session, [agb_code])
    return found[0] if found else None


_REGISTERED = sa.select(_PRACTICE.c.agb_code).where(_PRACTICE.c.agb_code == sa.bindparam("agb_code"))


def is_registered(session: Session, agb_code: str) -> bool:
    return session.connection().execute(_REGISTERED, {"agb_code": agb_code}).first() is not None


def registered_of(session: Session, codes: Sequence[str]) -> set[str]:
    """Those of ``codes`` that are registered practices."""
    found: set[str] = set()
    for chunk in _chunks(codes):
        found |= set(session.connection().execute(
            sa.select(_PRACTICE.c.agb_code).where(_PRACTICE.c.agb_code.in_(chunk))).scalars())
    return found


def practice_codes(session: Session) -> set[str]:
    return set(session.exec(select(PracticeRow.agb_code)).all())


def contacts(session: Session, role: Role) -> tuple[Person, ...]:
    """The care group's officers or board members (not a practice's people)."""
    rows = session.exec(select(ContactRow).where(col(ContactRow.role) == role.value).order_by(col(ContactRow.id)))
    return tuple(Person.model_construct(name=c.name, role=role, email=c.email) for c in rows)


def care_group_name(session: Session) -> str:
    care = session.get(CareGroupRow, 1)
    return care.name if care else "de zorggroep"


def load_registry(session: Session) -> Registry:
    care = session.get(CareGroupRow, 1)
    return Registry.model_construct(
        care_group=CareGroup.model_construct(name=care.name if care else "Zorggroep",
                                             email=care.email if care else None),
        officers=contacts(session, Role.OFFICER),
        board=contacts(session, Role.BOARD),
        gp_groups=gp_groups(session),
        practices=tuple(practices_of(session)),
    )


def gp_groups(session: Session) -> tuple[GpGroup, ...]:
    """The GP groups of the registry (without reading its practices)."""
    return tuple(GpGroup.model_construct(code=g.code, name=g.name, anonymise_mirror=g.anonymise_mirror,
                                         ekc=Ekc.model_construct(name=g.ekc_name, email=g.ekc_email)
                                         if g.ekc_name else None)
                 for g in session.exec(select(GpGroupRow).order_by(col(GpGroupRow.code))).all())


# --- indicators -------------------------------------------------------------------------------


_DEFINITION_FIELDS = ("check", "window_months", "value_threshold", "numerator", "denominator", "source")


def save_catalogue(session: Session, definitions: Iterable[IndicatorDefinition]) -> int:
    n = 0
    for d in definitions:
        session.merge(IndicatorRow(
            programme=d.programme.value, indicator=d.indicator, name=d.name, kind=d.kind.value, main=d.main,
            value_op=d.value_op.value if d.value_op else None,
            **{name: getattr(d, name) for name in _DEFINITION_FIELDS},
        ))
        n += 1
    session.flush()
    return n


def catalogue_is_empty(session: Session) -> bool:
    return session.exec(select(IndicatorRow.indicator).limit(1)).first() is None


def load_catalogue(session: Session) -> list[IndicatorDefinition]:
    return [
        IndicatorDefinition(
            programme=Programme(r.programme), indicator=r.indicator, name=r.name, kind=IndicatorKind(r.kind),
            main=r.main, value_op=ValueOp(r.value_op) if r.value_op else None,
            **{name: getattr(r, name) for name in _DEFINITION_FIELDS},
        )
        for r in session.exec(select(IndicatorRow).order_by(col(IndicatorRow.programme), col(IndicatorRow.indicator)))
    ]


def reference_figures(session: Session, count_after_days: int = 0) -> IndicatorFigures:
    """What every practice's figures are judged against, loaded once and shared (``with_scores`` gives one
    practice's figures): the catalogue, the targets and the national averages."""
    return IndicatorFigures.build(load_catalogue(session), load_targets(session), load_averages(session), (),
                                  count_after_days=count_after_days)


def catalogue_keys(session: Session) -> set[IndicatorKey]:
    rows = session.exec(select(IndicatorRow.programme, IndicatorRow.indicator)).all()
    return {IndicatorKey(Programme(p), i) for p, i in rows}


def save_targets(session: Session, targets: Iterable[Target]) -> int:
    n = 0
    for t in targets:
        session.merge(TargetRow(programme=t.programme.value, indicator=t.indicator, target=t.target))
        n += 1
    session.flush()
    return n


def load_targets(session: Session) -> list[Target]:
    return [Target(programme=Programme(r.programme), indicator=r.indicator, target=r.target)
            for r in session.exec(select(TargetRow)).all()]


def save_averages(session: Session, averages: Iterable[NationalAverage]) -> int:
    n = 0
    for a in averages:
        session.merge(NationalAverageRow(programme=a.programme.value, indicator=a.indicator, year=a.year,
                                         national_average=a.national_average))
        n += 1
    session.flush()
    return n


def load_averages(session: Session) -> list[NationalAverage]:
    return [NationalAverage(programme=Programme(r.programme), indicator=r.indicator, year=r.year,
                            national_average=r.national_average)
            for r in session.exec(select(NationalAverageRow)).all()]


@dataclass(frozen=True)
class ScoreImport:
    """What an import of figures did. ``import_id`` is None when it changed nothing (and so was not logged)."""

    import_id: str | None
    new: int
    changed: int
    unchanged: int


ANALYZE_FROM = 1000  # new figures in one import from which PostgreSQL's statistics of them are refreshed at once


def save_scores(session: Session, scores: Sequence[IndicatorScore], *, source: str, sha256: str,
                at: datetime, actor: str) -> ScoreImport:
    """Upsert figures by (practice, indicator, period). A figure that changes keeps its old value in
    ``score_revision``; an import that changes something is logged in ``indicator_import``; one that
    changes nothing (the same file again) writes nothing at all."""
    # Core statements and tuples throughout: a nation's import is a million figures
    t = IndicatorScoreRow.__table__  # type: ignore[attr-defined]
    connection = session.connection()
    periods = sorted({s.period_end for s in scores})
    existing: dict[tuple[str, str, str, date], tuple[int, int]] = {}
    if periods:
        query = sa.select(t.c.agb_code, t.c.programme, t.c.indicator, t.c.period_end, t.c.numerator,
                          t.c.denominator).where(t.c.period_end.in_(periods))
        existing = {(a, p, i, e): (n, d) for a, p, i, e, n, d in connection.execute(query)}
    fresh: list[IndicatorScore] = []
    changed: list[tuple[tuple[int, int], IndicatorScore]] = []
    for score in scores:
        figure = (score.agb_code, score.programme.value, score.indicator, score.period_end)
        old = existing.get(figure)
        if old is None:
            fresh.append(score)
        elif old != (score.numerator, score.denominator):
            changed.append((old, score))
            existing[figure] = (score.numerator, score.denominator)  # a later line for the same figure chains on
    unchanged = len(scores) - len(fresh) - len(changed)
    if not fresh and not changed:
        return ScoreImport(None, 0, 0, unchanged)
    # deterministic (a replayed history lands on the same ids), and distinct when the same file comes back at
    # the same moment after another one changed the figures in between (A, B, A: the third changes them back)
    earlier = connection.execute(sa.select(sa.func.count()).select_from(IndicatorImportRow)).scalar_one()
    import_id = uuid5_text(f"indicator_import:{sha256}:{at.isoformat()}:{earlier}")
    session.add(IndicatorImportRow(id=import_id, source=source, sha256=sha256, imported_at=at, actor=actor,
                                   rows=len(scores), new=len(fresh), changed=len(changed), unchanged=unchanged))
    session.flush()
    if fresh:
        rows = [{"agb_code": s.agb_code, "programme": s.programme.value, "indicator": s.indicator,
                 "period_end": s.period_end, "numerator": s.numerator, "denominator": s.denominator,
                 "import_id": import_id} for s in fresh]
        if not driver.execute_many(session, _SCORE_INSERT, rows):
            connection.execute(_SCORE_INSERT, rows)
        # the indicators scored, kept with their figures: ``load_scores`` looks the latest figures up by them
        # the obligations' store is loaded only when something is written: `status` starts without it (test_startup)
        from storage.obligations import insert_ignore

        scored = sorted(set(map(itemgetter("programme", "indicator"), rows)))  # from the rows: an enum's value is slow
        insert_ignore(session, ScoredIndicatorRow, [{"programme": p, "indicator": i} for p, i in scored],
                      ["programme", "indicator"])
        if connection.dialect.name == "postgresql" and len(fresh) >= ANALYZE_FROM:
            # a period's figures for the whole care group: PostgreSQL's planner is told at once (its documentation
            # advises ANALYZE after a bulk load; autovacuum may come minutes later or be off). Without it the
            # latest figures of a chunk of practices (``load_scores``) were read by a plan for a table a tenth of
            # its size: 0.8 against 0.3 s a chunk at 5,000 practices (issue 16). In the import's transaction, so it
            # counts its own new rows (rolled back, the columns' statistics go with them; the table's row estimate
            # stays until the next ANALYZE, an estimate only). SKIP_LOCKED: when a VACUUM or another ANALYZE holds
            # the table, this is left to them, and the import never waits for them (nor times out on them).
            connection.exec_driver_sql(f'ANALYZE (SKIP_LOCKED) "{t.name}"')
    if changed:
        connection.execute(sa.insert(ScoreRevisionRow.__table__), [  # type: ignore[attr-defined]
            {"import_id": import_id, "agb_code": score.agb_code, "programme": score.programme.value,
             "indicator": score.indicator, "period_end": score.period_end, "old_numerator": old[0],
             "old_denominator": old[1], "new_numerator": score.numerator, "new_denominator": score.denominator}
            for old, score in changed])
        key = (t.c.agb_code == sa.bindparam("_agb_code"), t.c.programme == sa.bindparam("_programme"),
               t.c.indicator == sa.bindparam("_indicator"), t.c.period_end == sa.bindparam("_period_end"))
        connection.execute(sa.update(t).where(*key).values(
            numerator=sa.bindparam("numerator"), denominator=sa.bindparam("denominator"),
            import_id=sa.bindparam("import_id")), [
            {"_agb_code": score.agb_code, "_programme": score.programme.value, "_indicator": score.indicator,
             "_period_end": score.period_end, "numerator": score.numerator, "denominator": score.denominator,
             "import_id": import_id} for _, score in changed])
    _keep_spreads(connection, {s.period_end for s in fresh} | {score.period_end for _, score in changed})
    review.touch(session, {s.agb_code for s in fresh} | {score.agb_code for _, score in changed}, scores=True)
    return ScoreImport(import_id, len(fresh), len(changed), unchanged)


_SPREAD = PeriodSpreadRow.__table__  # type: ignore[attr-defined]


def _keep_spreads(connection: sa.Connection, periods: Collection[date]) -> None:
    """The stored spreads of ``periods`` made anew from every practice's figures of them, read after this import's
    writes and under the write lock: two imports at once each count the other's figures (what ``save_scores`` read
    before writing was read outside its transaction, and may miss an import committed since). On SQLite this
    transaction has written already, so no other commits until it does; on PostgreSQL the table's lock makes a second
    import wait here until the first commits, and then read its figures."""
    if not periods:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("LOCK TABLE period_spread IN EXCLUSIVE MODE"))
    t = _SCORE
    grouped: dict[tuple[date, str, str], list[tuple[int, int]]] = defaultdict(list)
    for period_end, programme, indicator, numerator, denominator in connection.execute(
            sa.select(t.c.period_end, t.c.programme, t.c.indicator, t.c.numerator, t.c.denominator)
            .where(t.c.period_end.in_(sorted(periods)))):
        grouped[(period_end, programme, indicator)].append((numerator, denominator))
    connection.execute(_SPREAD.delete().where(_SPREAD.c.period_end.in_(sorted(periods))))
    rows = [{"period_end": period_end, "programme": programme, "indicator": indicator,
             "practices": r.practices, "pooled": r.pooled, "mean": r.mean, "median": r.median, "p10": r.p10,
             "p90": r.p90}
            for (period_end, programme, indicator), counts in sorted(grouped.items())
            if (r := spread(counts)) is not None]
    if rows:
        connection.execute(_SPREAD.insert(), rows)


def period_spread(session: Session, period_end: date) -> dict[tuple[IndicatorKey, date], Reference]:
    """The care group's spread of each indicator over one period, across every practice's figures of it, as kept
    by ``save_scores`` (``domain.indicator_views.references`` of those figures)."""
    t = _SPREAD
    query = sa.select(t.c.programme, t.c.indicator, t.c.practices, t.c.pooled, t.c.mean, t.c.median, t.c.p10,
                      t.c.p90).where(t.c.period_end == period_end)
    return {(indicator_key(Programme(p), i), period_end): Reference(n, pooled, mean, median, p10, p90)
            for p, i, n, pooled, mean, median, p10, p90 in session.connection().execute(query)}


def imports(session: Session) -> list[ImportLogEntry]:
    return [value_of(ImportLogEntry, r)
            for r in session.exec(select(IndicatorImportRow).order_by(col(IndicatorImportRow.imported_at)))]


def below_limits(session: Session, codes: Sequence[str], limits: Mapping[IndicatorKey, float]) -> set[str]:
    """Those of ``codes`` with any score, of any period, below its indicator's limit (percent; indicators without a
    limit are not read): asked of the database over a batch's scores, without reading them
    (``domain.rules.escalation.deviation_limits``)."""
    t = _SCORE
    found: set[str] = set()
    if not limits:
        return found
    if session.get_bind().dialect.name == "sqlite":
        return _below_limits_sqlite(session, codes, limits)
    below = sa.or_(*(sa.and_(t.c.programme == key.programme.value, t.c.indicator == key.indicator,
                             t.c.numerator * 100.0 < limit * t.c.denominator)
                     for key, limit in sorted(limits.items())))
    for chunk in _chunks(codes):
        query = sa.select(t.c.agb_code).distinct().where(t.c.agb_code.in_(chunk), below)
        found |= set(session.connection().execute(query).scalars())
    return found


def first_periods_after(session: Session, codes: Sequence[str], after: date) -> dict[str, date]:
    """Per practice of ``codes``, the end of its earliest scored period that ends after ``after`` (the figures not yet
    counting on a day: ``domain.rules.timing.next_evaluation_on`` reads only the earliest of them)."""
    t = _SCORE
    found: dict[str, date] = {}
    # most days no period ends after ``after`` at all (figures count some weeks after their import): one seek
    # on the period index answers that, instead of each practice's scores read through its own index
    if session.connection().execute(sa.select(t.c.period_end).where(t.c.period_end > after).limit(1)).first() is None:
        return found
    for chunk in _chunks(codes):
        query = (sa.select(t.c.agb_code, sa.func.min(t.c.period_end))
                 .where(t.c.agb_code.in_(chunk), t.c.period_end > after).group_by(t.c.agb_code))
        found.update({agb: end for agb, end in session.connection().execute(query)})
    return found


def revisions(session: Session, agb_code: str | None = None) -> list[ScoreRevision]:
    query = select(ScoreRevisionRow).order_by(col(ScoreRevisionRow.id))
    if agb_code is not None:
        query = query.where(col(ScoreRevisionRow.agb_code) == agb_code)
    return [value_of(ScoreRevision, r) for r in session.exec(query)]


_SCORE = IndicatorScoreRow.__table__  # type: ignore[attr-defined]
_SCORE_INSERT = _SCORE.insert()  # compiled once for the driver (``save_scores``)
_SCORE_COLUMNS = (_SCORE.c.agb_code, _SCORE.c.programme, _SCORE.c.indicator, _SCORE.c.period_end, _SCORE.c.numerator,
                  _SCORE.c.denominator)  # a figure as ``stored_scores`` reads it


def load_scores(session: Session, codes: Sequence[str] | None = None, *, known_on: date | None = None,
                complete: Collection[str] = (), periods: Collection[date] | None = None,
                indicators: Collection[tuple[str, str]] | None = None) -> dict[str, list[IndicatorScore]]:
    """Per practice, its indicator scores: all of them, or with ``known_on`` only those the rules read on
    that day without a baseline: each indicator's latest period known then and every later period (which
    time brings into view). Practices in ``complete`` get all their scores all the same (rules about an
    improvement plan also read the last figures before the plan). ``periods`` and ``indicators`` (by programme
    and indicator), without ``known_on``: only the scores of periods ending on those days, of those indicators."""
    # columns, not ORM rows: nothing here is changed through the session, and an ORM row per score
    # cost more than the score itself; SQLAlchemy's select: SQLModel's is typed for at most four columns
    t, columns = _SCORE, _SCORE_COLUMNS
    queries: list[tuple[Any, dict[str, Any]]] = []  # statements and their parameters
    if known_on is None:
        query = sa.select(*columns)
        if periods is not None:
            query = query.where(t.c.period_end.in_(sorted(periods)))
        if indicators is not None:
            query = query.where(sa.tuple_(t.c.programme, t.c.indicator).in_(sorted(indicators)))
        queries.append((query if codes is None else query.where(t.c.agb_code.in_(list(codes))), {}))
    else:
        if indicators is not None:
            raise ValueError("load_scores: indicators are chosen without known_on only")
        trimmed = [c for c in codes or () if c not in complete] if codes is not None else None
        later = sa.select(*columns).where(t.c.period_end > known_on)
        if trimmed is not None:
            later = later.where(t.c.agb_code.in_(trimmed))
        queries.append(latest_scores_query(session.get_bind().dialect.name, trimmed, known_on))
        queries.append((later, {}))
        if complete:
            queries.append((sa.select(*columns).where(t.c.agb_code.in_(sorted(complete))), {}))
    found: dict[str, list[IndicatorScore]] = defaultdict(list)
    for query, parameters in queries:
        for score in stored_scores(session.connection().execute(query, parameters)):
            found[score.agb_code].append(score)
    return found


_SCORED = ScoredIndicatorRow.__table__  # type: ignore[attr-defined]
# SQLite: for each practice and scored indicator, one seek for its latest period (the primary key's order), then its
# figure; CROSS JOIN fixes that order (SQLite's planner otherwise reads every figure of the practice first, and runs
# the seek for each)
_LATEST_SQLITE = """SELECT t.agb_code, t.programme, t.indicator, t.period_end, t.numerator, t.denominator
FROM practice AS p CROSS JOIN scored_indicator AS k CROSS JOIN indicator_score AS t
  ON t.agb_code = p.agb_code AND t.programme = k.programme AND t.indicator = k.indicator
  AND t.period_end = (SELECT s.period_end FROM indicator_score AS s
                      WHERE s.agb_code = p.agb_code AND s.programme = k.programme AND s.indicator = k.indicator
                        AND s.period_end <= :known_on ORDER BY s.period_end DESC LIMIT 1)"""
_LATEST_PARAMETERS = (sa.bindparam("known_on", type_=sa.Date()),)


def latest_scores_query(dialect: str, codes: Sequence[str] | None, known_on: date) -> tuple[Any, dict[str, Any]]:
    """Each indicator's latest figure of a period ending on or before ``known_on``, of the practices with ``codes``
    (all without): one seek per practice and scored indicator (``scored_indicator``), on SQLite and PostgreSQL,
    where aggregating every figure of their history took twice as long at three years (a chunk of 1,000 practices:
    52 against 95 ms on SQLite, 93 against 201 ms on PostgreSQL; issue 16). The statement and its parameters."""
    if dialect == "sqlite":
        where = " WHERE p.agb_code IN :codes" if codes is not None else ""
        parameters = (*_LATEST_PARAMETERS, sa.bindparam("codes", expanding=True)) if codes is not None \
            else _LATEST_PARAMETERS
        statement = sa.text(_LATEST_SQLITE + where).bindparams(*parameters).columns(*_SCORE_COLUMNS)
        return statement, {"known_on": known_on, **({"codes": list(codes)} if codes is not None else {})}
    t, p, k = _SCORE, _PRACTICE, _SCORED
    if dialect == "postgresql":
        s = t.alias("s")
        latest = (sa.select(*(s.c[c.name] for c in _SCORE_COLUMNS))
                  .where(s.c.agb_code == p.c.agb_code, s.c.programme == k.c.programme, s.c.indicator == k.c.indicator,
                         s.c.period_end <= known_on)
                  .order_by(s.c.period_end.desc()).limit(1).lateral("latest"))
        query = sa.select(*latest.c).select_from(p.join(k, sa.true()).join(latest, sa.true()))
        return (query.where(p.c.agb_code.in_(codes)) if codes is not None else query), {}
    # any other database: every figure up to that day aggregated (what the two above find, more slowly)
    key = (t.c.agb_code, t.c.programme, t.c.indicator)
    latest_q = sa.select(*key, sa.func.max(t.c.period_end).label("period_end")).where(t.c.period_end <= known_on)
    if codes is not None:
        latest_q = latest_q.where(t.c.agb_code.in_(codes))
    latest_sq = latest_q.group_by(*key).subquery()
    return sa.select(*_SCORE_COLUMNS).join(latest_sq, sa.and_(
        *(c == latest_sq.c[c.name] for c in key), t.c.period_end == latest_sq.c.period_end)), {}


def _below_limits_sqlite(session: Session, codes: Sequence[str], limits: Mapping[IndicatorKey, float]) -> set[str]:
    """``below_limits`` on SQLite: for each practice, only the figures of the indicators with a limit, each read by
    its place in the primary key (practice, indicator), the practice first (CROSS JOIN: SQLite's planner otherwise
    takes the limits first, and jumps through the index for each). Its other form reads every figure of the batch
    against a test of every limit: 107 against 44 ms for 1,000 practices after three years, twelve limits (issue 16;
    on PostgreSQL that form is the faster: 56 against 80 ms)."""
    ordered = sorted(limits.items())
    values = ", ".join(f"(:programme_{n}, :indicator_{n}, :limit_{n})" for n in range(len(ordered)))
    statement = sa.text(
        "SELECT DISTINCT t.agb_code FROM practice AS p"
        f" CROSS JOIN (SELECT column1 AS programme, column2 AS indicator, column3 AS lim FROM (VALUES {values})) AS l"
        " CROSS JOIN indicator_score AS t"
        " ON t.agb_code = p.agb_code AND t.programme = l.programme AND t.indicator = l.indicator"
        " WHERE p.agb_code IN :codes AND t.numerator * 100.0 < l.lim * t.denominator"
    ).bindparams(sa.bindparam("codes", expanding=True))
    parameters: dict[str, Any] = {}
    for n, (key, limit) in enumerate(ordered):
        parameters |= {f"programme_{n}": key.programme.value, f"indicator_{n}": key.indicator,
                       f"limit_{n}": float(limit)}
    found: set[str] = set()
    for chunk in _chunks(codes):
        found |= set(session.connection().execute(statement, {**parameters, "codes": chunk}).scalars())
    return found


# --- conversations ----------------------------------------------------------------------------


def conversation_id(agb_code: str, kind: str, held_on: date, programme: str | None) -> str:
    return uuid5_text(f"conversation:{agb_code}:{kind}:{held_on.isoformat()}:{programme or ''}")


def _shallow(value: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict, its values as they are (``asdict`` copies every list and dict inside, deeply:
    a row written once, as JSON, needs no copy)."""
    return {f.name: getattr(value, f.name) for f in fields(value)}


_CONVERSATION = ConversationRow.__table__  # type: ignore[attr-defined]
_CONVERSATION_COLUMNS = tuple(_CONVERSATION.c[f.name] for f in fields(StoredConversation))
_CONVERSATION_INSERT = _CONVERSATION.insert()


def get_conversation(session: Session, conversation: str) -> StoredConversation | None:
    return conversations_by_id(session, [conversation]).get(conversation)


def conversations_by_id(session: Session, ids: Sequence[str]) -> dict[str, StoredConversation]:
    """The conversations stored under these ids (a batch being recorded asks once which of its are)."""
    found: dict[str, StoredConversation] = {}
    for chunk in _chunks(ids):
        query = sa.select(*_CONVERSATION_COLUMNS).where(_CONVERSATION.c.id.in_(chunk))
        for row in session.connection().execute(query):
            found[row[0]] = StoredConversation(*row)
    return found


def add_conversation(session: Session, conversation: StoredConversation) -> None:
    driver.execute(session, _CONVERSATION_INSERT, _shallow(conversation))
    review.touch(session, [conversation.agb_code])


def add_agreements(session: Session, conversation: StoredConversation, agreements: Sequence[Agreement]) -> list[str]:
    """Store the agreements a conversation's report made (ids derived from the conversation and their place)."""
    ids = [agreement_id(conversation.id, position) for position in range(len(agreements))]
    for position, (agreement, key) in enumerate(zip(agreements, ids, strict=True)):
        session.add(AgreementRow(id=key, agb_code=conversation.agb_code, conversation_id=conversation.id,
                                 position=position, text=agreement.text, owner=agreement.owner.value,
                                 due=agreement.due, support=agreement.support.value if agreement.support else None,
                                 made_on=conversation.held_on, recorded_at=conversation.recorded_at))
    session.flush()
    return ids


def evaluate_agreements(session: Session, evaluations: Sequence[Evaluation], conversation: StoredConversation) -> None:
    """Close the agreements a conversation's report evaluated, with its day, the outcome and the note."""
    for evaluation in evaluations:
        row = session.get(AgreementRow, evaluation.agreement)
        if row is None or row.status != "open":  # checked before (report_problems); a race leaves it to the other
            continue
        row.status, row.evaluated_on = evaluation.outcome.value, conversation.held_on
        row.evaluated_in, row.note = conversation.id, evaluation.note or None
        session.add(row)
    session.flush()


def agreements_of(session: Session, agb_code: str | None = None, *, open_only: bool = False
                  ) -> list[StoredAgreement]:
    """The agreements of a practice (or of all), by the day they were made and their place in the report."""
    query = select(AgreementRow)
    if agb_code is not None:
        query = query.where(col(AgreementRow.agb_code) == agb_code)
    if open_only:
        query = query.where(col(AgreementRow.status) == "open")
    order = (col(AgreementRow.agb_code), col(AgreementRow.made_on), col(AgreementRow.conversation_id),
             col(AgreementRow.position))
    return [value_of(StoredAgreement, r) for r in session.exec(query.order_by(*order))]


def agreements_of_practices(session: Session, codes: Sequence[str], *, open_only: bool = False
                            ) -> dict[str, list[StoredAgreement]]:
    """``agreements_of`` for each practice of ``codes`` that has any, in one query per thousand practices."""
    found: dict[str, list[StoredAgreement]] = defaultdict(list)
    for chunk in _chunks(codes):
        query = select(AgreementRow).where(col(AgreementRow.agb_code).in_(chunk))
        if open_only:
            query = query.where(col(AgreementRow.status) == "open")
        order = (col(AgreementRow.agb_code), col(AgreementRow.made_on), col(AgreementRow.conversation_id),
                 col(AgreementRow.position))
        for r in session.exec(query.order_by(*order)):
            found[r.agb_code].append(value_of(StoredAgreement, r))
    return dict(found)


def overdue_agreements(session: Session, on: date, *, after_id: str | None = None, limit: int = 500
                       ) -> list[StoredAgreement]:
    """Open agreements past their due date (``due`` before ``on``) whose owner was not reminded yet, by id."""
    query = select(AgreementRow).where(col(AgreementRow.status) == "open", col(AgreementRow.due) < on,
                                       col(AgreementRow.reminded_on).is_(None))
    if after_id is not None:
        query = query.where(col(AgreementRow.id) > after_id)
    return [value_of(StoredAgreement, r) for r in session.exec(query.order_by(col(AgreementRow.id)).limit(limit))]


def mark_reminded(session: Session, agreement: StoredAgreement, on: date) -> bool:
    """Note that the owner of ``agreement`` was reminded on ``on``; False when another writer did first."""
    t = AgreementRow.__table__  # type: ignore[attr-defined]
    result = session.execute(sa.update(t).where(t.c.id == agreement.id, t.c.reminded_on.is_(None))
                             .values(reminded_on=on))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def conversations_of(session: Session, agb_code: str | None) -> list[StoredConversation]:
    """A practice's conversations (every practice's with ``None``), by the day they were held."""
    query = select(ConversationRow)
    if agb_code is not None:
        query = query.where(col(ConversationRow.agb_code) == agb_code)
    return [value_of(StoredConversation, r) for r in session.exec(
        query.order_by(col(ConversationRow.held_on), col(ConversationRow.agb_code)))]


# --- trajectories -----------------------------------------------------------------------------


def _view_to_json(view: TrajectoryView) -> dict[str, Any]:
    data = _shallow(view)
    data["state"] = view.state.value
    data["flagged"] = [[k.programme.value, k.indicator] for k in view.flagged]
    data["reasons"] = list(view.reasons)
    for name, value in list(data.items()):
        if isinstance(value, datetime):
            data[name] = value.astimezone(UTC).isoformat()  # one canonical form, whatever zone it came in
        elif isinstance(value, date):
            data[name] = value.isoformat()
    return data


def _view_from_json(agb_code: str, data: Mapping[str, Any]) -> TrajectoryView:
    if not data:
        return TrajectoryView(agb_code=agb_code)

    def moment(name: str) -> datetime | None:
        value = data.get(name)
        return as_amsterdam(datetime.fromisoformat(value)) if value else None

    def day(name: str) -> date | None:
        value = data.get(name)
        return date.fromisoformat(value) if value else None

    return TrajectoryView(
        agb_code=agb_code,
        state=TrajectoryState(data["state"]),
        since=moment("since"),
        last_event_at=moment("last_event_at"),
        version=int(data["version"]),
        reasons=tuple(data.get("reasons") or ()),
        flagged=tuple(IndicatorKey(Programme(p), i) for p, i in data.get("flagged") or ()),
        flagged_on=day("flagged_on"),
        plan_agreed_on=day("plan_agreed_on"),
        cycle_started_on=day("cycle_started_on"),
        last_annual_conversation_on=day("last_annual_conversation_on"),
        entered_policy_at=moment("entered_policy_at"),
        last_progress_report_at=moment("last_progress_report_at"),
    )


def view_as_json(view: TrajectoryView) -> dict[str, Any]:
    """The stored form of a view; two views are equal when these are."""
    return _view_to_json(view)


_VIEW = sa.select(_TRAJECTORY.c.view).where(_TRAJECTORY.c.agb_code == sa.bindparam("agb_code"))
_VIEWS = {False: sa.select(_TRAJECTORY.c.agb_code, _TRAJECTORY.c.view),
          True: sa.select(_TRAJECTORY.c.agb_code, _TRAJECTORY.c.view).where(_in(_TRAJECTORY.c.agb_code))}


def load_view(session: Session, agb_code: str) -> TrajectoryView:
    # the view column only, not the ORM row: read for every practice on every sweep, and nothing changes
    # the row through the session (``append_transition`` updates it with a guarded UPDATE)
    found = session.connection().execute(_VIEW, {"agb_code": agb_code}).scalar()
    if found is None:
        return TrajectoryView(agb_code=agb_code)
    return _view_from_json(agb_code, found)


def stored_projection(session: Session, agb_code: str) -> StoredProjection | None:
    row = session.get(TrajectoryRow, agb_code)
    return value_of(StoredProjection, row) if row is not None else None


def load_views(session: Session, codes: Sequence[str] | None = None) -> dict[str, TrajectoryView]:
    params = {"codes": list(codes)} if codes is not None else {}
    return {agb_code: _view_from_json(agb_code, view)
            for agb_code, view in session.connection().execute(_VIEWS[codes is not None], params)}


def in_state(session: Session, state: TrajectoryState) -> set[str]:
    """The practices whose trajectory is in ``state`` now (by its projection's column, without reading views)."""
    return set(session.connection().execute(
        sa.select(_TRAJECTORY.c.agb_code).where(_TRAJECTORY.c.state == state.value)).scalars())


def practices_in_cycle(session: Session, gp_group: str | None = None) -> list[Practice]:
    """The registered practices (of one GP group, or all) that have not left the cycle, by AGB code: those a
    meeting, a mirror meeting, a network plan's evaluation or a set of instruction cards is for."""
    left = in_state(session, TrajectoryState.LEFT)
    found = practices(session) if gp_group is None else practices_of(session, group_practice_codes(session, gp_group))
    return [p for p in found if p.agb_code not in left]


def states_at(session: Session, moment: datetime, state: TrajectoryState) -> list[str]:
    """The practices whose trajectory was in ``state`` at ``moment`` (by their last event before it)."""
    last = (select(TrajectoryEventRow.agb_code, sa.func.max(TrajectoryEventRow.seq).label("seq"))
            .where(col(TrajectoryEventRow.at) < moment).group_by(col(TrajectoryEventRow.agb_code)).subquery())
    query = select(TrajectoryEventRow.agb_code).join(
        last, sa.and_(col(TrajectoryEventRow.agb_code) == last.c.agb_code, col(TrajectoryEventRow.seq) == last.c.seq)
    ).where(col(TrajectoryEventRow.to_state) == state.value)
    return sorted(session.exec(query).all())


def _event_from_row(r: TrajectoryEventRow) -> TrajectoryTransitioned:
    return TrajectoryTransitioned(
        agb_code=r.agb_code, seq=r.seq, at=as_amsterdam(r.at), trigger=Trigger(r.trigger),
        from_state=TrajectoryState(r.from_state), to_state=TrajectoryState(r.to_state), actor=r.actor,
        reasons=tuple(r.reasons or ()), details=dict(r.details or {}), recorded_at=as_amsterdam(r.recorded_at),
    )


def load_events(session: Session, agb_code: str) -> list[TrajectoryTransitioned]:
    rows = session.exec(
        select(TrajectoryEventRow).where(col(TrajectoryEventRow.agb_code) == agb_code)
        .order_by(col(TrajectoryEventRow.seq))
    ).all()
    return [_event_from_row(r) for r in rows]


# --- policy versions ----------------------------------------------------------------------------


_POLICY_VERSION = PolicyVersionRow.__table__  # type: ignore[attr-defined]
_POLICY_VERSION_ROWS = sa.select(_POLICY_VERSION.c.number, _POLICY_VERSION.c.applies_from, _POLICY_VERSION.c.policy,
                                 _POLICY_VERSION.c.reason).order_by(_POLICY_VERSION.c.number)
# versions are append-only and a policy is frozen: each stored version is validated once per process, not at every
# ``Services.in_force`` (called for every conversation and every batch a duty runs)
_VERSIONS_READ: dict[tuple[int, date, str, str], PolicyVersion] = {}


def policy_versions(session: Session) -> list[PolicyVersion]:
    found = []
    for number, applies_from, policy, reason in session.connection().execute(_POLICY_VERSION_ROWS):
        key = (number, applies_from, reason, json.dumps(policy, sort_keys=True))
        version = _VERSIONS_READ.get(key)
        if version is None:
            version = _VERSIONS_READ[key] = PolicyVersion(number, applies_from, Policy.model_validate(policy), reason)
        found.append(version)
    return found


def add_policy_version(session: Session, policy: Policy, applies_from: date, reason: str, now: datetime,
                       actor: str) -> int:
    """Store a new version (numbered after the last) and return its number."""
    last = session.exec(select(sa.func.max(col(PolicyVersionRow.number)))).one() or 0
    session.add(PolicyVersionRow(number=last + 1, applies_from=applies_from, policy=policy.model_dump(mode="json"),
                                 reason=reason, recorded_at=now, actor=actor))
    session.flush()
    return int(last + 1)


# --- steps recorded facts ask of a trajectory ---------------------------------------------------


def step_id(source: str) -> str:
    return uuid5_text(f"trajectory_step:{source}")


_STEP = TrajectoryStepRow.__table__  # type: ignore[attr-defined]
# a conversation adds, reads and marks its step: statements built once, rows read as columns (each was an ORM
# round trip per call, several per conversation)
_STEP_COLUMNS = tuple(_STEP.c[f.name] for f in fields(TrajectoryStep))
_STEP_BY_ID = sa.select(*_STEP_COLUMNS).where(_STEP.c.id == sa.bindparam("id"))
_STEPS_DUE = (sa.select(*_STEP_COLUMNS)
              .where(_STEP.c.agb_code == sa.bindparam("agb_code"), _STEP.c.status == "pending",
                     _STEP.c.happened_at <= sa.bindparam("upto"))
              .order_by(_STEP.c.happened_at, _STEP.c.recorded_at, _STEP.c.id))
_STEP_MARK = (_STEP.update().where(_STEP.c.id == sa.bindparam("step_id"))
              .values(status=sa.bindparam("new_status"), waiting=sa.bindparam("new_waiting"),
                      event_seq=sa.bindparam("new_seq")))


def _step_of(row: Sequence[Any]) -> TrajectoryStep:
    return TrajectoryStep(*row)


def add_step(session: Session, step: TrajectoryStep) -> bool:
    """Keep a step a fact asks of its practice's trajectory (once: the same fact again adds nothing)."""
    from storage.obligations import insert_ignore  # the obligations' store holds the insert that skips a key held

    if not insert_ignore(session, TrajectoryStepRow, [_shallow(step)], ["id"]):
        return False
    review.touch(session, [step.agb_code])  # the next sweep looks at the practice
    return True


def get_step(session: Session, step_id: str) -> TrajectoryStep | None:
    row = session.connection().execute(_STEP_BY_ID, {"id": step_id}).first()
    return _step_of(row) if row is not None else None


def due_steps(session: Session, agb_code: str, upto: datetime) -> list[TrajectoryStep]:
    """The steps not yet taken whose fact happened by ``upto``, in the order they happened (then recorded)."""
    return [_step_of(r) for r in session.connection().execute(_STEPS_DUE, {"agb_code": agb_code, "upto": upto})]


def practices_with_due_steps(session: Session, codes: Sequence[str], upto: datetime | None) -> set[str]:
    """Those of ``codes`` with a step not yet taken whose fact happened by ``upto`` (None: whenever)."""
    if not codes:
        return set()
    found: set[str] = set()
    for chunk in _chunks(codes):
        query = select(TrajectoryStepRow.agb_code).where(
            col(TrajectoryStepRow.agb_code).in_(chunk), col(TrajectoryStepRow.status) == "pending")
        if upto is not None:
            query = query.where(col(TrajectoryStepRow.happened_at) <= upto)
        found |= set(session.exec(query.distinct()).all())
    return found


def next_step_days(session: Session, codes: Sequence[str], after: datetime) -> dict[str, date]:
    """Per practice, the day its next step not yet taken comes due after ``after`` (facts recorded ahead of the
    engine: history brought in, waiting for the runs to reach it)."""
    if not codes:
        return {}
    rows = session.exec(select(TrajectoryStepRow.agb_code, sa.func.min(col(TrajectoryStepRow.happened_at))).where(
        col(TrajectoryStepRow.agb_code).in_(list(codes)), col(TrajectoryStepRow.status) == "pending",
        col(TrajectoryStepRow.happened_at) > after).group_by(col(TrajectoryStepRow.agb_code))).all()
    return {agb: as_amsterdam(moment).date() for agb, moment in rows if moment is not None}


def last_taken_step_at(session: Session, agb_code: str) -> datetime | None:
    """When the latest fact whose step the practice's trajectory took happened."""
    found = session.exec(select(sa.func.max(col(TrajectoryStepRow.happened_at))).where(
        col(TrajectoryStepRow.agb_code) == agb_code, col(TrajectoryStepRow.status) == "taken")).one()
    return as_amsterdam(found) if found is not None else None


def pending_steps(session: Session, codes: Sequence[str] | None = None) -> list[TrajectoryStep]:
    """Steps not taken: waiting for a run or a state, or needing attention."""
    query = select(TrajectoryStepRow).where(col(TrajectoryStepRow.status).in_(["pending", "attention"]))
    if codes is not None:
        query = query.where(col(TrajectoryStepRow.agb_code).in_(list(codes)))
    return [value_of(TrajectoryStep, r)
            for r in session.exec(query.order_by(col(TrajectoryStepRow.agb_code), col(TrajectoryStepRow.happened_at)))]


def mark_step(session: Session, step: TrajectoryStep, *, taken_as: int | None = None,
              waiting: str | None = None, attention: bool = False) -> TrajectoryStep:
    """Mark a step as the caller read it in this transaction (``due_steps``): taken, needing attention, or waiting
    with why (nothing is written when it already says so). Returns the step as it now stands."""
    status, said, seq = step.status, step.waiting, step.event_seq
    if taken_as is not None:
        status, seq, said = "taken", taken_as, None
    elif attention:
        status, said = "attention", waiting
    elif step.waiting == waiting:
        return step  # nothing new to say
    else:
        said = waiting
    marked = driver.execute(session, _STEP_MARK, {"step_id": step.id, "new_status": status, "new_waiting": said,
                                                  "new_seq": seq})
    if marked != 1:
        raise LookupError(f"trajectory step {step.id} is not stored")
    return replace(step, status=status, waiting=said, event_seq=seq)


_LAST_ENGINE_RUN = sa.select(sa.func.max(EngineRunRow.__table__.c.moment))  # type: ignore[attr-defined]
_LAST_JUDGING_DUTY = sa.select(sa.func.max(DutyRunRow.__table__.c.moment)).where(  # type: ignore[attr-defined]
    DutyRunRow.__table__.c.duty.in_(["sweep_due", "recalculate_indicators", "backfill"]))  # type: ignore[attr-defined]


def engine_horizon(session: Session) -> datetime | None:
    """The latest moment the engine has judged the care group for (a run of the engine, a sweep, a
    recalculation): a fact that happened by then is taken at once when it is recorded."""
    runs = session.connection().execute(_LAST_ENGINE_RUN).scalar()
    duties = session.connection().execute(_LAST_JUDGING_DUTY).scalar()
    found = [as_amsterdam(m) for m in (runs, duties) if m is not None]
    return max(found, key=lambda m: m.timestamp()) if found else None


def load_all_events(session: Session) -> dict[str, list[TrajectoryTransitioned]]:
    """Every practice's events, in the order they were recorded."""
    found: dict[str, list[TrajectoryTransitioned]] = defaultdict(list)
    for r in session.exec(select(TrajectoryEventRow).order_by(col(TrajectoryEventRow.agb_code),
                                                              col(TrajectoryEventRow.seq))).all():
        found[r.agb_code].append(_event_from_row(r))
    return found


def event_id(agb_code: str, seq: int) -> str:
    return uuid5_text(f"trajectory_event:{agb_code}:{seq}")


_MOVE = (sa.update(_TRAJECTORY)
         .where(_TRAJECTORY.c.agb_code == sa.bindparam("_agb_code"), _TRAJECTORY.c.version == sa.bindparam("_expected"))
         .values({c: sa.bindparam(c, type_=_TRAJECTORY.c[c].type) for c in ("state", "since", "version", "view")}))
_EVENT = sa.insert(TrajectoryEventRow.__table__)  # type: ignore[attr-defined]


def append_transition(session: Session, event: TrajectoryTransitioned, view: TrajectoryView) -> None:
    """Append ``event`` and move the projection to ``view``, only from version ``event.seq - 1``."""
    if view.version != event.seq:
        raise ValueError("the view must be the fold of the event being appended")
    expected = event.seq - 1
    moved = driver.execute(session, _MOVE, {"_agb_code": event.agb_code, "_expected": expected,
                                            "state": view.state.value, "since": view.since, "version": view.version,
                                            "view": _view_to_json(view)})
    if moved != 1:
        raise ConcurrentUpdateError(
            f"praktijk {event.agb_code}: traject is intussen gewijzigd (verwacht versie {expected})"
        )
    try:  # on a lost race the caller abandons the whole transaction and decides again
        driver.execute(session, _EVENT, {
            "id": event_id(event.agb_code, event.seq), "agb_code": event.agb_code, "seq": event.seq,
            "at": event.at, "trigger": event.trigger.value, "from_state": event.from_state.value,
            "to_state": event.to_state.value, "actor": event.actor, "reasons": list(event.reasons),
            "details": dict(event.details), "recorded_at": event.recorded})
    except IntegrityError as exc:
        raise ConcurrentUpdateError(f"praktijk {event.agb_code}: gebeurtenis {event.seq} bestaat al") from exc
    review.touch(session, [event.agb_code])


# --- outbox -----------------------------------------------------------------------------------


def last_digest_period(session: Session) -> date | None:
    """The start of the latest period a board digest was queued for (keys ``board_digest:<start>:<who>``)."""
    keys = session.exec(select(OutboxRow.key).where(col(OutboxRow.kind) == "board_digest")).all()
    return max((date.fromisoformat(k.split(":")[1]) for k in keys), default=None)


def add_messages(session: Session, messages: Iterable[OutboxMessage], created_at: datetime) -> int:
    """Queue messages; a key already queued is left alone, also when another transaction queues it at
    the same time (``INSERT ... ON CONFLICT DO NOTHING``). Returns how many were new."""
    return len(queue_messages(session, messages, created_at))


HISTORIC_BEFORE = "historic_before"  # a session's info key: messages about what lies before it are historic
HISTORIC_REASON = "historisch: ging over het verleden (backfill), niet verstuurd"


def _status(message: OutboxMessage, created_at: datetime, historic_before: datetime | None) -> str:
    if historic_before is None:
        return "pending"
    concerns = about(message) or created_at
    return "historic" if concerns.timestamp() < historic_before.timestamp() else "pending"


def queue_messages(session: Session, messages: Iterable[OutboxMessage], created_at: datetime) -> set[str]:
    """``add_messages``, returning the keys of the messages that were new.

    In a session of a backfill (``session.info[HISTORIC_BEFORE]``) a message about what lies before that moment is
    stored ``historic`` at once, in the transaction of its cause: never sent, however the walk ends; one about a
    conversation, meeting or due day still ahead is queued as usual. A payload several of ``messages`` share is kept
    once (``_shared_payloads``)."""
    from storage.obligations import insert_ignore  # the obligations' store is loaded only when messages are queued

    historic_before = session.info.get(HISTORIC_BEFORE)
    messages = list(messages)
    shared = _shared_payloads(messages)
    rows = {}
    for m in messages:
        status = _status(m, created_at, historic_before)
        payload_id = shared[id(m.payload)][0] if id(m.payload) in shared else None
        rows[m.key] = {
            "id": outbox_id(m.key, created_at), "key": m.key, "kind": m.kind, "agb_code": m.agb_code,
            "recipient_name": m.recipient_name, "recipient_email": m.recipient_email,
            "recipient_role": m.recipient_role, "subject": m.subject,
            "payload": {} if payload_id else m.payload, "payload_id": payload_id, "created_at": created_at,
            "status": status, "attempts": 0, "last_error": HISTORIC_REASON if status == "historic" else None,
            "sent_at": None, "next_attempt_at": None, "last_attempt_at": None, "message_id": None,
        }
    session.flush()
    if shared:  # before the messages that name them; the same payload again (a retry, another worker) is left be
        insert_ignore(session, MessagePayloadRow, [{"id": payload_id, "payload": payload}
                                                   for payload_id, payload in shared.values()], ["id"])
    return {key for (key,) in insert_ignore(session, OutboxRow, list(rows.values()), ["key"])}


def outbox_id(key: str, created_at: datetime) -> str:
    """A queued message's row id: the moment it was queued (UTC, to the second), then 20 hex digits of its key's
    uuid5; 36 characters. The ids grow with the moments, so a message's entry in the table's primary key index lands
    at its end: a uuid5 alone put every message on a random page of an index of hundreds of thousands of messages,
    each a page written again (45-56 against 14-15 µs a row at 400,000 rows: issue 16, ``benchmarks/README.md``). The
    key stays the message's identity: unique, and what its Message-ID follows from; the same message queued at
    another moment collides on it (``insert_ignore`` ignores any unique conflict)."""
    return f"{_queued_at(created_at, created_at.fold)}-{uuid5_text(key).replace('-', '')[:20]}"


@functools.lru_cache(maxsize=64)
def _queued_at(created_at: datetime, fold: int) -> str:
    """The moment's part of ``outbox_id``, made once for the messages of a call (they share their moment).
    ``fold`` is part of what is remembered: the two 02:30s of the night the clocks go back are equal as Amsterdam
    times (one zone's times compare by their wall clock) but an hour apart."""
    return f"{created_at.astimezone(UTC):%Y%m%dT%H%M%S}"


SHARED_PAYLOAD_BYTES = 1024  # a payload shared by messages of one call is kept once from this size of its JSON on


def _shared_payloads(messages: Sequence[OutboxMessage]) -> dict[int, tuple[str, dict[str, Any]]]:
    """The payloads (by the identity of the object) that more than one of ``messages`` carries and whose JSON is at
    least ``SHARED_PAYLOAD_BYTES``, each with its id in ``message_payload``: the SHA-256 of its JSON, keys sorted.
    An invitation's recipients share the object its composer made (``notifications.compose``); a small payload is
    cheaper in each row than as a row of its own and a second index entry."""
    carried: dict[int, list[dict[str, Any]]] = {}
    for m in messages:
        carried.setdefault(id(m.payload), []).append(m.payload)
    shared: dict[int, tuple[str, dict[str, Any]]] = {}
    for ident, payloads in carried.items():
        if len(payloads) < 2:
            continue
        text = orjson.dumps(payloads[0], option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS)
        if len(text) >= SHARED_PAYLOAD_BYTES:
            shared[ident] = (hashlib.sha256(text).hexdigest(), payloads[0])
    return shared


def _put_back_payloads(session: Session, rows: list[OutboxRow]) -> list[OutboxRow]:
    """``rows`` with every payload kept in ``message_payload`` put back in place, as stored (not a change to
    flush): the messages that share one share the same dict, which no reader changes."""
    wanted = sorted({r.payload_id for r in rows if r.payload_id})
    if not wanted:
        return rows
    found: dict[str, dict[str, Any]] = {}
    t = MessagePayloadRow.__table__  # type: ignore[attr-defined]
    for start in range(0, len(wanted), 500):
        found.update((i, p) for i, p in session.execute(
            sa.select(t.c.id, t.c.payload).where(t.c.id.in_(wanted[start:start + 500]))))
    for r in rows:
        if r.payload_id:
            set_committed_value(r, "payload", found[r.payload_id])
    return rows


def queued_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of these message keys are in the outbox (whatever their status)."""
    wanted = sorted(set(keys))
    return set(session.exec(select(OutboxRow.key).where(col(OutboxRow.key).in_(wanted))).all()) if wanted else set()


def outbox(session: Session, status: str | None = None, *, agb_code: str | None = None,
           latest: int | None = None) -> list[OutboxRow]:
    """The outbox's messages (of one status, about one practice), oldest first; ``latest``: only the newest so
    many, newest first."""
    query = select(OutboxRow)
    if status:
        query = query.where(col(OutboxRow.status) == status)
    if agb_code is not None:
        query = query.where(col(OutboxRow.agb_code) == agb_code)
    if latest is not None:
        query = query.order_by(col(OutboxRow.created_at).desc(), col(OutboxRow.key).desc()).limit(latest)
    else:
        query = query.order_by(col(OutboxRow.created_at), col(OutboxRow.key))
    return _put_back_payloads(session, list(session.exec(query).all()))


def count_historic(session: Session) -> int:
    return int(session.exec(select(sa.func.count()).select_from(OutboxRow).where(
        col(OutboxRow.status) == "historic")).one())


# --- engine runs ------------------------------------------------------------------------------


def engine_ran(session: Session, moment: datetime) -> bool:
    """Whether the engine already ran for ``moment``."""
    return session.get(EngineRunRow, moment) is not None


def record_engine_run(session: Session, moment: datetime, *, transitions: int, messages: int, actor: str) -> bool:
    """Record that the engine ran for ``moment``; the first recorder wins, a concurrent
    second one is a no-op (two workers may sweep the same moment). Returns whether it was new."""
    if session.get(EngineRunRow, moment) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(EngineRunRow(moment=moment, started_at=moment, finished_at=moment, transitions=transitions,
                                     messages=messages, actor=actor))
    except IntegrityError:
        return False
    return True


# --- outbox delivery ----------------------------------------------------------------------------
#
# A dispatcher claims a row (status "sending", attempts + 1, last_attempt_at) and commits before it
# sends, then marks it "sent"; a failure puts it back to "pending" with a later next_attempt_at, or
# "failed" after the last attempt. Every change is a guarded UPDATE, so two dispatchers cannot both
# claim the same row in the same state. A row left in "sending" (a crash between sending and marking)
# is claimed again once ``reclaim_before`` has passed its last attempt, and sent with the same Message-ID.


def database_now(session: Session, plus_seconds: float = 0) -> Any:
    """The database's own time (UTC, as the moment columns store it), ``plus_seconds`` later: leases are judged
    by it, one clock for every dispatcher on every machine, never a caller's logical moment."""
    return _database_now(session.get_bind().dialect.name, int(plus_seconds))


def _database_now(dialect: str, seconds: int) -> Any:
    if dialect == "postgresql":
        return sa.text(f"(timezone('utc', now()) + interval '{seconds} seconds')")
    return sa.func.strftime("%Y-%m-%d %H:%M:%f000", "now", f"{seconds:+d} seconds")


def due_messages(session: Session, now: datetime, *, limit: int | None = None,
                 after: tuple[datetime, str] | None = None) -> list[OutboxRow]:
    """Rows to deliver at ``now``: pending ones whose next attempt is due, and ones a crashed dispatcher left in
    ``sending`` once their lease has ended in real time, oldest first (by ``created_at``, then ``key``); ``after``
    a row's (``created_at``, ``key``): only the rows after it, for reading them a page at a time."""
    pending = sa.and_(col(OutboxRow.status) == "pending",
                      sa.or_(col(OutboxRow.next_attempt_at).is_(None), col(OutboxRow.next_attempt_at) <= now))
    stranded = sa.and_(col(OutboxRow.status) == "sending",
                       sa.or_(col(OutboxRow.lease_until).is_(None), col(OutboxRow.lease_until) < database_now(session)))
    query = (select(OutboxRow).where(sa.or_(pending, stranded))
             .order_by(col(OutboxRow.created_at), col(OutboxRow.key)))
    if after is not None:  # compared column by column, so that the moment is bound as the column stores it
        created, key = after
        query = query.where(sa.or_(col(OutboxRow.created_at) > created,
                                   sa.and_(col(OutboxRow.created_at) == created, col(OutboxRow.key) > key)))
    if limit is not None:
        query = query.limit(limit)
    return _put_back_payloads(session, list(session.exec(query).all()))


@dataclass(frozen=True)
class Claim:
    """A due row a dispatcher means to send: as it read it (status, attempts) and where it goes."""

    row_id: str
    status: str
    attempts: int
    message_id: str
    recipient_email: str


def claim_messages(session: Session, claims: Sequence[Claim], *, now: datetime, lease_seconds: float) -> set[str]:
    """Record an attempt on each row before sending: ``sending``, attempts + 1, held for ``lease_seconds`` of the
    database's real time. The ids claimed: a row another dispatcher changed since it was read is theirs and is left
    out, and so is a row read as ``sending`` whose lease holds again (its dispatcher, stalled past the lease when it
    was read, renewed it since and is sending it). One statement, run once a row (each run's count says whether
    that row was claimed), in the caller's transaction (its commit puts them all on record at once)."""
    statement = _claim_statement(session.get_bind().dialect.name, int(lease_seconds))
    params = [{"c_id": c.row_id, "c_status": c.status, "c_attempts": c.attempts, "c_attempt": c.attempts + 1,
               "c_now": now, "c_message_id": c.message_id, "c_to": c.recipient_email} for c in claims]
    counts = driver.execute_each(session, statement, params)
    if counts is None:  # not on SQLite: the same statement through SQLAlchemy
        connection = session.connection()
        counts = [connection.execute(statement, p).rowcount for p in params]
    return {claim.row_id for claim, count in zip(claims, counts, strict=True) if count == 1}


@functools.lru_cache(maxsize=16)
def _claim_statement(dialect: str, lease_seconds: int) -> Any:
    """The claim of one row (``claim_messages``), built once per database and lease: the driver's plan of a
    statement is kept by the statement (``storage.driver``)."""
    t = OutboxRow.__table__  # type: ignore[attr-defined]
    lease_over = sa.or_(t.c.status != "sending", t.c.lease_until.is_(None),
                        t.c.lease_until < _database_now(dialect, 0))
    return (t.update()
            .where(t.c.id == sa.bindparam("c_id"), t.c.status == sa.bindparam("c_status"),
                   t.c.attempts == sa.bindparam("c_attempts"), lease_over)
            .values(status="sending", attempts=sa.bindparam("c_attempt", type_=t.c.attempts.type),
                    last_attempt_at=sa.bindparam("c_now", type_=t.c.last_attempt_at.type),
                    message_id=sa.bindparam("c_message_id", type_=t.c.message_id.type),
                    recipient_email=sa.bindparam("c_to", type_=t.c.recipient_email.type), next_attempt_at=None,
                    lease_until=_database_now(dialect, lease_seconds)))


def release_claim(session: Session, row: OutboxRow) -> None:
    """Undo this dispatcher's claim on ``row`` (as it was read before the claim) when it stops before sending it:
    the row is as it was, due to the next dispatch, without an attempt counted."""
    t = OutboxRow.__table__  # type: ignore[attr-defined]
    session.connection().execute(
        t.update()
        .where(t.c.id == row.id, t.c.status == "sending", t.c.attempts == row.attempts + 1)
        .values(status=row.status, attempts=row.attempts, last_attempt_at=row.last_attempt_at,
                message_id=row.message_id, recipient_email=row.recipient_email, next_attempt_at=row.next_attempt_at,
                lease_until=row.lease_until))


def renew_claims(session: Session, claims: Sequence[tuple[str, int]], *, lease_seconds: float) -> set[str]:
    """Hold each (row, attempt) of this dispatcher's claims for another ``lease_seconds`` of the database's real
    time; the ids renewed (a row another dispatcher took after the lease ran out is theirs, and left out)."""
    t = OutboxRow.__table__  # type: ignore[attr-defined]
    renewed: set[str] = set()
    for row_id, attempts in claims:
        result = session.connection().execute(
            t.update().where(t.c.id == row_id, t.c.status == "sending", t.c.attempts == attempts)
            .values(lease_until=database_now(session, lease_seconds)))
        if result.rowcount == 1:
            renewed.add(row_id)
    return renewed


def _claimed(row_id: str, attempts: int) -> sa.ColumnElement[bool]:
    """The row is still the claim this dispatcher made (``sending`` at that attempt): a dispatcher whose
    claim was taken over after a stall must not overwrite the new owner's outcome."""
    return sa.and_(col(OutboxRow.id) == row_id, col(OutboxRow.status) == "sending",
                   col(OutboxRow.attempts) == attempts)


def mark_all_sent(session: Session, sent: Sequence[tuple[str, int]], now: datetime) -> None:
    """Mark each (row, attempt) of this dispatcher's claims ``sent`` at ``now``: one statement for them all."""
    if not sent:
        return
    t = OutboxRow.__table__  # type: ignore[attr-defined]
    session.connection().execute(
        t.update()
        .where(t.c.id == sa.bindparam("row_id"), t.c.status == "sending", t.c.attempts == sa.bindparam("attempt"))
        .values(status="sent", sent_at=now, last_error=None, next_attempt_at=None),
        [{"row_id": row_id, "attempt": attempts} for row_id, attempts in sent])


def mark_retry(session: Session, row_id: str, error: str, next_attempt_at: datetime, *, attempts: int) -> None:
    """Back to ``pending`` after a failed attempt, not before ``next_attempt_at``."""
    session.execute(sa.update(OutboxRow).where(_claimed(row_id, attempts))
                    .values(status="pending", last_error=error, next_attempt_at=next_attempt_at))


def mark_refused(session: Session, row_id: str, reason: str, *, attempts: int) -> None:
    """Refused for good at the address it was sent to: ``pending`` without a next attempt (held, like a message
    without an address), ``reason`` saying so, until the registry gives the recipient another address."""
    session.execute(sa.update(OutboxRow).where(_claimed(row_id, attempts))
                    .values(status="pending", last_error=reason, next_attempt_at=None))


def mark_failed(session: Session, row_id: str, error: str, *, attempts: int) -> None:
    """Given up after the last attempt: ``failed``, visible in ``qualitycycle outbox --status failed``."""
    session.execute(sa.update(OutboxRow).where(_claimed(row_id, attempts))
                    .values(status="failed", last_error=error, next_attempt_at=None))


def hold_message(session: Session, row_id: str, reason: str) -> None:
    """Keep a row ``pending`` without an attempt (no address to send to), saying why."""
    session.execute(sa.update(OutboxRow).where(col(OutboxRow.id) == row_id, col(OutboxRow.status) == "pending")
                    .values(last_error=reason, next_attempt_at=None))


def held_messages(session: Session, codes: Sequence[str] | None = None) -> list[tuple[str | None, str, str]]:
    """Pending messages held back with a reason (no usable address) rather than waiting for a retry: (practice,
    kind, reason), oldest first (of the practices of ``codes`` only, when given); columns only (every page of the
    workspace with a status reads them: a range of ``ix_outbox_status_retry``)."""
    t = OutboxRow.__table__  # type: ignore[attr-defined]
    query = (sa.select(t.c.agb_code, t.c.kind, t.c.last_error)
             .where(t.c.status == "pending", t.c.next_attempt_at.is_(None), t.c.last_error.is_not(None))
             .order_by(t.c.created_at, t.c.key))
    if codes is not None:
        query = query.where(t.c.agb_code.in_(list(codes)))
    return [(agb, kind, error) for agb, kind, error in session.connection().execute(query)]


def enrolments(session: Session) -> dict[str, set[str]]:
    """Per practice, the programmes it is enrolled in (without reading the practices)."""
    found: dict[str, set[str]] = defaultdict(set)
    for agb, programme in session.exec(select(EnrolmentRow.agb_code, EnrolmentRow.programme)).all():
        found[agb].add(programme)
    return dict(found)


def group_practice_codes(session: Session, gp_group: str) -> list[str]:
    """The AGB codes of a GP group's practices."""
    return sorted(session.exec(select(PracticeRow.agb_code).where(col(PracticeRow.gp_group) == gp_group)).all())


# --- reads the services need ---------------------------------------------------------------------------------


def latest_plans(session: Session, codes: Sequence[str], on: date) -> dict[str, StoredConversation]:
    """Per practice, its last conversation held by ``on`` that agreed an improvement plan."""
    plans: dict[str, StoredConversation] = {}
    if not codes:
        return plans
    for row in session.exec(select(ConversationRow).where(
            col(ConversationRow.agb_code).in_(list(codes)), col(ConversationRow.plan).is_not(None),
            col(ConversationRow.held_on) <= on).order_by(col(ConversationRow.held_on),
                                                        col(ConversationRow.recorded_at))):
        plans[row.agb_code] = value_of(StoredConversation, row)  # the latest wins
    return plans


def first_event_at(session: Session) -> datetime | None:
    """When the care group's first trajectory event happened (None before any)."""
    return session.exec(select(TrajectoryEventRow.at).order_by(col(TrajectoryEventRow.at)).limit(1)).first()


def imported_digests(session: Session) -> set[str]:
    """The SHA-256 of every indicator file or extract imported so far."""
    return set(session.exec(select(IndicatorImportRow.sha256)).all())


def reference_rows(session: Session, *, with_imports: bool) -> list[str]:
    """The reference figures (catalogue, targets, national averages), and when asked the count and last moment
    of imports, as text: what a sweep's evaluation depends on besides each practice's own figures."""
    parts = []
    for table in (IndicatorRow, TargetRow, NationalAverageRow):
        columns = table.__table__.c  # type: ignore[union-attr]
        rows = session.connection().execute(sa.select(columns).order_by(*columns)).all()
        parts.append(repr([tuple(r) for r in rows]))
    if with_imports:
        parts.append(repr(session.connection().execute(sa.select(
            sa.func.count(), sa.func.max(col(IndicatorImportRow.imported_at)))).one()))
    return parts


def restart_trajectories(session: Session, leaves: Sequence[TrajectoryTransitioned]) -> list[str]:
    """Every fact's step waiting again and every trajectory back at its start, for a walk that takes the steps in
    order (a what-if rebuilt from a day, on a copy); facts recorded before steps were kept (conversations and
    leaves taken at once) get theirs from what they are. The practices' AGB codes."""
    steps = {r.id: r for r in session.exec(select(TrajectoryStepRow)).all()}
    for e in leaves:
        held_on = str(e.details.get("held_on") or as_amsterdam(e.at).date().isoformat())
        sid = step_id(f"leave:{e.agb_code}:{held_on}")
        if sid not in steps:
            session.add(TrajectoryStepRow(
                id=sid, agb_code=e.agb_code, trigger=Trigger.LEAVE.value,
                happened_at=fact_moment(date.fromisoformat(held_on)), recorded_at=e.recorded, actor=e.actor,
                details={"held_on": held_on, "reason": e.details.get("reason", "")}, reasons=list(e.reasons)))
    for step in steps.values():
        step.status, step.waiting, step.event_seq = "pending", None, None
        session.add(step)
    for c in session.exec(select(ConversationRow)).all():
        trigger = {"start": Trigger.HOLD_START_CONVERSATION, "annual": Trigger.HOLD_ANNUAL_CONVERSATION}.get(
            c.kind, Trigger.AGREE_IMPROVEMENT_PLAN if c.plan else None)
        sid = step_id(f"conversation:{c.id}")
        if trigger is None or sid in steps:
            continue
        details: dict[str, Any] = {"held_on": c.held_on.isoformat(), "conversation_id": c.id}
        if c.programme:
            details["programme"] = c.programme
        if c.plan:
            details["plan"] = c.plan
        session.add(TrajectoryStepRow(id=sid, agb_code=c.agb_code, trigger=trigger.value,
                                      happened_at=fact_moment(c.held_on), recorded_at=c.recorded_at, actor=c.actor,
                                      details=details, reasons=[]))
    session.flush()
    codes = list(session.exec(select(PracticeRow.agb_code)).all())
    for code in codes:  # every trajectory from the start, every practice looked at
        session.add(TrajectoryRow(agb_code=code, state="start", since=None, version=0, view={}))
    review.register(session, codes)
    return codes


# --- officers of a practice ----------------------------------------------------------------------


_ASSIGNMENTS = sa.select(OfficerAssignmentRow.__table__.c.agb_code,  # type: ignore[attr-defined]
                         OfficerAssignmentRow.__table__.c.officers)  # type: ignore[attr-defined]


def officer_assignments(session: Session, codes: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Per practice (of ``codes``, or every one), the officers who hold its conversations, in order (as columns:
    every queueing of notices reads them)."""
    if codes is None:
        return {agb_code: list(officers) for agb_code, officers in session.connection().execute(_ASSIGNMENTS)}
    found: dict[str, list[str]] = {}
    column = OfficerAssignmentRow.__table__.c.agb_code  # type: ignore[attr-defined]
    for chunk in _chunks(codes):
        found.update({agb_code: list(officers) for agb_code, officers in session.connection().execute(
            _ASSIGNMENTS.where(column.in_(chunk)))})
    return found


def keep_officers(session: Session, agb_code: str, officers: Sequence[str], at: datetime, actor: str) -> list[str]:
    """Store the officers chosen for a practice that had none (a second writer keeps the first one's choice);
    returns the practice's officers."""
    from storage.obligations import insert_ignore  # loaded only when notices are queued

    insert_ignore(session, OfficerAssignmentRow, [{"agb_code": agb_code, "officers": list(officers),
                                                   "by_hand": False, "assigned_at": at, "actor": actor}],
                  ["agb_code"])
    row = session.get(OfficerAssignmentRow, agb_code)
    return list(row.officers) if row is not None else list(officers)


def assign_officers(session: Session, agb_code: str, officers: Sequence[str], at: datetime, actor: str, *,
                    by_hand: bool = True) -> None:
    """Set a practice's officers, replacing any earlier choice (an officer's own, or a top-up after one left)."""
    row = session.get(OfficerAssignmentRow, agb_code) or OfficerAssignmentRow(agb_code=agb_code, actor=actor)
    row.officers, row.by_hand, row.assigned_at, row.actor = list(officers), by_hand, at, actor
    session.add(row)
    session.flush()
