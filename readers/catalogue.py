"""The indicator catalogue shipped with the product (``readers/data/catalogue.csv``).

Each definition carries its Dutch name, kind, whether it is a main process indicator, how it is
computed from a pseudonymised extract, its numerator and denominator in words, and the public
source it follows (see ``shared/reference``). Which indicators count as "main" is the care
group's choice: it replaces or extends this catalogue with ``qualitycycle import-catalogue``.
"""

from __future__ import annotations

from pathlib import Path

from domain.indicators import IndicatorDefinition
from readers.files import parse_catalogue

DEFAULT_CATALOGUE_FILE = Path(__file__).parent / "data" / "catalogue.csv"


def default_catalogue() -> list[IndicatorDefinition]:
    return parse_catalogue(DEFAULT_CATALOGUE_FILE)
