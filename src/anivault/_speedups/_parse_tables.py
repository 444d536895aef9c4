"""Vocabulary of release names, shared by both parser twins.

Keys are lowercase ASCII (a word is lowercased only when it is all ASCII, so
both twins fold case the same way) or exact CJK strings. The compiled twin
loads these tables into a C hash table when it is imported.
"""
from __future__ import annotations

# Only the last MAX_NAME characters of a name are parsed: a release name is far shorter,
# and the bound keeps every input (a 1M-character name) to milliseconds in both twins.
MAX_NAME = 1024
MAX_DIGITS = 9  # longer digit runs are words (keeps C ints exact)

# Token categories. The vocabulary assigns TYPED..RES and EPWORD..OF; the tokenizer the rest.
WORD, DASH, TILDE, OPEN, CLOSE, NUM, RANGE, SEASONEP, SEASON, EPNUM = range(10)
TYPED = 10        # an anime type word: OVA, ED, Movie... (kind)
TAG = 11          # a release tag: source, codec, language... (field, value)
RES = 12          # "4K", "1080p"
CRC = 13
EPWORD = 14       # "Episode", "Ep"
SEASONWORD = 15   # "Season", "Saison"
ORDINAL = 16      # "Second" (as in "Second Season")
VOLWORD = 17      # "Vol"
OF = 18           # "of" (as in "01 of 24")
VERSION, VOLUME, PLUS, DATE = 19, 20, 21, 22
GONE = -1         # a token absorbed by its neighbour

# Token flags.
GLUED = 1  # glued to the previous word by "-" (x264-GROUP, S01E01-Title)
WEAK = 2   # a vocabulary word that is a tag only outside the title

# Separator modes for text outside brackets.
M_SPACE, M_UNDERSCORE, M_DOT, M_PLUS, M_DASH = range(5)

# Bracket content classes.
B_EMPTY, B_TAGS, B_YEAR, B_NUM, B_TEXT, B_MIXED, B_WEAK = range(7)

# Tag fields.
F_SOURCE, F_VIDEO, F_AUDIO, F_LANGUAGE, F_SUBTITLES, F_OTHER, F_NOISE, F_RELEASE = range(1, 9)

# Kinds a TYPED word implies.
K_SPECIAL, K_EXTRA, K_MOVIE, K_TV, K_BATCH = 1, 2, 3, 4, 5
KINDS = {0: "episode", K_SPECIAL: "special", K_EXTRA: "extra", K_MOVIE: "movie", K_TV: "episode",
         K_BATCH: "batch"}

RES_HEIGHTS = (360, 480, 540, 576, 720, 1080, 1440, 2160)

# The integer constants both twins use, by the C enum the compiled twin declares them in
# (_build/parse_enums.py writes them to _parse_enums.pxi; a test checks it is current).
ENUMS: dict[str, tuple[str, ...]] = {
    "limits": ("MAX_NAME", "MAX_DIGITS"),
    "categories": ("WORD", "DASH", "TILDE", "OPEN", "CLOSE", "NUM", "RANGE", "SEASONEP", "SEASON",
                   "EPNUM", "TYPED", "TAG", "RES", "CRC", "EPWORD", "SEASONWORD", "ORDINAL",
                   "VOLWORD", "OF", "VERSION", "VOLUME", "PLUS", "DATE", "GONE"),
    "flags": ("GLUED", "WEAK"),
    "modes": ("M_SPACE", "M_UNDERSCORE", "M_DOT", "M_PLUS", "M_DASH"),
    "bracket_classes": ("B_EMPTY", "B_TAGS", "B_YEAR", "B_NUM", "B_TEXT", "B_MIXED", "B_WEAK"),
    "fields": ("F_SOURCE", "F_VIDEO", "F_AUDIO", "F_LANGUAGE", "F_SUBTITLES", "F_OTHER", "F_NOISE",
               "F_RELEASE"),
    "kinds": ("K_SPECIAL", "K_EXTRA", "K_MOVIE", "K_TV", "K_BATCH"),
}

