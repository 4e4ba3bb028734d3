"""The care group's policy: every threshold the quality cycle uses, in one object.

Invariant: rules read thresholds only from a ``Policy``; no threshold lives anywhere else.
Defaults follow the seed (section 1, "Minder presterende praktijken"): more than 20%
behind, after one year of practice visits, with little or no improvement.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.inputs import Name
from domain.registry import Programme
from domain.vocabulary import CHRONIC_PROGRAMMES


class JudgeBy(StrEnum):
    """How a score is held against a threshold for a strong deviation.

    ``point``: the score itself lies below the threshold. ``interval``: even the upper bound of the score's 95%
    Wilson interval lies below it (a small practice's low score may be chance).
    """

    POINT = "point"
    INTERVAL = "interval"


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
    min_denominator: int = Field(
        10,
        ge=1,
        description="A figure over fewer patients than this is not judged by the escalation rules (the decision "
        "notes it): fewer patients say little (VIPLive shows no group under 10).",
    )
    judge_by: JudgeBy = Field(
        JudgeBy.POINT,
        description="Strong deviation: the score below the threshold (point), or even its 95% interval's upper "
        "bound below it (interval).",
    )
    without_national_average: MissingAverage = Field(
        MissingAverage.NONE,
        description="Where no national average exists at all: skip the indicator, or compare with the care "
        "group's own median across its practices for that period.",
    )
    figures_count_after_days: int = Field(
        0, ge=0, le=366,
        description="An indicator figure counts from its period end plus this many days, live and in a backfill "
        "alike: set it to the publication delay (figures are published some weeks after a quarter) so that history "
        "brought in flags a practice on the day it could have been, not on the period's last day.",
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
    start_conversation_within_days: int = Field(
        42, ge=1, description="A start conversation is due this many days after a programme starts."
    )
    conversation_days_before_due: int = Field(
        14, ge=0, description="A conversation is planned this many days before its due date (then moved to a "
        "working day on or before)."
    )
    conversation_start: time = Field(time(14, 0), description="Time of day a conversation is planned at.")
    conversation_minutes: int = Field(90, ge=15, le=480)
    invitation_days_before: int = Field(
        28, ge=1, description="Invitations to conversations and meetings go out this many days before."
    )
    reminder_days_before: int = Field(7, ge=1, description="A reminder goes out this many days before.")
    meetings_per_year: int = Field(
        5, ge=4, le=6, description="POH meetings and practice-manager meetings per year, each (seed: 4-6)."
    )
    meeting_weekday: int = Field(1, ge=0, le=4, description="Weekday of meetings: 0 Monday ... 4 Friday.")
    meetings_same_evening: bool = Field(
        False, description="POH meetings and practice-manager meetings on the same evening; by default the "
        "practice managers meet the next weekday (the day before, for Friday meetings), never the same evening."
    )
    meeting_start: time = Field(time(19, 0), description="Time of day meetings start.")
    meeting_minutes: int = Field(120, ge=15, le=480)
    meeting_location: Name = Field("Kantoor van de zorggroep")
    mirror_meeting_within_weeks: int = Field(
        8, ge=1, le=52, description="A GP group's mirror meeting is held within this many weeks of its request, on "
        "the meeting weekday (seed: on request)."
    )
    kit_refresh_every_months: int = Field(
        24, ge=1, description="Instruction kits (inhalation, insulin) are refreshed this often (seed: two-yearly)."
    )
    kit_notice_days_before: int = Field(28, ge=1, description="The practice hears of a kit refresh this early.")
    cards_current_within_weeks: int = Field(
        6, ge=1, le=52, description="A practice marks its folder current with newly published instruction cards "
        "within this many weeks; after that the officers hear which practices are still behind."
    )
    training_notice_days_before: int = Field(
        56, ge=1, description="A person hears of a mandatory course falling due this early."
    )
    checklist_days_before_annual: int = Field(
        35, ge=1, le=180, description="A practice's yearly checklist of its own quality system (seed 003) is due this "
        "many days before its annual conversation: more than invitation_days_before, so its answers are in the "
        "invitation's pack."
    )
    checklist_notice_days_before: int = Field(
        21, ge=1, le=180, description="The practice hears this many days before its checklist is due."
    )
    accreditation_notice_weeks_before: int = Field(
        12, ge=1, le=52, description="The practice hears this many weeks before its NHG accreditation lapses, and "
        "before its audit falls due."
    )
    accreditation_audit_every_months: int = Field(
        36, ge=12, le=60, description="The NHG accreditation's audit falls due this long after the last one "
        "(three-yearly)."
    )
    network_plan_evaluation_every_months: int = Field(
        12, ge=1, le=36, description="A GP group's network plan with its partners is evaluated this long after it was "
        "agreed or last evaluated (seed 5: yearly)."
    )
    network_plan_notice_days_before: int = Field(
        42, ge=1, le=180, description="The GP group's practices hear this many days before their network plan's "
        "evaluation falls due."
    )
    board_digest_every_months: int = Field(
        3, ge=1, le=12, description="The board's digest of every trajectory under the policy (default quarterly)."
    )

    def fingerprint(self) -> str:
        """A digest of every threshold, the same in every process (sets in sorted order): what a review of
        a practice was made under, so a changed policy makes the next sweep look at every practice."""
        return hashlib.sha256(json.dumps(_canonical(self.model_dump(mode="python")), sort_keys=True)
                              .encode()).hexdigest()[:32]

    @model_validator(mode="before")
    @classmethod
    def _courses_left_the_policy(cls, data: Any) -> Any:
        if isinstance(data, dict) and "mandatory_courses" in data:
            raise ValueError("mandatory_courses staat niet meer in het beleid: de scholingen zijn een catalogus "
                             "(qualitycycle import-courses BESTAND)")
        return data

    @model_validator(mode="after")
    def _reminder_after_invitation(self) -> Policy:
        if self.reminder_days_before >= self.invitation_days_before:
            raise ValueError("reminder_days_before moet kleiner zijn dan invitation_days_before")
        if 12 % self.board_digest_every_months:
            raise ValueError("board_digest_every_months moet 1, 2, 3, 4, 6 of 12 zijn (perioden vanaf 1 januari)")
        return self


def _canonical(value: Any) -> Any:
    """JSON-ready and independent of set order (string hashing differs per process)."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


@dataclass(frozen=True)
class PolicyVersion:
    """A policy as the care group set it, with the day from which it applies. Number 0 is the policy of the
    settings (``QC_POLICY_FILE``, ``QC_POLICY__*``, else the defaults), in force before any version was set."""

    number: int
    applies_from: date | None
    policy: Policy
    reason: str = "instellingen"

    @property
    def label(self) -> str:
        """``beleid 2 (vanaf 2025-01-01)``, as a decision names the policy it was taken under."""
        if self.number == 0:
            return "beleid 0 (instellingen)"
        return f"beleid {self.number} (vanaf {self.applies_from.isoformat() if self.applies_from else '?'})"


def in_force(versions: Sequence[PolicyVersion], base: Policy, on: date) -> PolicyVersion:
    """The version that applies on ``on``: the latest one set to apply from that day or earlier (the highest
    number among those of one day), else the settings' policy."""
    applying = [v for v in versions if v.applies_from is not None and v.applies_from <= on]
    if not applying:
        return PolicyVersion(0, None, base)
    return max(applying, key=lambda v: (v.applies_from or date.min, v.number))
