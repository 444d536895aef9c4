"""Record types shared across stages (parse → scan → match → organize)."""
from __future__ import annotations

from typing import Any, NamedTuple


class ParsedName(NamedTuple):
    """What a release name says. Frozen and slotted (a tuple), cheap to build from Cython."""

    title: str | None = None
    season: int | None = None
    episode: int | None = None
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

    def to_dict(self) -> dict[str, Any]:
        d = self._asdict()
        d["other"] = list(self.other)
        return d
