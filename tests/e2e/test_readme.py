"""The README's scenario example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from flows.services.context import Services


def test_readme_scenario_example_runs(sqlite_services: Services) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    (example,) = [b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "Scenario.build" in b]
    exec(compile(example, "README.md", "exec"), {"services": sqlite_services})
