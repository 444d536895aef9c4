"""The folder context of a scanned file: the quick per-folder path agrees with split_path."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from anivault import parse as parse_module
from anivault.models import ParsedName
from anivault.parse import FOLDER_DEPTH, GENERIC_FOLDERS, SPECIAL_FOLDERS, EXTRA_FOLDERS, _fill

# Names made of what split_path treats specially: both separators, spaces, bracket pairs,
# digits (fractions, numbered seasons), ".", drive letters, generic folder names.
_PIECES = st.sampled_from(["[", "]", "(", ")", "{", "}", "【", "】", "（", "）", " ", "/", "//", "\\", ".",
                           "..", ":", "C:", "1", "2", "05", "Season 2", "S1", "Specials", "Extras", "NCOP",
                           "[Group] ", "Show", " - ", "Title 1/2 ", "1080p", "BD", "x", "ä", "第2季"])
_PATHS = st.lists(_PIECES, max_size=12).map(lambda parts: "/" + "".join(parts))


def _reference_context(folders: tuple[str, ...]) -> ParsedName:
    """The folder context as parse._folder_context worked it out before it was split by level."""
    context = ParsedName(kind="")
    for folder in reversed(folders):
        parsed = parse_module._parse_folder(folder)
        key = folder.strip().lower()
        kind = "special" if key in SPECIAL_FOLDERS else "extra" if key in EXTRA_FOLDERS else ""
        if parsed.title and parsed.title.lower() in GENERIC_FOLDERS:
            parsed = parsed._replace(title=None)
        elif folder.isascii() and folder.isdigit() and len(folder) <= 2:
            parsed = ParsedName(season=int(folder))
        context = _fill(context, parsed)
        if not context.kind and kind:
            context = context._replace(kind=kind)
    return context


@settings(max_examples=600, deadline=None)
@given(_PATHS)
def test_plain_folders_agree_with_split_path(path: str) -> None:
    parse_module._plain_folders.cache_clear()
    plain = parse_module._plain_folders(path)
    if plain is not None:
        assert plain == parse_module._split_folders(path)


@settings(max_examples=300, deadline=None)
@given(_PATHS)
def test_dir_context_is_the_context_of_split_path_folders(path: str) -> None:
    folders = parse_module._split_folders(path)
    expected = _reference_context(folders) if folders else None
    assert parse_module._dir_context(path) == expected


def test_walked_paths_take_the_quick_path() -> None:
    parse_module._plain_folders.cache_clear()
    path = "/lib/TV/[Group] Show (2020) [BD 1080p]/Season 2"
    assert parse_module._plain_folders(path) == ("TV", "[Group] Show (2020) [BD 1080p]", "Season 2")
    assert parse_module._plain_folders("/lib/./Show/..") == ("lib", "Show")
    assert len(parse_module._plain_folders("/a/b/c/d/e") or ()) == FOLDER_DEPTH


def test_paths_split_elsewhere_take_split_path() -> None:
    for path in ("/lib/Title A / Title B", "/lib/[A/B] Show", "/lib/[G] Ranma 1/2 - 03", "C:\\lib\\Show",
                 "/lib/Show (2020/Season 1)", "relative/path", "/lib//Show"):
        assert parse_module._plain_folders(path) is None, path


def test_a_folder_context_comes_from_the_nearest_folder_first() -> None:
    got = parse_module._folder_context(("[Group] Show [1080p]", "Specials"))
    assert got == _reference_context(("[Group] Show [1080p]", "Specials"))
    assert got.kind == "special" and got.title == "Show" and got.group == "Group"
