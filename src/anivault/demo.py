"""A realistic, deterministic synthetic anime library for trying AniVault and for benchmarks.

``make_demo(root, files=N, seed=S)`` writes exactly N files (empty, or sparse
with realistic sizes on POSIX) laid out the way real libraries are: fansub
brackets, scene dots, underscores, CJK brackets, Plex-style names; seasons,
specials, OVAs, movies, batch folders, subtitles with language suffixes,
NCOP/NCED extras, fonts folders and nested category folders. About one
series (a title and season) per 100 files; the same seed gives the same tree.
``series=K`` caps the series at K: past them, each series comes back as another
release (another group, resolution and style), so a library can grow in files
while its series stay few.
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from typing import Iterator

from .errors import UsageError

# Real titles (with first-air years) so matching against TMDB finds something.
# Series repeat with other seasons, groups and sequel variants to reach
# ~3,000 series at 300k files.
TITLES: tuple[tuple[str, int], ...] = (
    ("Cowboy Bebop", 1998), ("Neon Genesis Evangelion", 1995), ("Fullmetal Alchemist Brotherhood", 2009),
    ("Steins;Gate", 2011), ("Attack on Titan", 2013), ("Death Note", 2006), ("Code Geass", 2006),
    ("Hunter x Hunter", 2011), ("One Punch Man", 2015), ("Mob Psycho 100", 2016),
    ("Demon Slayer", 2019), ("Jujutsu Kaisen", 2020), ("Spy x Family", 2022), ("Chainsaw Man", 2022),
    ("Bocchi the Rock!", 2022), ("Frieren: Beyond Journey's End", 2023), ("Oshi no Ko", 2023),
    ("Made in Abyss", 2017), ("Vinland Saga", 2019), ("Violet Evergarden", 2018),
    ("Your Lie in April", 2014), ("Anohana", 2011), ("Clannad", 2007), ("Toradora!", 2008),
    ("K-On!", 2009), ("Haruhi Suzumiya", 2006), ("Lucky Star", 2007), ("Nichijou", 2011),
    ("Hyouka", 2012), ("Kaguya-sama: Love Is War", 2019), ("Horimiya", 2021),
    ("My Hero Academia", 2016), ("Black Clover", 2017), ("Dr. Stone", 2019), ("Fire Force", 2019),
    ("The Promised Neverland", 2019), ("Tokyo Ghoul", 2014), ("Parasyte", 2014),
    ("Psycho-Pass", 2012), ("Ghost in the Shell: Stand Alone Complex", 2002), ("Samurai Champloo", 2004),
    ("Trigun", 1998), ("Berserk", 1997), ("Monster", 2004), ("Mushishi", 2005),
    ("Natsume's Book of Friends", 2008), ("Barakamon", 2014), ("Silver Spoon", 2013),
    ("Haikyu!!", 2014), ("Kuroko's Basketball", 2012), ("Yuri!!! on Ice", 2016), ("Free!", 2013),
    ("Hajime no Ippo", 2000), ("Slam Dunk", 1993), ("Initial D", 1998), ("Great Teacher Onizuka", 1999),
    ("Gintama", 2006), ("One Piece", 1999), ("Naruto", 2002), ("Bleach", 2004), ("Fairy Tail", 2009),
    ("Sword Art Online", 2012), ("Re:Zero - Starting Life in Another World", 2016), ("Konosuba", 2016),
    ("Overlord", 2015), ("That Time I Got Reincarnated as a Slime", 2018), ("No Game No Life", 2014),
    ("The Rising of the Shield Hero", 2019), ("Mushoku Tensei", 2021), ("Log Horizon", 2013),
    ("Madoka Magica", 2011), ("Kill la Kill", 2013), ("Gurren Lagann", 2007), ("Darling in the Franxx", 2018),
    ("Akame ga Kill!", 2014), ("Erased", 2016), ("Another", 2012), ("Higurashi", 2006),
    ("Serial Experiments Lain", 1998), ("Paranoia Agent", 2004), ("Ergo Proxy", 2006),
    ("Planetes", 2003), ("Space Brothers", 2012), ("Land of the Lustrous", 2017), ("Dorohedoro", 2020),
    ("Odd Taxi", 2021), ("Ranking of Kings", 2021), ("Cyberpunk: Edgerunners", 2022),
    ("Blue Lock", 2022), ("Hell's Paradise", 2023), ("The Apothecary Diaries", 2023),
    ("Dungeon Meshi", 2024), ("Kaiju No. 8", 2024), ("Solo Leveling", 2024), ("Dandadan", 2024),
    ("Sousou no Frieren", 2023), ("Shingeki no Kyojin", 2013), ("Kimetsu no Yaiba", 2019),
    ("Boku no Hero Academia", 2016), ("Yahari Ore no Seishun Love Comedy wa Machigatteiru", 2013),
    ("Bakemonogatari", 2009), ("Nisemonogatari", 2012), ("Fate/Zero", 2011),
    ("Fate/stay night: Unlimited Blade Works", 2014), ("Tengen Toppa Gurren Lagann", 2007),
    ("Shirobako", 2014), ("Tamako Market", 2013), ("Sound! Euphonium", 2015), ("A Place Further Than the Universe", 2018),
    ("Laid-Back Camp", 2018), ("Girls' Last Tour", 2017), ("Mushoku Tensei: Jobless Reincarnation", 2021),
    ("Akira", 1988), ("Spirited Away", 2001), ("Your Name.", 2016), ("A Silent Voice", 2016),
    ("Weathering with You", 2019), ("Perfect Blue", 1997), ("Princess Mononoke", 1997),
    ("Howl's Moving Castle", 2004), ("The Girl Who Leapt Through Time", 2006), ("Wolf Children", 2012),
    ("Suzume", 2022), ("The Boy and the Heron", 2023), ("Ghost in the Shell", 1995),
)
MOVIES = frozenset({"Akira", "Spirited Away", "Your Name.", "A Silent Voice", "Weathering with You",
                    "Perfect Blue", "Princess Mononoke", "Howl's Moving Castle",
                    "The Girl Who Leapt Through Time", "Wolf Children", "Suzume",
                    "The Boy and the Heron", "Ghost in the Shell"})
SEQUELS = ("", " Kai", " Zero", " Next", " Final", " Origins", " Reloaded", " Encore")
GROUPS = ("SubsPlease", "Erai-raws", "HorribleSubs", "Judas", "EMBER", "ASW", "Commie", "GJM",
          "Kametsu", "Beatrice-Raws", "Coalgirls", "Doki", "FFF", "Underwater", "Vivid", "UTW",
          "Chihiro", "Cyan", "DameDesuYo", "Nyanpasu", "SallySubs", "LostYears", "Reinforce",
          "VCB-Studio", "Snow-Raws", "Moozzi2", "Ohys-Raws", "Leopard-Raws", "DBD-Raws", "Nekomoe kissaten")
SCENE_GROUPS = ("NTb", "KiNGS", "VARYG", "SMURF", "MIXED", "CAKES", "EDITH", "FLUX", "DEFLATE", "iAHD")
CJK_GROUPS = ("喵萌奶茶屋", "桜都字幕组", "LoliHouse", "极影字幕社", "澄空学园", "華盟字幕社", "北宇治字幕组")
RESOLUTIONS = ("1080p", "1080p", "1080p", "720p", "2160p", "480p")
SOURCES = ("WEB-DL", "WEBRip", "BD", "BDRip", "HDTV", "DVD")
SUB_LANGS = ("en", "eng", "ja", "jpn", "de", "fr", "es", "pt-BR", "zh-Hans", "zh-Hant", "ru", "it")
VIDEO_EXTS = ("mkv", "mkv", "mkv", "mkv", "mp4", "mp4", "avi", "m4v", "webm", "ts")
STYLES = ("fansub", "fansub", "fansub", "scene", "underscore", "cjk", "plex", "season_dash", "batch")
CATEGORIES = ("Anime", "Anime/TV", "Anime/Airing", "Downloads/complete", "Media/Anime Series",
              "Seeding", "Archive/Old Anime", "Anime/BD Remux")
FONT_NAMES = ("arial.ttf", "Arial Bold.ttf", "GandhiSans-Bold.otf", "Roboto-Medium.ttf", "NotoSansCJKjp-Regular.otf",
              "OpenSans-Semibold.ttf", "Trebuchet MS.ttf", "Vesta-Bold.otf", "FOT-RodinNTLG Pro DB.otf",
              "A-OTF-ShinGoPro-Medium.otf", "Lato-Black.ttf", "MyriadPro-Semibold.otf", "Candara.ttf",
              "Tahoma.ttf", "Verdana Bold.ttf", "Georgia Italic.ttf", "CourierPrime.ttf", "Calibri.ttf")

MB = 1 << 20
# Characters Windows forbids in names; release names drop or replace them.
_UNSAFE = str.maketrans({":": "", "/": " ", "\\": " ", "?": "", "*": "", '"': "", "<": "", ">": "", "|": " "})


def _file_safe(title: str) -> str:
    return " ".join(title.translate(_UNSAFE).split())


@dataclass
class DemoSummary:
    """What ``make_demo`` wrote."""

    root: str
    files: int = 0
    directories: int = 0
    series: int = 0
    bytes: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: {"video": 0, "subtitle": 0, "other": 0})

    def to_dict(self) -> dict[str, object]:
        return {"root": self.root, "files": self.files, "directories": self.directories,
                "series": self.series, "bytes": self.bytes, "by_kind": dict(self.by_kind)}


def _crc(rng: random.Random) -> str:
    return f"{rng.getrandbits(32):08X}"


def _ep(n: int, width: int = 2) -> str:
    return str(n).zfill(width)


class _Series:
    """One release folder of one season of one title, and the names inside it."""

    def __init__(self, index: int, order: list[int], rng: random.Random) -> None:
        base, year = TITLES[order[index % len(TITLES)]]
        base = _file_safe(base)
        cycle = index // len(TITLES)
        self.rng = rng
        self.movie = base in MOVIES
        self.season = 1 if self.movie else cycle % 4 + 1
        variant = cycle if self.movie else cycle // 4
        # Past the sequel list a number keeps every release folder distinct.
        self.title = base + SEQUELS[variant % len(SEQUELS)] + (
            f" {variant // len(SEQUELS) + 1}" if variant >= len(SEQUELS) else "")
        self.year = min(year + variant + (self.season - 1), 2025)
        self.style = "movie" if self.movie else rng.choice(STYLES)
        self.group = {"scene": rng.choice(SCENE_GROUPS), "cjk": rng.choice(CJK_GROUPS)}.get(
            self.style, rng.choice(GROUPS))
        self.res = rng.choice(RESOLUTIONS)
        self.ext = rng.choice(VIDEO_EXTS) if self.style != "cjk" else rng.choice(("mp4", "mkv"))
        self.episodes = 1 if self.movie else rng.choice((10, 11, 12, 12, 13, 13, 24, 24, 25, 26))
        self.first_episode = 1 if rng.random() < 0.8 or self.season == 1 else self.episodes * (self.season - 1) + 1
        self.sub_langs = rng.sample(SUB_LANGS, rng.choice((0, 1, 1, 2, 2, 3, 4)))
        self.versioned = {e for e in range(self.episodes) if rng.random() < 0.06}

    # ---- folder names

    def folder(self) -> str:
        t, s, g, r = self.title, self.season, self.group, self.res
        if self.style == "scene":
            return f"{t.replace(' ', '.')}.S{s:02d}.{r}.{self.rng.choice(SOURCES)}.x264-{g}"
        if self.style == "plex":
            return f"{t} ({self.year})/Season {s:02d}"
        if self.style == "batch":
            last = self.first_episode + self.episodes - 1
            return f"[{g}] {t} S{s} ({_ep(self.first_episode)}-{_ep(last)}) [BD {r}] [Batch]"
        if self.style == "cjk":
            return f"【{g}】{t} 第{s}季【{r}】"
        if self.movie:
            return f"{t} ({self.year})"
        return f"[{g}] {t}{'' if s == 1 else f' S{s}'} [{r}]"

    # ---- file names

    def episode_stem(self, i: int) -> str:
        t, s, g, r = self.title, self.season, self.group, self.res
        e = self.first_episode + i
        v = "v2" if i in self.versioned else ""
        style = self.style
        if self.movie:
            return f"[{g}] {t} ({self.year}) [BD {r}][{_crc(self.rng)}]"
        if style == "scene":
            return f"{t.replace(' ', '.')}.S{s:02d}E{_ep(e)}.{r}.WEB.H264-{g}"
        if style == "underscore":
            return f"[{g}]_{t.replace(' ', '_')}_-_{_ep(e)}{v}_[{r}][{_crc(self.rng)}]"
        if style == "cjk":
            return f"[{g}][{t}][{_ep(e)}][{r.upper()}][CHS]"
        if style == "plex":
            return f"{t} ({self.year}) - S{s:02d}E{_ep(e)} - Episode {e}"
        if style == "season_dash":
            return f"[{g}] {t} S{s} - {_ep(e)}{v} ({r}) [{_crc(self.rng)}]"
        title = t if s == 1 else f"{t} S{s}"
        return f"[{g}] {title} - {_ep(e)}{v} ({r}) [{_crc(self.rng)}]"

    def names(self, budget: int) -> Iterator[tuple[str, str, int]]:
        """(relative path, kind, size) of every file, at most ``budget`` of them."""
        rng = self.rng
        made = 0
        video_mb = {"2160p": 3500, "1080p": 1400, "720p": 350, "480p": 170}[self.res]
        if self.movie:
            video_mb *= 8
        for i in range(self.episodes):
            stem = self.episode_stem(i)
            if made >= budget:
                return
            made += 1
            yield f"{stem}.{self.ext}", "video", int(video_mb * MB * rng.uniform(0.7, 1.3))
            for lang in self.sub_langs:
                if made >= budget:
                    return
                made += 1
                sub = "ass" if rng.random() < 0.7 else "srt"
                yield f"{'Subs/' if self.style == 'batch' else ''}{stem}.{lang}.{sub}", "subtitle", rng.randint(20_000, 90_000)
        yield from self._extras(budget - made)

    def _extras(self, budget: int) -> Iterator[tuple[str, str, int]]:
        rng = self.rng
        t, g = self.title, self.group
        extras: list[tuple[str, str, int]] = []
        if not self.movie:
            for n in range(rng.choice((0, 1, 2))):
                extras.append((f"Specials/{t} - S00E{n + 1:02d} - Special {n + 1}.{self.ext}",
                               "video", 300 * MB))
            if rng.random() < 0.4:
                extras.append((f"[{g}] {t} OVA - 01 [{self.res}].{self.ext}", "video", 500 * MB))
        for n in (1, 2):
            for clip in ("NCOP", "NCED"):
                extras.append((f"Extras/[{g}] {t} - {clip}{n} [{self.res}].{self.ext}", "video", 90 * MB))
        extras += [(f"Extras/[{g}] {t} - {clip} [{self.res}].{self.ext}", "video", 30 * MB)
                   for kind, count in (("CM", rng.randint(0, 8)), ("PV", rng.randint(0, 4)), ("Menu", rng.randint(1, 4)))
                   for clip in (f"{kind}{n:02d}" for n in range(1, count + 1))]
        extras += [(f"Fonts/{name}", "other", rng.randint(40_000, 9_000_000)) for name in FONT_NAMES]
        if rng.random() < 0.5:  # BD releases carry soundtrack CDs and booklet scans
            album = f"CDs/[{self.year}] {t} Original Soundtrack"
            extras += [(f"{album}/{n:02d}. Track {n}.flac", "other", rng.randint(15, 60) * MB)
                       for n in range(1, rng.randint(12, 24))]
            extras += [(f"{album}/cover.jpg", "other", 900_000), (f"{album}/{t} OST.cue", "other", 2_000),
                       (f"{album}/{t} OST.log", "other", 6_000)]
            extras += [(f"Scans/Booklet/{n:03d}.jpg", "other", rng.randint(1, 6) * MB)
                       for n in range(1, rng.randint(8, 24))]
        extras += [("poster.jpg", "other", 400_000), ("tvshow.nfo", "other", 2_000),
                   (f"{g}.nfo", "other", 3_000), ("checksums.sfv", "other", 1_500)]
        yield from extras[:max(budget, 0)]


def _create(path: str, size: int) -> None:
    # O_EXCL: a demo never overwrites anything that is already there.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    try:
        if size:
            os.ftruncate(fd, size)  # a hole: no disk space used on POSIX filesystems
    finally:
        os.close(fd)


def _check_root(root: str) -> None:
    if os.path.exists(root) and not os.path.isdir(root):
        raise UsageError(f"demo: {root} exists and is not a directory", hint="choose a new directory")
    if os.path.isdir(root) and any(os.scandir(root)):
        raise UsageError(f"demo: {root} is not empty",
                         hint="choose a new or empty directory; a demo never writes into your files")


def make_demo(root: str | os.PathLike[str], files: int = 3000, seed: int = 1,
              sizes: bool | None = None, series: int | None = None) -> DemoSummary:
    """Write a synthetic library of exactly ``files`` files under ``root`` (new or empty).

    ``sizes``: give files realistic sizes as sparse files (default on POSIX,
    where they cost no disk space); otherwise every file is empty. ``series``:
    at most that many series; past them, more releases of the same ones.
    """
    if files < 0:
        raise UsageError(f"demo: --files must be >= 0, not {files}", hint="e.g. --files 3000")
    if series is not None and series < 1:
        raise UsageError(f"demo: --series must be >= 1, not {series}", hint="e.g. --series 1000")
    root = os.fspath(root)
    _check_root(root)
    if sizes is None:
        sizes = os.name == "posix"
    rng = random.Random(seed)
    order = rng.sample(range(len(TITLES)), len(TITLES))  # movies and shows mixed from the start
    summary = DemoSummary(root=os.path.abspath(root))
    os.makedirs(root, exist_ok=True)
    made_dirs: set[str] = set()
    index = 0
    while summary.files < files:
        release, again = divmod(index, series) if series else (0, index)
        one = _Series(again, order, rng)
        index += 1
        category = rng.choice(CATEGORIES)
        if release:  # another release of a series made before: a folder of its own, never a clash
            category = os.path.join(category, f"Release {release + 1}")
        base = os.path.join(root, category, one.folder())
        budget = min(files - summary.files, rng.randint(60, 140))
        for rel, kind, size in one.names(budget):
            path = os.path.join(base, rel)
            parent = os.path.dirname(path)
            if parent not in made_dirs:
                os.makedirs(parent, exist_ok=True)
                made_dirs.add(parent)
            _create(path, size if sizes else 0)
            summary.files += 1
            summary.bytes += size if sizes else 0
            summary.by_kind[kind] += 1
        summary.series += not release
    summary.directories = len({d for p in made_dirs for d in _ancestors(p, root)})
    return summary


def _ancestors(path: str, root: str) -> Iterator[str]:
    while len(path) > len(root):
        yield path
        path = os.path.dirname(path)