EXTENSIONS = frozenset(
    "mkv mp4 avi rmvb rm wmv mov m4v ts m2ts mts flv webm ogm ogv mpg mpeg vob divx 3gp mka "
    "ass ssa srt vtt sub idx sup smi 7z zip rar torrent".split())
SUBTITLE_EXTENSIONS = frozenset("ass ssa srt vtt sub idx sup smi".split())

# Trailing ".xx" parts of subtitle file names: "Title - 05.en.ass", ".Signs & Songs.ass".
SUBTITLE_SUFFIXES: dict[str, tuple[int, str]] = {}
for _keys, _value in (
        ("en eng english", "en"), ("ja jp jpn jap japanese", "ja"),
        ("chs sc zh-hans zh-cn gb zh-sg", "zh-Hans"), ("cht tc zh-hant zh-tw zh-hk big5", "zh-Hant"),
        ("zh chi chinese", "zh"), ("es spa spanish", "es"), ("es-419 es-la lat", "es-419"),
        ("fr fre fra french", "fr"), ("de ger deu german", "de"), ("it ita italian", "it"),
        ("pt por portuguese", "pt"), ("pt-br ptbr", "pt-BR"), ("ru rus russian", "ru"),
        ("ko kor korean", "ko"), ("ar ara arabic", "ar"), ("pl pol polish", "pl"),
        ("id ind indonesian", "id"), ("th tha thai", "th"), ("vi vie vietnamese", "vi"),
        ("tr tur turkish", "tr"), ("nl dut nld dutch", "nl"), ("sv swe swedish", "sv")):
    for _k in _keys.split():
        SUBTITLE_SUFFIXES[_k] = (F_LANGUAGE, _value)
for _k, _value in (("signs & songs", "Signs & Songs"), ("signs&songs", "Signs & Songs"),
                   ("signs", "Signs"), ("songs", "Songs"), ("forced", "Forced"), ("full", "Full"),
                   ("sdh", "SDH"), ("cc", "CC"), ("dialogue", "Full")):
    SUBTITLE_SUFFIXES[_k] = (F_SUBTITLES, _value)

# word -> (category, field or kind, value, weak). A weak word is a tag only inside
# brackets or once the title has ended (so "End" or "TV" in a title stay title).
VOCABULARY: dict[str, tuple[int, int, str, int]] = {}


def _add(category: int, field: int, value: str, words: str, weak: int = 0) -> None:
    for w in words.split("|"):
        VOCABULARY[w] = (category, field, value, weak)


