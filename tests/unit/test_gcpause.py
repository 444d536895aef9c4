"""The rare-collection pause: restores the collector exactly, and only the outermost pause acts."""
import gc

from anivault.gcpause import rare_gc_pauses


def test_pause_raises_the_threshold_and_restores_it():
    before = gc.get_threshold()
    with rare_gc_pauses(before[0] + 10_000):
        assert gc.get_threshold()[0] == before[0] + 10_000
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_nested_pause_leaves_the_outer_one_in_charge():
    before = gc.get_threshold()
    with rare_gc_pauses(50_000):
        with rare_gc_pauses(20_000):  # the scan streaming inside planning
            assert gc.get_threshold()[0] == max(before[0], 50_000)
        assert gc.get_freeze_count() > 0  # the inner pause did not unfreeze the planner's objects
        assert gc.get_threshold()[0] == max(before[0], 50_000)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_pause_restores_after_an_error():
    before = gc.get_threshold()
    try:
        with rare_gc_pauses(30_000):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
