"""TEMPORARY placeholder; the TMDB/cache issue (#4) replaces this file."""
from __future__ import annotations


class LRUCache:
    pass
