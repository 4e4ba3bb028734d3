"""Settings come from QC_ variables and a settings file; the policy from a file; the working calendar
keeps duties off weekends, Dutch public holidays and the care group's closure days."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.calendar import WorkingCalendar
from domain.policy import LagMode
from flows.services.settings import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("QC_HOME", "QC_DATABASE_URL", "QC_POLICY_FILE", "QC_SETTINGS_FILE", "QC_POLICY__LAG_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_put_an_sqlite_database_in_var(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.home == Path("var")
    assert settings.db_url() == f"sqlite:///{tmp_path / 'var' / 'qualitycycle.db'}"
    assert settings.load_policy().lag_mode is LagMode.RELATIVE


def test_environment_overrides_home_database_and_one_threshold(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QC_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("QC_POLICY__LAG_MODE", "points")
    assert load_settings().db_url().endswith("data/qualitycycle.db")
    assert load_settings().load_policy().lag_mode is LagMode.POINTS
    monkeypatch.setenv("QC_DATABASE_URL", "postgresql://qc@db.example/qc")
    # with the timeouts every connection gets, unless the address sets them itself
    assert load_settings().db_url() == ("postgresql+psycopg://qc@db.example/qc?connect_timeout=10&"
                                        "options=-c+statement_timeout%3D300000")


def test_settings_file_sets_policy_and_closure_days_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "qualitycycle.toml").write_text(
        'home = "elsewhere"\nclosure_days = [2025-12-29]\n[policy]\nmin_improvement_points = 7.5\n',
        encoding="utf-8")
    settings = load_settings()
    assert settings.home == Path("elsewhere") and settings.load_policy().min_improvement_points == 7.5
    assert not settings.calendar().is_working_day(date(2025, 12, 29))
    monkeypatch.setenv("QC_HOME", "var2")
    assert load_settings().home == Path("var2")


def test_policy_file_in_yaml_overrides_thresholds_and_a_bad_value_is_named(tmp_path: Path) -> None:
    policy = tmp_path / "beleid.yaml"
    policy.write_text("policy:\n  deviation_share_of_target: 0.25\n  lag_mode: points\n", encoding="utf-8")
    loaded = Settings(policy_file=policy).load_policy()
    assert loaded.deviation_share_of_target == 0.25 and loaded.lag_mode is LagMode.POINTS
    policy.write_text("deviation_share_of_target: 1.5\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="deviation_share_of_target"):
        Settings(policy_file=policy).load_policy()
    with pytest.raises(SettingsError, match="bestaat niet"):
        Settings(policy_file=tmp_path / "missing.yaml").load_policy()


def test_unknown_policy_field_is_refused_not_ignored(tmp_path: Path) -> None:
    policy = tmp_path / "beleid.toml"
    policy.write_text("deviation_share = 0.3\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="deviation_share"):
        Settings(policy_file=policy).load_policy()


# --- the working calendar ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 4, 26), False),   # King's Day on a Saturday (27 April was a Sunday)
        (date(2026, 4, 27), False),   # King's Day
        (date(2025, 4, 18), False),   # Good Friday
        (date(2025, 5, 29), False),   # Ascension Day
        (date(2025, 6, 9), False),    # Whit Monday
        (date(2025, 12, 26), False),  # Boxing Day
        (date(2025, 5, 5), False),    # Liberation Day in a lustrum year
        (date(2026, 5, 5), True),     # ... but not in 2026 by default
        (date(2026, 5, 4), True),
        (date(2026, 5, 9), False),    # a Saturday
    ],
)
def test_dutch_working_days(day: date, working: bool) -> None:
    assert WorkingCalendar().is_working_day(day) is working


def test_liberation_day_every_year_and_closure_days_are_settings() -> None:
    calendar = WorkingCalendar.with_closures([date(2026, 5, 15)], liberation_day_every_year=True)
    assert not calendar.is_working_day(date(2026, 5, 5))
    assert not calendar.is_working_day(date(2026, 5, 15))
    # Ascension Thursday 14 May and the closure Friday 15 May: back to Wednesday 13 May
    assert calendar.on_or_before(date(2026, 5, 16)) == date(2026, 5, 13)
    assert calendar.on_or_after(date(2026, 5, 14)) == date(2026, 5, 18)
    assert calendar.holiday_name(date(2026, 4, 27)) == "Koningsdag"
