"""Destination claims held partly in memory answer exactly as one table of every claim would."""
from __future__ import annotations

import random

import pytest

from anivault.organize import claims as claims_module
from anivault.organize.claims import Claims
from anivault.organize.entries import PlanOptions
from anivault.organize.naming import DestIndex
from anivault.organize.store import connect


@pytest.mark.parametrize("batch", [5, 50])
@pytest.mark.parametrize("seed", range(20))
def test_claims_match_a_plain_table_whatever_is_held(seed: int, batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiny bounds, so folders are evicted, read back, asked about by name and written in batches.
    monkeypatch.setattr(claims_module, "_HELD", 12)
    monkeypatch.setattr(claims_module, "_WHOLE", 6)
    monkeypatch.setattr(claims_module, "_BATCH", batch)
    rnd = random.Random(seed)
    db = connect()
    claims = Claims(db, PlanOptions(dest="/nonexistent-dest"), DestIndex(), path_of=lambda n: f"/src/{n}")
    model: dict[tuple[str, str], int] = {}
    for n in range(1, 400):
        key = (f"/d/folder {rnd.randrange(8)}", f"name {rnd.randrange(15)}")
        roll = rnd.random()
        if roll < 0.8:
            assert claims.claim(*key, n) == model.get(key)
            model.setdefault(key, n)
        elif roll < 0.9 and key in model:  # the planner releases only what it has just claimed
            claims.release(*key)
            del model[key]
        else:
            assert claims.taken(*key) == (key in model)
        assert claims._held_count <= claims_module._HELD