_add(TAG, F_SOURCE, "BD", "bd|bdrip|bd-rip|bluray|blu-ray|bdmv|bdremux|brrip|bdbox|bd-box|blu-rayrip|bdrip1080p")
_add(TAG, F_SOURCE, "DVD", "dvd|dvdrip|dvd-rip|r2dvd|r1dvd|dvd5|dvd9|dvdscr|dvd-r|dvdremux")
_add(TAG, F_SOURCE, "WEB", "web|web-dl|webdl|webrip|web-rip|web-dlrip")
_add(TAG, F_SOURCE, "HDTV", "hdtv|hdtvrip|tvrip|tv-rip|dtv|hdtv-rip")
_add(TAG, F_SOURCE, "TV", "bs11|mbs|tbs|nhk|atx|at-x|ntv|abc|tokyomx|tx|cx|ex-tv", 1)
_add(TAG, F_SOURCE, "LD", "ldrip|laserdisc")
_add(TAG, F_SOURCE, "VHS", "vhs|vhsrip")
_add(TAG, F_OTHER, "CR", "cr|crunchyroll", 1)
_add(TAG, F_OTHER, "AMZN", "amzn|amazon", 1)
_add(TAG, F_OTHER, "NF", "nf|netflix", 1)
_add(TAG, F_OTHER, "DSNP", "dsnp|disney+", 1)
_add(TAG, F_OTHER, "HIDIVE", "hidive|hidi", 1)
_add(TAG, F_OTHER, "B-Global", "b-global|bilibili|baha|funi|funimation|adn|abema|viu", 1)
_add(TAG, F_VIDEO, "H.264", "h264|h.264|x264|x.264|avc|h264_aac|avc1|10bith.264|h.264aac")
_add(TAG, F_VIDEO, "H.265", "h265|h.265|x265|x.265|hevc|hevc2")
_add(TAG, F_VIDEO, "AV1", "av1")
_add(TAG, F_VIDEO, "VP9", "vp9")
_add(TAG, F_VIDEO, "XviD", "xvid")
_add(TAG, F_VIDEO, "DivX", "divx|divx5|divx6|divx5.2.1")
_add(TAG, F_VIDEO, "MPEG-2", "mpeg2|mpeg-2")
_add(TAG, F_VIDEO, "WMV", "wmv3|vc-1|vc1")
_add(TAG, F_OTHER, "10bit", "10bit|10-bit|10bits|hi10|hi10p|yuv420p10|main10|10bith264")
_add(TAG, F_OTHER, "8bit", "8bit|8-bit|8bits|hi8p")
_add(TAG, F_OTHER, "HDR", "hdr|hdr10|hdr10+|dv|dovi|dolbyvision")
_add(TAG, F_NOISE, "", "bit|bits|ch|fps|24fps|23.976fps|30fps|60fps|120fps|vfr|cfr", 1)
_add(TAG, F_NOISE, "", "hd|uhd|sd|hq|lq|hi444|hi444pp|hi422|4:4:4", 1)
_add(TAG, F_AUDIO, "AAC", "aac|aacx2|aacx3|aacx4|he-aac|aac2.0|aac5.1|aac-lc|aac2|aac51|2xaac")
_add(TAG, F_AUDIO, "FLAC", "flac|flacx2|flacx3|flac2.0|flac5.1|2xflac")
_add(TAG, F_AUDIO, "AC3", "ac3|dd|dd2.0|dd5.1|ac-3|ac3x2")
_add(TAG, F_AUDIO, "E-AC3", "eac3|e-ac3|ddp|ddp2.0|ddp5.1|dd+|ddp7.1|eac-3")
_add(TAG, F_AUDIO, "DTS", "dts|dts-es|dts-hd|dts-hdma|dts-ma|dtshd|dts5.1|dtsx|dts-x")
_add(TAG, F_AUDIO, "TrueHD", "truehd|truehd5.1|truehd7.1|truehd2.0|atmos")
_add(TAG, F_AUDIO, "Opus", "opus|opus2.0|opus5.1")
_add(TAG, F_AUDIO, "Vorbis", "vorbis|ogg")
_add(TAG, F_AUDIO, "MP3", "mp3|mp2")
_add(TAG, F_AUDIO, "PCM", "pcm|lpcm")
_add(TAG, F_NOISE, "", "2.0|5.1|7.1|2.0ch|5.1ch|7.1ch|2ch|6ch|8ch|stereo|mono")
_add(TAG, F_OTHER, "Dual Audio", "dualaudio|dual-audio|dual_audio")
_add(TAG, F_OTHER, "Multi Audio", "multiaudio|multi-audio|multi_audio")
_add(TAG, F_LANGUAGE, "ja", "jpn|jap|japanese|jp|ja|raw|raws|japones", 1)
_add(TAG, F_LANGUAGE, "en", "eng|english|en|dub|dubbed|engdub", 1)
_add(TAG, F_LANGUAGE, "fr", "fr|fre|french|vf|vff", 1)
_add(TAG, F_LANGUAGE, "de", "ger|german|deu|de", 1)
_add(TAG, F_LANGUAGE, "es", "spa|spanish|esp|es", 1)
_add(TAG, F_LANGUAGE, "it", "ita|italian|it", 1)
_add(TAG, F_LANGUAGE, "ru", "rus|russian|ru", 1)
_add(TAG, F_LANGUAGE, "pt-BR", "pt-br|ptbr|pt_br")
_add(TAG, F_LANGUAGE, "ko", "kor|korean", 1)
_add(TAG, F_LANGUAGE, "zh", "chi|chinese|ch", 1)
_add(TAG, F_LANGUAGE, "multi", "multi|multilang|multi-lang", 1)
_add(TAG, F_SUBTITLES, "fr", "vostfr|vosta|subfr|sub.fr|stfr")
_add(TAG, F_SUBTITLES, "en", "engsub|eng-sub|engsubs|eng-subs|esub|esubs|englishsub")
_add(TAG, F_SUBTITLES, "Multi", "multi-sub|multi-subs|multisub|multisubs|multi_sub|multi_subs|multiple")
_add(TAG, F_SUBTITLES, "Softsub", "softsub|softsubs|soft-sub|sub|subs|subbed|subtitle|subtitles|subx2|subx3|subx4|chap|chaps|chapters")
_add(TAG, F_SUBTITLES, "Hardsub", "hardsub|hardsubs|hard-sub|hardsubbed")
_add(TAG, F_SUBTITLES, "zh-Hans", "chs|sc|gb|简体|简中|简|简体中文|chs_jp|gb_jp|简日|简日双语|简日雙語|简日内嵌|简日內嵌|简体内嵌|简中内嵌|gb_cn")
_add(TAG, F_SUBTITLES, "zh-Hant", "cht|tc|big5|繁体|繁體|繁中|繁|繁体中文|繁體中文|cht_jp|big5_jp|繁日|繁日双语|繁日雙語|繁日内嵌|繁日內嵌|繁体内嵌|繁體內嵌")
_add(TAG, F_SUBTITLES, "zh-Hans+zh-Hant", "简繁|簡繁|简繁内封|簡繁內封|简繁外挂|简繁日|简繁日内封|简繁日双语|chs&cht|chs+cht|gb&big5|简繁内嵌|繁简|中日双语|中日雙語|中文字幕|双语|雙語|内封|內封|内嵌|內嵌|外挂|外掛")
_add(TAG, F_RELEASE, "END", "end|fin|final|finale_end", 1)
_add(TAG, F_RELEASE, "Complete", "complete|completed")
_add(TAG, F_RELEASE, "Batch", "batch|全集|合集|精校合集|合集版|合集版本")
_add(TAG, F_RELEASE, "Remux", "remux|bdremux")
_add(TAG, F_RELEASE, "Patch", "patch")
_add(TAG, F_RELEASE, "Fixed", "fixed|fix")
_add(TAG, F_RELEASE, "Repack", "repack|proper|rerip")
_add(TAG, F_RELEASE, "Uncensored", "uncensored|uncen|uncut|無修正|无修正")
_add(TAG, F_RELEASE, "Censored", "censored")
_add(TAG, F_RELEASE, "Remastered", "remaster|remastered|remastered.")
_add(TAG, F_NOISE, "", "新番|10月新番|1月新番|4月新番|7月新番|月新番|招募翻译|字幕组|mp4|mkv|avi|x264+aac|v0b")
_add(TYPED, K_SPECIAL, "OVA", "ova|ovas|oav")
_add(TYPED, K_SPECIAL, "OAD", "oad|oads")
_add(TYPED, K_SPECIAL, "ONA", "ona|onas")
_add(TYPED, K_SPECIAL, "SP", "sp|sps|special|specials|bonus|omake|sp.|特別篇|特别篇|番外|番外篇")
_add(TYPED, K_SPECIAL, "Recap", "recap")
_add(TYPED, K_EXTRA, "OP", "op|opening")
_add(TYPED, K_EXTRA, "NCOP", "ncop|nc-op|creditless")
_add(TYPED, K_EXTRA, "ED", "ed|ending")
_add(TYPED, K_EXTRA, "NCED", "nced|nc-ed")
_add(TYPED, K_EXTRA, "PV", "pv|spot|teaser|promo")
_add(TYPED, K_EXTRA, "CM", "cm|cms")
_add(TYPED, K_EXTRA, "Trailer", "trailer")
_add(TYPED, K_EXTRA, "Preview", "preview|previews|yokoku|予告")
_add(TYPED, K_EXTRA, "Menu", "menu|menus")
_add(TYPED, K_EXTRA, "EX", "ex")
_add(TYPED, K_MOVIE, "Movie", "movie|movies|gekijouban|gekijoban|film|劇場版|剧场版|电影版|電影版")
_add(TYPED, K_TV, "TV", "tv", 1)
_add(EPWORD, 0, "", "ep|ep.|eps|episode|episodes|episodio|episódio|Episódio|épisode|Épisode|epi|capitulo|e")
_add(SEASONWORD, 0, "", "series", 1)  # a season only at the start of a name ("Series 2/")
_add(SEASONWORD, 0, "", "season|seasons|saison|temporada|staffel|seizoen|stagione|sezon|seasong|"
     "sezona|sezonul|sæson|säsong|Säsong|SÄSONG|sezóna|Sezóna|SEZÓNA|сезон|Сезон|СЕЗОН|시즌|シーズン")
