"""Template presets with the TMDB id in the folder name, and the literal-bracket escapes they use."""
from __future__ import annotations

import pytest

from anivault import names
from anivault.names import Template, TemplateError, preset_templates

FIELDS = {"title": "Frieren", "year": 2023, "season": 1, "episode": 5, "ext": "mkv", "tmdb_id": 209867}


@pytest.mark.parametrize("preset, show, movie", [
    ("jellyfin", "Frieren (2023) [tmdbid-209867]", ["Frieren (2023) [tmdbid-209867]", "Frieren (2023).mkv"]),
    ("plex", "Frieren (2023) {tmdb-209867}", ["Frieren (2023) {tmdb-209867}", "Frieren (2023) {tmdb-209867}.mkv"]),
])
def test_presets_name_the_show_folder_with_the_id(preset, show, movie):
    episode_template, movie_template = preset_templates(preset)
    assert Template(episode_template).render(FIELDS) == [show, "Season 01", "Frieren - S01E05.mkv"]
    assert Template(movie_template).render(FIELDS) == movie


@pytest.mark.parametrize("preset", ["jellyfin", "plex"])
def test_without_an_id_or_year_the_folder_is_plain(preset):
    episode_template, _ = preset_templates(preset)
    fields = dict(FIELDS, tmdb_id=None, year=None)
    assert Template(episode_template).render(fields)[0] == "Frieren"


def test_escapes_are_literal_and_old_templates_are_unchanged():
    assert Template("[[{group}]] {{x}} {title}").render({"group": "G", "title": "T"}) == ["[G] {x} T"]
    assert Template("{title}[ - {episode_title}]").render({"title": "T"}) == ["T"]
    with pytest.raises(TemplateError):
        Template("{title} {tmdb-{tmdb_id}}")  # a single brace is still an error


def test_unknown_names_are_not_presets():
    assert preset_templates("kodi") is None and preset_templates(None) is None
    assert preset_templates(" Jellyfin ") == names.TEMPLATE_PRESETS["jellyfin"]
