"""Names safe everywhere: every Windows rule as a pure function, checked on any host."""
from __future__ import annotations

import os
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anivault import names
from anivault.names import Template, TemplateError

DEFAULT = "{title} ({year})/Season {season:02}/{title} - S{season:02}E{episode:02}[-E{episode_end:02}].{ext}"


@pytest.mark.parametrize("char", list('<>:"/\\|?*'))
def test_every_illegal_character_is_replaced(char: str) -> None:
    out = names.safe_component(f"a{char}b")
    assert not set(out) & set('<>:"/\\|?*')
    assert out.startswith("a") and out.endswith("b")


def test_control_characters_and_nul_vanish() -> None:
    assert names.safe_component("a\x00b\x1fc\x7fd\ne\tf") == "abcdef"


@pytest.mark.parametrize("style, expected", [
    ("dash", "Re - Zero"), ("space", "Re Zero"), ("fullwidth", "Re\uff1a Zero"), ("remove", "Re Zero"),
])
def test_colon_styles(style: str, expected: str) -> None:
    assert names.safe_component("Re: Zero", colon_style=style) == expected


def test_colon_without_space_uses_a_bare_dash() -> None:
    assert names.safe_component("Re:Zero") == "Re-Zero"


def test_unknown_colon_style_is_refused() -> None:
    with pytest.raises(ValueError, match="colon style"):
        names.safe_component("a:b", colon_style="bogus")


@pytest.mark.parametrize("name", ["CON", "prn", "Aux", "NUL", "COM1", "com9", "LPT1", "lpt9", "COM0",
                                  "COM\u00b9", "LPT\u00b3", "CONIN$", "CONOUT$"])
@pytest.mark.parametrize("ext", ["", ".mkv", ".tar.gz"])
def test_reserved_device_names_are_escaped_with_any_extension(name: str, ext: str) -> None:
    out = names.safe_component(name + ext)
    base = out.partition(".")[0]
    assert base.upper() not in names._RESERVED
    assert out.endswith(ext)


@pytest.mark.parametrize("name", ["CONSOLE", "COM10", "LPT", "Con Air", "NULL.txt", "AUX-1"])
def test_names_that_only_look_reserved_are_kept(name: str) -> None:
    assert names.safe_component(name) == name


def test_reserved_with_trailing_space_before_extension() -> None:
    # Windows treats "CON .txt" as the device too.
    assert names.safe_component("CON .txt").partition(".")[0].rstrip().upper() != "CON"


@pytest.mark.parametrize("raw, expected", [("Title.", "Title"), ("Title. . ", "Title"), ("  Title  ", "Title"),
                                           ("...", "_"), ("", "_"), ("..", "_"), (".", "_")])
def test_trailing_dots_and_spaces_are_stripped_and_never_empty(raw: str, expected: str) -> None:
    assert names.safe_component(raw) == expected


def test_components_are_capped_at_255_utf8_bytes_keeping_the_extension() -> None:
    out = names.safe_component("\u3042" * 300 + ".mkv")
    assert len(out.encode()) <= 255
    assert out.endswith(".mkv")
    out.encode("utf-8")  # never a split character


def test_truncate_utf8_never_splits_a_character() -> None:
    text = "a\u00e9\u3042\U0001f600" * 20
    for limit in range(0, 60):
        cut = names.truncate_utf8(text, limit)
        assert len(cut.encode()) <= limit
        assert text.startswith(cut)


def test_text_is_normalized_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "P\u00f3kemon")
    out = names.safe_component(decomposed)
    assert out == unicodedata.normalize("NFC", out) == "P\u00f3kemon"


def test_undecodable_bytes_become_underscores() -> None:
    assert names.safe_component("bad\udcffname") == "bad_name"


def test_windows_length_counts_utf16_units() -> None:
    assert names.windows_length("a\U0001f600") == 3


def test_path_limits_for_windows_targets() -> None:
    assert names.path_fits_windows("C:\\" + "a" * 250)
    assert not names.path_fits_windows("C:\\" + "a" * 260)
    assert not names.path_fits_windows("C:\\" + "a" * 250, is_dir=True)  # directories: 248


def test_case_only_differences_share_a_key() -> None:
    assert names.case_key("Show/Season 01/A.mkv") == names.case_key("SHOW/season 01/a.MKV")
    assert names.case_key("A") != names.case_key("B")


@pytest.mark.parametrize("parts", [["..", "x"], ["a", ".."], ["/etc"], ["C:", "x"], ["a\x00b"], ["a/b"],
                                   ["a\\b"], []])
def test_join_under_refuses_anything_that_could_escape(tmp_path, parts) -> None:
    with pytest.raises(ValueError):
        names.join_under(str(tmp_path), parts)