_add(ORDINAL, 1, "", "first|1st")
_add(ORDINAL, 2, "", "second|2nd")
_add(ORDINAL, 3, "", "third|3rd")
_add(ORDINAL, 4, "", "fourth|4th")
_add(ORDINAL, 5, "", "fifth|5th")
_add(ORDINAL, 6, "", "sixth|6th")
_add(ORDINAL, 7, "", "seventh|7th")
_add(ORDINAL, 8, "", "eighth|8th")
_add(ORDINAL, 9, "", "ninth|9th")
_add(VOLWORD, 0, "", "vol|vol.|volume|vols")
_add(OF, 0, "", "of")
_add(RES, 2160, "", "4k|uhd4k|2160p|4k2160p")
_add(RES, 1080, "", "fullhd|fhd1080|fhd")

# What may follow an episode number or range glued to it: "12END", "01-12Fin", "13完",
# "01-13全", "01-12TV全集", "13-25集" (ASCII words are matched lowercased).
EPISODE_SUFFIXES = ("end", "fin", "final", "tv")
EPISODE_SUFFIX_CJK = "完全集话話"
# A word holding one of these is a fansub's note, not a title or group ("★04月新番",
# "[招募翻译校对]", "(内附网盘地址)", "（內詳）").
NOISE_FRAGMENTS = ("新番", "招募", "网盘", "網盤", "内详", "內詳", "内附", "內附")

