"""TMDB answers checked before anything uses or caches them.

TMDB's JSON is untrusted input: every field the matcher reads is checked for
its type (ids are positive integers, names strings, lists lists), and every
string in the answer is cleaned (lone surrogates become U+FFFD; control,
bidi and BOM characters go), so nothing TMDB sends can crash a run, poison
the cache, or reach a destination name unseen. A malformed answer raises
:class:`Malformed` saying which field is wrong.
"""
from __future__ import annotations

import re
from typing import Any, Callable

# Controls (but tab and newline, for overviews), bidi controls and the BOM.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class Malformed(ValueError):
    """An answer that does not have TMDB's shape (the message names the field)."""


def clean_string(text: str) -> str:
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return _UNSAFE.sub("", text) if _UNSAFE.search(text) else text


def cleaned(value: Any) -> Any:
    """A copy with every string cleaned (JSON values only: dict, list, str, numbers, bool, None)."""
    if isinstance(value, str):
        return clean_string(value)
    if isinstance(value, dict):
        return {clean_string(str(k)): cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cleaned(v) for v in value]
    return value


# ---------------------------------------------------------------- field checks

Check = Callable[[Any, str], None]


def _fail(where: str, value: Any, what: str) -> None:
    raise Malformed(f"{where} is {_show(value)}, not {what}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def integer(minimum: int = 0, optional: bool = False) -> Check:
    def check(value: Any, where: str) -> None:
        if value is None and optional:
            return
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            _fail(where, value, f"an integer >= {minimum}")
    return check


def number(value: Any, where: str) -> None:
    if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        _fail(where, value, "a number")


def text(value: Any, where: str) -> None:
    if value is not None and not isinstance(value, str):
        _fail(where, value, "a string")


def ident(value: Any, where: str) -> None:
    """An episode group id: a string of letters and digits (it becomes part of a URL path)."""
    if not isinstance(value, str) or not value.isalnum() or not value.isascii():
        _fail(where, value, "an episode group id")


def objects(fields: dict[str, Check], required: tuple[str, ...] = ()) -> Check:
    """A list of objects with ``fields`` (each may be absent unless ``required``)."""
    return scalars(obj(fields, required))


def obj(fields: dict[str, Check], required: tuple[str, ...] = ()) -> Check:
    def check(value: Any, where: str) -> None:
        if value is None and not required:
            return
        if not isinstance(value, dict):
            _fail(where, value, "an object")
        for name in required:
            if value.get(name) is None:
                raise Malformed(f"{where}.{name} is missing")
        for name, field_check in fields.items():
            field_check(value.get(name), f"{where}.{name}" if where else name)
    return check


def scalars(kind: Check) -> Check:
    """A list whose every item passes ``kind``."""

    def check(value: Any, where: str) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            _fail(where, value, "a list")
        for n, item in enumerate(value):
            kind(item, f"{where}[{n}]")
    return check


def string(value: Any, where: str) -> None:
    if not isinstance(value, str):
        _fail(where, value, "a string")


# ---------------------------------------------------------------- the shapes the matcher reads

_GENRE_IDS = scalars(integer())
_RESULT = {"id": integer(1), "name": text, "original_name": text, "title": text, "original_title": text,
           "first_air_date": text, "release_date": text, "original_language": text,
           "genre_ids": _GENRE_IDS, "origin_country": scalars(string), "popularity": number}
_GENRES = objects({"id": integer(), "name": text})
_ALT = objects({"title": text, "iso_3166_1": text})

SHAPES: dict[str, Check] = {
    "search": obj({"results": objects(_RESULT, ("id",)), "total_results": integer(optional=True),
                   "page": integer(optional=True)}, ("results",)),
    "tv": obj({"id": integer(1), "name": text, "original_name": text, "first_air_date": text,
               "genres": _GENRES, "origin_country": scalars(string), "original_language": text,
               "seasons": objects({"season_number": integer(), "episode_count": integer(optional=True),
                                   "air_date": text, "name": text}, ("season_number",)),
               "alternative_titles": obj({"results": _ALT}),
               "episode_groups": obj({"results": objects({"id": ident, "type": integer(optional=True),
                                                          "episode_count": integer(optional=True),
                                                          "name": text}, ("id",))})}, ("id",)),
    "tv_season": obj({"season_number": integer(optional=True), "air_date": text,
                      "episodes": objects({"episode_number": integer(), "season_number": integer(optional=True),
                                           "name": text, "air_date": text}, ("episode_number",))}),
    "episode_group": obj({"id": text, "type": integer(optional=True),
                          "groups": objects({"order": integer(optional=True), "name": text,
                                             "episodes": objects({"order": integer(optional=True),
                                                                  "season_number": integer(),
                                                                  "episode_number": integer(),
                                                                  "name": text},
                                                                 ("season_number", "episode_number"))})}),
    "movie": obj({"id": integer(1), "title": text, "original_title": text, "release_date": text,
                  "genres": _GENRES, "alternative_titles": obj({"titles": _ALT})}, ("id",)),
}


def checked(kind: str, value: Any) -> Any:
    """``value`` cleaned and checked as an answer of ``kind`` ("search/tv", "tv", ...); raises Malformed."""
    value = cleaned(value)
    shape = SHAPES.get("search" if kind.startswith("search/") else kind)
    if shape is not None:
        if not isinstance(value, dict):
            raise Malformed(f"the answer is {_show(value)}, not an object")
        shape(value, "")
    return value
