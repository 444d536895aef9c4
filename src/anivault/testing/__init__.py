"""A TMDB-compatible server on 127.0.0.1 with fixture data and fault switches.

Used by AniVault's own tests and by ``anivault bench``; a tool that imports
AniVault can use it the same way to test its integration without the network::

    from anivault.testing import TMDBServer

    with TMDBServer() as server:          # binds 127.0.0.1 on a free port
        env = {"ANIVAULT_TMDB_BASE_URL": server.url, "TMDB_API_KEY": server.api_key}
        ...

It never listens on any address but the loopback one.
"""
from __future__ import annotations

from . import fixtures
from .server import API_KEY, READ_TOKEN, Catalogue, TMDBServer, most_in_window

__all__ = ["API_KEY", "READ_TOKEN", "Catalogue", "TMDBServer", "fixtures", "most_in_window"]