# Range separators between two episode numbers ("01-12", "01~12", "01～12").
RANGE_SEPARATORS = "-~+～"
# Between the episodes of S01E01-E02-E03, 02x03x04, S01E05E06.
CHAIN_SEPARATORS = "-~+～xXeE"

# Chinese numeral digits, read after 第 (第二季, 第十二集); 十 is handled apart.
CJK_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}

# Type words glued to a number ("ED2", "OVA3.5", "NCOP1", "Menu01"), in the order they are tried.
TYPED_PREFIXES = ("ncop", "nced", "ova", "oav", "oad", "ona", "menu", "sp", "ed", "op", "pv", "cm", "ex")

# Two-word tags ("Dual Audio"): first word -> {second word: same shape as VOCABULARY}.
PAIRS: dict[str, dict[str, tuple[int, int, str, int]]] = {
    "dual": {"audio": (TAG, F_OTHER, "Dual Audio", 0)},
    "multi": {"audio": (TAG, F_OTHER, "Multi Audio", 0), "subs": (TAG, F_SUBTITLES, "Multi", 0),
              "sub": (TAG, F_SUBTITLES, "Multi", 0)},
    "multiple": {"subtitle": (TAG, F_SUBTITLES, "Multi", 0), "subtitles": (TAG, F_SUBTITLES, "Multi", 0)},
    "english": {"dub": (TAG, F_LANGUAGE, "en", 0), "dubbed": (TAG, F_LANGUAGE, "en", 0),
                "sub": (TAG, F_SUBTITLES, "en", 0), "subs": (TAG, F_SUBTITLES, "en", 0)},
    "eng": {"sub": (TAG, F_SUBTITLES, "en", 0), "subs": (TAG, F_SUBTITLES, "en", 0),
            "dub": (TAG, F_LANGUAGE, "en", 0)},
    "directors": {"cut": (TAG, F_RELEASE, "Director's Cut", 0)},
    "director's": {"cut": (TAG, F_RELEASE, "Director's Cut", 0)},
}

