"""The care group's policy: every threshold the quality cycle uses, in one object.

Invariant: rules read thresholds only from a ``Policy``; no threshold lives anywhere else.
Defaults follow the seed (section 1, "Minder presterende praktijken"): more than 20%
behind, after one year of practice visits, with little or no improvement.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.registry import CHRONIC_PROGRAMMES, Programme


class LagMode(StrEnum):
    """How "more than 20% behind the national average" is read.

    ``relative``: score < average x (1 - lag_share_of_average).
    ``points``: score < average - lag_points (percentage points).
    """

    RELATIVE = "relative"
    POINTS = "points"


class MissingAverage(StrEnum):
    """What the underperformer rule compares with when no national average exists for the period's
    year or any earlier year."""

    NONE = "none"  # the indicator is not judged (noted in the decision)
    CARE_GROUP_MEDIAN = "care_group_median"  # the median across the care group's practices, same period


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    deviation_share_of_target: float = Field(
        0.20,
        gt=0,
        lt=1,
        description="Strong deviation: a main process indicator lies below its target by more "
        "than this share of the target (0.20: score < 80% of target). Opens an extra conversation.",
    )
    underperformer_after_months: int = Field(
        12,
        ge=1,
        description="Months after the improvement plan was agreed before the underperformer rule applies.",
    )
    lag_mode: LagMode = Field(LagMode.RELATIVE, description="How lagging the national average is measured.")
    lag_share_of_average: float = Field(
        0.20, gt=0, lt=1, description="Mode relative: lagging means score < average x (1 - this)."
    )
    lag_points: float = Field(20.0, gt=0, le=100, description="Mode points: lagging means score < average - this.")
    min_improvement_points: float = Field(
        5.0,
        ge=0,
        description="Little or no improvement: the score rose by less than this many points since "
        "the last period before the plan.",
    )
    without_national_average: MissingAverage = Field(
        MissingAverage.NONE,
        description="Where no national average exists at all: skip the indicator, or compare with the care "
        "group's own median across its practices for that period.",
    )
    progress_report_every_months: int = Field(
        3, ge=1, description="How often the board hears how a trajectory under the policy goes."
    )
    annual_conversation_every_months: int = Field(
        12, ge=1, le=12, description="The annual conversation falls within this many months of the last."
    )
    extra_conversation_within_days: int = Field(
        42, ge=1, description="An extra conversation is due this many days after the deviation was flagged."
    )
    chronic_programmes: frozenset[Programme] = Field(
        CHRONIC_PROGRAMMES, description="Programmes whose process indicators the escalation rules read."
    )
