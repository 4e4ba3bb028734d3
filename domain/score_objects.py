"""Making many ``IndicatorScore`` objects fast, unvalidated, from figures that were validated on their way in:
a recalculation's table checked as a whole, or rows read back from the database (a sweep reads hundreds of
thousands of them).

pydantic's validation costs about 5 µs an object; ``model_construct``, the documented way to skip it, still about
4 µs; setting the four slots it sets directly about 0.7 µs. ``plain_construction_holds`` checks once per process
that both ways give the same object (same state, equal to a validated one); when it does not hold (a later
pydantic, a changed model), ``model_construct`` is used.

Invariants:
- Objects made here equal, hash and pickle as validated ones, and are frozen like them.
- Nothing here validates: only figures that were validated before come here.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from domain.indicators import IndicatorScore
from domain.registry import Programme

SCORE_FIELDS = ("agb_code", "programme", "indicator", "period_end", "numerator", "denominator")
_SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
_PROGRAMMES = {p.value: p for p in Programme}


def unvalidated_scores(values: Iterable[dict[str, Any]]) -> list[IndicatorScore]:
    """``IndicatorScore`` objects from their field values (``SCORE_FIELDS``), sharing one fields set as objects
    made by ``model_construct(fields_set, ...)`` do (the model is frozen: pydantic copies the set before it
    changes it, in ``model_copy``)."""
    fields_set = set(SCORE_FIELDS)
    with without_cyclic_gc():
        if plain_construction_holds():
            return _plain(values, fields_set)
        return [IndicatorScore.model_construct(fields_set, **fields) for fields in values]


def stored_scores(rows: Iterable[Any]) -> list[IndicatorScore]:
    """Scores from rows read back from the database: (agb_code, programme code, indicator, period_end,
    numerator, denominator)."""
    return unvalidated_scores({"agb_code": a, "programme": _PROGRAMMES[p], "indicator": i, "period_end": e,
                               "numerator": n, "denominator": d} for a, p, i, e, n, d in rows)


@functools.cache
def plain_construction_holds() -> bool:
    """Whether ``IndicatorScore`` objects can be made by setting their four slots, as ``model_construct`` does:
    the model has exactly ``SCORE_FIELDS``, no private attributes, no post-init hook and no extra fields, and
    an object made so has the same state as one made by ``model_construct`` and equals a validated one."""
    model = IndicatorScore
    if (
        tuple(model.model_fields) != SCORE_FIELDS
        or model.__private_attributes__
        or model.__pydantic_post_init__
        or model.__pydantic_root_model__
        or model.model_config.get("extra") == "allow"
        or any(_slot_setter(name) is None for name in _SLOTS)
    ):
        return False
    values = {"agb_code": "01234567", "programme": Programme.DM2, "indicator": "x", "period_end": date(2024, 12, 31),
              "numerator": 1, "denominator": 2}
    made = _plain([dict(values)], set(SCORE_FIELDS))[0]
    constructed = model.model_construct(**values)  # type: ignore[arg-type]
    return bool(made.__getstate__() == constructed.__getstate__() and made == model.model_validate(values))


def _slot_setter(name: str) -> Callable[[object, object], None] | None:
    """The ``__set__`` of the descriptor behind one of ``IndicatorScore``'s slots (calling it directly is
    measured faster than ``object.__setattr__``), or None when there is no such descriptor."""
    for klass in IndicatorScore.__mro__:
        found = vars(klass).get(name)
        if found is not None:
            setter = getattr(found, "__set__", None)
            return setter if callable(setter) else None
    return None


def _plain(values: Iterable[dict[str, Any]], fields_set: set[str]) -> list[IndicatorScore]:
    set_dict, set_fields_set, set_extra, set_private = (_slot_setter(name) for name in _SLOTS)
    assert set_dict and set_fields_set and set_extra and set_private  # plain_construction_holds checked
    new = object.__new__
    model = IndicatorScore
    made: list[IndicatorScore] = []
    append = made.append
    for fields in values:
        score = new(model)
        set_dict(score, fields)
        set_fields_set(score, fields_set)
        set_extra(score, None)
        set_private(score, None)
        append(score)
    return made


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while many acyclic objects are made.

    Making 165,000 scores (each an object, a dict) triggers the collector hundreds of times, and its full passes
    walk every object of the process: measured 0.59 s with it, 0.18 s without. The scores hold no reference
    cycles, so nothing is left for it to find; it is switched back on (only if it was on) when the block ends,
    and catches up by itself afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
