"""Record types shared across stages (parse → scan → match → organize)."""
from __future__ import annotations

from typing import Any, NamedTuple


class ParsedName(NamedTuple):
    """What a release name says. Frozen and slotted (a tuple), cheap to build from Cython.

    Numbers are ints, except ``episode``: a float for fractional specials
    ("12.5", "07.5"), an int otherwise. A range ("01-02", "(01-12)") is
    ``episode``..``episode_end``; a lettered part ("01b") is episode 1 with
    "Part B" in ``other``. ``resolution`` is normalized to "<height>p"
    ("1920x1080" → "1080p", "4K" → "2160p"); ``crc32`` is 8 uppercase hex
    digits; ``ext`` is lowercase without the dot. ``kind`` is one of "episode",
    "special" (OVA, SP, 12.5, 00...), "extra" (NCOP, PV, Menu...), "movie"
    (no episode: Movie, a year, or nothing but a title) and "batch" (a range
    of episodes, Complete, Batch, a season pack). ``source`` is "BD", "DVD",
    "WEB", "HDTV"...; ``video_codec`` "H.264", "H.265", "AV1"...;
    ``audio_codec`` "AAC", "FLAC", "AC3", "E-AC3", "DTS", "TrueHD", "Opus"...;
    ``language`` a language code ("ja", "en", "pt-BR"; for a subtitle file,
    its ``.en.ass`` suffix); ``subtitles`` "zh-Hans", "zh-Hant", "Multi",
    "Softsub", "Hardsub", "Signs & Songs"...; ``other`` further tags in name
    order ("10bit", "Dual Audio", "Batch", "END", "Remux", "CR"...). ``extra_type``
    is the type word of a special, extra or movie ("OVA", "OAD", "SP", "Recap", "NCOP",
    "NCED", "OP", "ED", "PV", "CM", "Menu", "Movie"...), which never stays in ``title``.
    """

    title: str | None = None
    season: int | None = None
    episode: int | float | None = None
    episode_end: int | None = None
    version: int | None = None
    group: str | None = None
    resolution: str | None = None
    year: int | None = None
    crc32: str | None = None
    kind: str = "episode"
    ext: str | None = None
    episode_title: str | None = None
    source: str | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    language: str | None = None
    subtitles: str | None = None
    other: tuple[str, ...] = ()
    extra_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (``other`` as a list)."""
        d = self._asdict()
        d["other"] = list(self.other)
        return d