# Tag values in a fixed order, so a token can carry an index instead of a string.
VALUES: list[str] = sorted({v[2] for v in VOCABULARY.values()}
                           | {v[2] for d in PAIRS.values() for v in d.values()})
VALUE_INDEX = {v: i for i, v in enumerate(VALUES)}

# Bracket pairs. Corner quotes 「」 are part of titles, not brackets.
OPENERS = "([{【（［〔〖｛《"
CLOSERS = ")]}】）］〕〗｝》"
# Stars decorate CJK names (★10月新番★) and enclose noise.
STARS = "★☆"
DASHES = "-‐‑‒–—―"


# ---------------------------------------------------------------- titles mixing scripts
# Both twins finish a non-ASCII title with cjk_title(): one Python function, so they agree.

_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF),
               (0xF900, 0xFAFF), (0xFF01, 0xFF60))
_TITLE_SEPARATORS = " _·・：:"
CJK_MOVIE_PREFIXES = ("劇場版", "剧场版", "电影版", "電影版")


def _is_cjk(c: str) -> bool:
    o = ord(c)
    return any(a <= o <= b for a, b in _CJK_RANGES)


def _script(word: str) -> int:
    """1: Latin letters and no CJK; 2: CJK and no Latin letters; 0: neither or both."""
    latin = any("a" <= c <= "z" or "A" <= c <= "Z" for c in word)
    cjk = any(_is_cjk(c) for c in word)
    return 1 if latin and not cjk else 2 if cjk and not latin else 0


def _latin_part(title: str) -> str:
    """The Latin run of a title made of one CJK run and one Latin run (in either order):
    "天使降臨到我身邊！ Angel Next Door" -> "Angel Next Door"; else the title itself."""
    words: list[tuple[int, int, int]] = []  # (start, end, script)
    i, n = 0, len(title)
    while i < n:
        if title[i] in _TITLE_SEPARATORS:
            i += 1
            continue
        j = i
        while j < n and title[j] not in _TITLE_SEPARATORS:
            j += 1
        words.append((i, j, _script(title[i:j])))
        i = j
    runs: list[list[int]] = []  # [script, first word, last word]
    for k, (_a, _b, script) in enumerate(words):
        if script == 0:
            continue
        if runs and runs[-1][0] == script:
            runs[-1][2] = k
        else:
            runs.append([script, k, k])
    if len(runs) != 2:
        return title
    latin = runs[0] if runs[0][0] == 1 else runs[1]
    first, last = latin[1], latin[2]
    # Neutral words ("~", "3") next to the Latin run belong to it.
    while first > 0 and words[first - 1][2] == 0:
        first -= 1
    while last + 1 < len(words) and words[last + 1][2] == 0:
        last += 1
    text = title[words[first][0]:words[last][1]]
    letters = sum(1 for c in text if "a" <= c.lower() <= "z")
    return text if letters >= 4 else title


def cjk_title(title: str) -> tuple[str, int, str | None]:
    """(title, kind, type) for a non-ASCII title: a bilingual title's Latin part, and a
    type word glued to CJK text ("劇場版Title", "某作品OVA") moved out (kind 0: none)."""
    kind, value = 0, None
    for prefix in CJK_MOVIE_PREFIXES:
        if title.startswith(prefix) and len(title) > len(prefix):
            title, kind, value = title[len(prefix):].lstrip(_TITLE_SEPARATORS), K_MOVIE, "Movie"
            break
    else:
        j = len(title)
        while j > 0 and title[j - 1].isascii() and title[j - 1].isalpha():
            j -= 1
        entry = VOCABULARY.get(title[j:].lower()) if 0 < j < len(title) else None
        if entry is not None and entry[0] == TYPED and entry[1] != K_TV and _is_cjk(title[j - 1]):
            title, kind, value = title[:j], entry[1], entry[2]  # "某作品OVA"
    if " / " not in title and "/" not in title:
        title = _latin_part(title)
    return title, kind, value
