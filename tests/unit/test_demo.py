"""The demo library: exact size, deterministic, varied like a real one, and never writes over anything."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from anivault.demo import TITLES, make_demo
from anivault.errors import UsageError


def tree(root: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("demo") / "lib"
    return root, make_demo(root, files=3000, seed=7)


def test_exactly_the_requested_number_of_files(demo) -> None:
    root, summary = demo
    files = tree(root)
    assert len(files) == summary.files == 3000
    assert sum(summary.by_kind.values()) == 3000
    assert summary.series > 0 and summary.directories > summary.series // 2


def test_same_seed_same_tree_other_seed_other_tree(demo, tmp_path: Path) -> None:
    root, _ = demo
    again = make_demo(tmp_path / "again", files=3000, seed=7)
    assert tree(tmp_path / "again") == tree(root)
    assert again.to_dict()["series"] == demo[1].to_dict()["series"]
    make_demo(tmp_path / "other", files=3000, seed=8)
    assert tree(tmp_path / "other") != tree(root)


def test_about_one_series_per_hundred_files(tmp_path: Path) -> None:
    summary = make_demo(tmp_path / "big", files=30_000, seed=1, sizes=False)
    assert 200 <= summary.series <= 450


def test_series_cap_makes_more_releases_of_the_same_series(tmp_path: Path) -> None:
    summary = make_demo(tmp_path / "few", files=5_000, seed=1, sizes=False, series=10)
    assert summary.files == 5_000 and summary.series == 10
    releases = {path.name for path in (tmp_path / "few").rglob("Release *")}
    assert len(releases) >= 3  # 5,000 files at ~100 a release: dozens of releases of 10 series


def test_series_cap_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        make_demo(tmp_path / "none", files=10, series=0)


def test_names_look_like_a_real_library(demo) -> None:
    root, _ = demo
    names = [name for name, _ in tree(root)]
    joined = "\n".join(names)
    patterns = {
        "fansub brackets": r"\[[^\]]+\] .+ - \d{2}(v2)? \(\d{3,4}p\) \[[0-9A-F]{8}\]\.\w+$",
        "scene dots": r"\.S\d{2}E\d{2}\.\d{3,4}p\.WEB\.H264-\w+\.\w+$",
        "underscores": r"\[[^\]]+\]_[^ ]+_-_\d{2}",
        "CJK brackets": r"【[^】]+】",
        "Plex seasons": r"Season \d{2}[/\\].+ - S\d{2}E\d{2} - ",
        "batch folders": r"\(\d{2}-\d{2}\) \[BD \d{3,4}p\] \[Batch\]",
        "specials": r"S00E\d{2}",
        "OVA": r" OVA - 01",
        "subtitles with language": r"\.(en|eng|ja|jpn|de|fr|es|pt-BR|zh-Hans|zh-Hant|ru|it)\.(ass|srt)$",
        "NCOP/NCED": r"Extras[/\\].+ - NC(OP|ED)\d",
        "fonts folders": r"Fonts[/\\].+\.(ttf|otf)$",
        "movies": r"\(\d{4}\) \[BD \d{3,4}p\]",
        "nested category folders": r"^(Anime|Downloads|Media|Seeding|Archive)[/\\][^/\\]+[/\\]",
    }
    missing = [what for what, p in patterns.items() if not re.search(p, joined, re.MULTILINE)]
    assert missing == []
    assert len({n.split(os.sep)[0] for n in names}) >= 4


def test_titles_are_real_and_names_are_portable(demo) -> None:
    root, _ = demo
    assert len(TITLES) >= 100 and all(1960 < year < 2030 for _, year in TITLES)
    for name, _ in tree(root):
        for part in name.split(os.sep):
            assert not set(part) & set('<>:"\\|?*'), part
            assert len(part.encode()) <= 255


@pytest.mark.skipif(os.name != "posix", reason="sparse sizes are on by default on POSIX only")
def test_sizes_are_realistic_but_cost_no_disk(demo) -> None:
    root, summary = demo
    videos = [p for p in root.rglob("*.mkv")]
    assert all(p.stat().st_size > 10 << 20 for p in videos)
    used = sum(p.stat().st_blocks * 512 for p in root.rglob("*") if p.is_file())
    assert used < 1 << 20 < summary.bytes


def test_empty_files_on_request(tmp_path: Path) -> None:
    summary = make_demo(tmp_path / "e", files=200, seed=1, sizes=False)
    assert summary.bytes == 0 and all(size == 0 for _, size in tree(tmp_path / "e"))


def test_never_writes_into_a_folder_that_has_files(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "precious.mkv").write_bytes(b"keep me")
    with pytest.raises(UsageError, match="not empty"):
        make_demo(tmp_path / "mine", files=10)
    assert tree(tmp_path / "mine") == [("precious.mkv", 7)]
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(UsageError, match="not a directory"):
        make_demo(tmp_path / "file", files=10)


def test_empty_folder_and_zero_files(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert make_demo(tmp_path / "empty", files=0).files == 0
    with pytest.raises(UsageError):
        make_demo(tmp_path / "neg", files=-1)