def test_template_renders_the_plex_default() -> None:
    t = Template(DEFAULT)
    fields = {"title": "Cowboy Bebop", "year": 1998, "season": 1, "episode": 5, "ext": "mkv"}
    assert t.render(fields) == ["Cowboy Bebop (1998)", "Season 01", "Cowboy Bebop - S01E05.mkv"]
    assert t.render(dict(fields, episode_end=6))[-1] == "Cowboy Bebop - S01E05-E06.mkv"


def test_missing_year_leaves_no_empty_parentheses() -> None:
    parts = Template(DEFAULT).render({"title": "Show", "season": 2, "episode": 1, "ext": "mp4"})
    assert parts == ["Show", "Season 02", "Show - S02E01.mp4"]


def test_template_values_cannot_add_folders() -> None:
    parts = Template(DEFAULT).render({"title": "Fate/Zero", "year": 2011, "season": 1, "episode": 1, "ext": "mkv"})
    assert len(parts) == 3 and parts[0] == "Fate-Zero (2011)"


def test_long_titles_are_shortened_keeping_the_episode_tag_and_extension() -> None:
    parts = Template(DEFAULT).render({"title": "T" * 400, "year": 2000, "season": 1, "episode": 7,
                                      "episode_end": 8, "ext": "mkv"})
    assert all(len(p.encode()) <= 255 for p in parts)
    assert parts[-1].endswith(" - S01E07-E08.mkv")


@pytest.mark.parametrize("bad", ["{nope}", "{title", "a]b", "[{title}", "", "a//b"])
def test_bad_templates_are_usage_errors(bad: str) -> None:
    with pytest.raises(TemplateError):
        Template(bad)


def test_windows_target_detection_never_fails(tmp_path) -> None:
    assert names.is_windows_target(str(tmp_path)) in (True, False)


# ---------------------------------------------------------------- nothing escapes the root

hostile_text = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["..", ".", "/", "\\", "../..", "..\\..", "C:", "C:\\Windows", "/etc/passwd", "\x00",
                     "CON", "a/../../b", "~", "\\\\server\\share", " ..", ".. ", "..\u2024"]),
)


@settings(max_examples=400, deadline=None)
@given(title=hostile_text, ext=hostile_text, group=hostile_text, episode_title=hostile_text,
       original=hostile_text, season=st.integers(0, 3000), episode=st.integers(0, 100000),
       colon=st.sampled_from(names.COLON_STYLES),
       template=st.sampled_from([DEFAULT, "{title}/{original}.{ext}", "{group}/{episode_title}/{title}.{ext}",
                                 "../{title}/{ext}", "{title}/../../{original}"]))
def test_no_text_from_tmdb_or_a_file_name_escapes_the_destination(tmp_path_factory, title, ext, group,
                                                                    episode_title, original, season,
                                                                    episode, colon, template) -> None:
    root = str(tmp_path_factory.getbasetemp() / "root")
    fields = {"title": title, "ext": ext, "group": group, "episode_title": episode_title, "original": original,
              "season": season, "episode": episode, "year": 2000}
    parts = Template(template, colon).render(fields)
    path = names.join_under(root, parts)  # raises if it escaped
    real = os.path.normpath(path)
    assert real.startswith(root + os.sep)
    assert all(p not in ("", ".", "..") and "\x00" not in p and len(p.encode("utf-8", "surrogatepass")) <= 255
               for p in parts)
    assert all(":" not in p and "/" not in p and "\\" not in p for p in parts)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_safe_component_is_always_one_valid_component(text: str) -> None:
    out = names.safe_component(text)
    assert out and out not in (".", "..")
    assert not set(out) & set('<>:"/\\|?*\x00')
    assert len(out.encode("utf-8")) <= 255
    assert not out.endswith((".", " "))
    assert out.partition(".")[0].rstrip().upper() not in names._RESERVED
    assert out == unicodedata.normalize("NFC", out)


def test_audio_tag_and_the_new_tokens() -> None:
    from anivault.models import ParsedName
    from anivault.names import Template, audio_tag

    assert audio_tag(ParsedName(other=("10bit", "Dual Audio"), ext="mkv")) == "Dual Audio"
    assert audio_tag(ParsedName(language="en", ext="mkv")) == "EN"
    assert audio_tag(ParsedName(language="en", ext="ass")) is None  # a subtitle's language is not audio
    assert audio_tag(ParsedName(ext="mkv")) is None
    t = Template("{title}/{title} - {absolute:03}[ - {episode_title}][ ({audio})].{ext}")
    assert t.render({"title": "Show", "absolute": 7, "episode_title": "Start\u202e", "audio": "Dual Audio",
                     "ext": "mkv"}) == ["Show", "Show - 007 - Start (Dual Audio).mkv"]
    assert t.render({"title": "Show", "absolute": 7, "ext": "mkv"}) == ["Show", "Show - 007.mkv"]
