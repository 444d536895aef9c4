"""Settings: where AniVault keeps its files by default.

Library modules take their directories and tunables as parameters; these are
the defaults they fall back to when a caller passes none (the platformdirs
user dirs). Nothing here reads the config file or the environment.
"""
from __future__ import annotations

from pathlib import Path

import platformdirs

APP = "anivault"


def default_cache_dir() -> Path:
    """The scan index, the TMDB cache and bench demo libraries live here unless told otherwise."""
    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def default_data_dir() -> Path:
    """Journals, locks and history live here unless told otherwise."""
    return Path(platformdirs.user_data_dir(APP, appauthor=False))
