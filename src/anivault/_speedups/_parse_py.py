"""Release-name parser: the pure-Python twin of _parse_c.pyx (identical results).

The algorithm, in the order parse_name runs it:

1. the extension, and a subtitle file's language/role suffix (``.en.ass``);
2. top-level bracket pairs (unmatched brackets count as separators);
3. tokens: words split by the name's own separator (space, ``_``, ``.``...),
   each classified once (number, range, S01E02, Ep 5, tag, CRC...);
4. rules over the token list pick the group, episode, season, title,
   episode title, year, version and tags.

Everything works on positions in the original string, so both twins share
the same steps: this file with Python strings, the compiled one with C
arrays of code points. Tokens are lists ``[start, end, cat, bracket, a..g, flags]``.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable

from ..models import ParsedName
from ._parse_tables import (B_EMPTY, B_MIXED, B_NUM, B_TAGS, B_TEXT, B_WEAK, B_YEAR, CHAIN_SEPARATORS,
                            CJK_DIGITS, CLOSE, CLOSERS, CRC, DASH, DASHES, DATE, EPISODE_SUFFIX_CJK,
                            EPISODE_SUFFIXES, EPNUM, EPWORD, EXTENSIONS, F_AUDIO, F_LANGUAGE,
                            F_NOISE, F_OTHER, F_RELEASE, F_SOURCE, F_SUBTITLES, F_VIDEO, GLUED,
                            K_BATCH, K_EXTRA, K_MOVIE, K_SPECIAL, K_TV, KINDS, M_DASH, M_DOT,
                            M_PLUS, M_SPACE, M_UNDERSCORE, MAX_DIGITS, MAX_NAME, NOISE_FRAGMENTS,
                            NUM, OF, OPEN, OPENERS, ORDINAL, PAIRS, PLUS, RANGE, RANGE_SEPARATORS,
                            RES, RES_HEIGHTS, SEASON, SEASONEP, SEASONWORD, STARS,
                            SUBTITLE_EXTENSIONS, SUBTITLE_SUFFIXES, TAG, TILDE, TYPED,
                            TYPED_PREFIXES, VALUE_INDEX, VALUES, VERSION, VOCABULARY, VOLUME,
                            VOLWORD, WEAK, WORD, cjk_title)

# Token slots (the compiled twin's Tok struct has the same fields).
S, E, CAT, BR, A, B, C, D, X, F, G, FL = range(12)

_VOCAB = {k: (v[0], v[1], VALUE_INDEX[v[2]], v[3]) for k, v in VOCABULARY.items()}
_PAIRS = {k: {k2: (v[0], v[1], VALUE_INDEX[v[2]], v[3]) for k2, v in d.items()} for k, d in PAIRS.items()}
_SURE = " \t\u3000" + STARS + OPENERS + CLOSERS  # separators everywhere


def _words_regex(separators: str) -> re.Pattern[str]:
    return re.compile("[^" + re.escape(separators) + "]+")


_SPECIAL = re.compile("[" + re.escape(OPENERS + CLOSERS + STARS) + "]")
_WORDS_INSIDE = _words_regex(_SURE + "_,+/|;&")
_WORDS = {M_SPACE: _words_regex(_SURE), M_UNDERSCORE: _words_regex(_SURE + "_"),
          M_DOT: _words_regex(_SURE + "_"), M_PLUS: _words_regex(_SURE + "+"),
          M_DASH: _words_regex(_SURE + "-")}
_TYPED_PREFIX = re.compile("(" + "|".join(TYPED_PREFIXES) + ")[0-9]")
_TYPED_VERSION = re.compile("(" + "|".join(TYPED_PREFIXES) + ")v([0-9]{1,2})$")  # "NCEDv3"
_HEX8 = re.compile("[0-9A-Fa-f]{8}")
_PAIR_FIRST = frozenset(k[0] for k in PAIRS) | frozenset(k[0].upper() for k in PAIRS)
_COMBINERS = frozenset((EPWORD, SEASONWORD, ORDINAL, VOLWORD, NUM, EPNUM, SEASONEP))
_FULLWIDTH_DIGITS = {0xFF10 + d: 48 + d for d in range(10)}
_ROMAN = {"II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6}


def _lower(w: str) -> str:
    """ASCII-only case folding, so both twins fold every word the same way."""
    return w.lower() if w.isascii() else w


def _isdigit(c: str) -> bool:
    return "0" <= c <= "9"


# ---------------------------------------------------------------- extension


def _split_extension(s: str) -> tuple[int, str | None, str | None, str | None]:
    """(end of the name proper, ext, subtitle language, subtitle role)."""
    end = len(s)
    ext = lang = subs = None
    dot = s.rfind(".")
    if 0 < dot and end - dot - 1 <= 7:
        key = _lower(s[dot + 1:])
        if key in EXTENSIONS:
            ext, end = key, dot
    if ext in SUBTITLE_EXTENSIONS:
        for _ in range(2):
            dot = s.rfind(".", 0, end)
            if dot <= 0 or end - dot - 1 > 14:
                break
            found = SUBTITLE_SUFFIXES.get(_lower(s[dot + 1:end]))
            if found is None:
                break
            if found[0] == F_LANGUAGE:
                lang = lang or found[1]
            else:
                subs = subs or found[1]
            end = dot
    return end, ext, lang, subs


# ---------------------------------------------------------------- brackets


def _top_brackets(s: str, end: int) -> dict[int, int]:
    """Top-level bracket pairs {open: close}, in order; ★stars★ pair up too (negative close).

    Unmatched brackets are not pairs (they separate words). A pair of stars at most 25
    apart with no bracket between encloses decoration (★10月新番★).
    """
    specials = [m.start() for m in _SPECIAL.finditer(s, 0, end)]
    if not specials:
        return {}
    pair: dict[int, int] = {}
    stack: list[int] = []
    for i in specials:
        c = s[i]
        k = OPENERS.find(c)
        if k >= 0:
            stack.append(i)
            continue
        k = CLOSERS.find(c)
        if k >= 0 and stack and s[stack[-1]] == OPENERS[k]:
            pair[stack.pop()] = i
    top: dict[int, int] = {}
    m = len(specials)
    k = 0
    while k < m:
        i = specials[k]
        j = pair.get(i, -1)
        if j < 0 and s[i] in STARS:
            q = k + 1
            while q < m and not (s[specials[q]] in STARS or specials[q] in pair):
                q += 1
            if q < m and s[specials[q]] in STARS and 1 < specials[q] - i <= 25:
                j = specials[q]
                top[i] = -j  # a decoration, not a bracket
        elif j >= 0:
            top[i] = j
        if j < 0:
            k += 1
            continue
        while k < m and specials[k] <= j:
            k += 1
    return top


# ---------------------------------------------------------------- numbers


def _numpart(s: str, i: int, end: int) -> tuple[int, int, int, int, int, int, int]:
    """Parse ``digits[v2][.5][a]`` at i: (next, value, ndigits, version, frac, fracdigits, part).

    next == -1 when there is no number at i.
    """
    j = i
    while j < end and _isdigit(s[j]):
        j += 1
    nd = j - i
    if nd == 0 or nd > MAX_DIGITS:
        return -1, 0, 0, -1, -1, 0, 0
    value = int(s[i:j])
    version = frac = -1
    fracdigits = part = 0
    if j + 1 < end and s[j] == "." and _isdigit(s[j + 1]):
        k = j + 1
        while k < end and _isdigit(s[k]):
            k += 1
        if k - j - 1 <= 2:
            frac, fracdigits = int(s[j + 1:k]), k - j - 1
            j = k
    if j + 1 < end and s[j] in "vV" and _isdigit(s[j + 1]):
        k = j + 1
        while k < end and _isdigit(s[k]) and k - j <= 2:
            k += 1
        if k == end or not _isdigit(s[k]):
            version = int(s[j + 1:k])
            j = k
    if (j < end and s[j] in "abcABC" and nd <= 4 and frac < 0 and version < 0
            and (j + 1 == end or not s[j + 1].isalnum())):
        part = ord(s[j].lower())
        j += 1
    return j, value, nd, version, frac, fracdigits, part


def _digits(s: str, i: int, end: int) -> tuple[int, int]:
    """(next, value) of a plain digit run at i; next == -1 if none or too long."""
    j = i
    while j < end and _isdigit(s[j]):
        j += 1
    if j == i or j - i > MAX_DIGITS:
        return -1, 0
    return j, int(s[i:j])


def _cjk_digits(s: str, i: int, end: int) -> tuple[int, int]:
    """(next, value) of a Chinese numeral from 1 to 99 at i (二, 十, 十二, 二十三); next == -1 if none."""
    j, value = i, 0
    if j < end and s[j] in CJK_DIGITS:
        value = CJK_DIGITS[s[j]]
        j += 1
    if j < end and s[j] == "十":
        value = (value if j > i else 1) * 10
        j += 1
        if j < end and s[j] in CJK_DIGITS:
            value += CJK_DIGITS[s[j]]
            j += 1
    if j == i or value == 0:
        return -1, 0
    return j, value


def _is_date(s: str, i: int) -> bool:
    """s[i:i+8] is a plausible YYYYMMDD."""
    y = int(s[i:i + 4])
    m = int(s[i + 4:i + 6])
    d = int(s[i + 6:i + 8])
    return 1970 <= y <= 2099 and 1 <= m <= 12 and 1 <= d <= 31


# ---------------------------------------------------------------- classification


def _token(ws: int, we: int, br: int, cat: int, a: int = 0, b: int = 0, c: int = -1, d: int = -1,
           x: int = 0, f: int = 0, g: int = 0, fl: int = 0) -> list[int]:
    return [ws, we, cat, br, a, b, c, d, x, f, g, fl]


def _classify(s: str, ws: int, we: int, br: int) -> list[int]:
    """The token for the word s[ws:we] (br: its bracket id, -1 outside brackets)."""
    n = we - ws
    w = s[ws:we]
    key = _lower(w)
    v = _VOCAB.get(key)
    if v is None and n > 1 and key[-1] == ".":
        v = _VOCAB.get(key[:-1])
    if v is not None:
        return _token(ws, we, br, v[0], v[1], v[2], fl=WEAK if v[3] else 0)
    c0 = s[ws]
    if n == 8 and _HEX8.fullmatch(w):
        digits = sum(1 for c in w if "0" <= c <= "9")
        if True:
            if digits == 8:
                if _is_date(s, ws):
                    return _token(ws, we, br, DATE)
                if br >= 0:
                    return _token(ws, we, br, CRC)
            elif digits > 0:
                return _token(ws, we, br, CRC)
    if _isdigit(c0):
        return _classify_number(s, ws, we, br)
    if c0 in "sS" and n > 1 and _isdigit(s[ws + 1]):
        return _classify_season(s, ws, we, br)
    if c0 in "vV" and 1 < n <= 3:
        j, value = _digits(s, ws + 1, we)
        if j == we:
            return _token(ws, we, br, VERSION, value)
    if c0 == "『" and n > 2 and s[we - 1] == "』":  # 『23』
        t = _classify_episode(s, ws + 1, we - 1, ws, br)
        if t is not None:
            t[E] = we
            return t
    if c0 == "#" and n > 1:
        t = _classify_episode(s, ws + 1, we, ws, br)
        if t is not None:
            return t
    if n > 6 and key.startswith("season"):  # "Season1", "season02" (folders)
        j, value = _digits(s, ws + 6, we)
        if j == we:
            return _token(ws, we, br, SEASON, value)
    if c0 == "第" and n > 2:
        t = _classify_di(s, ws, we, br)
        if t is not None:
            return t
    m = _TYPED_PREFIX.match(key)  # the first of TYPED_PREFIXES followed by a digit
    if m is not None:
        prefix = m.group(1)
        j, value, nd, version, frac, fracdigits, part = _numpart(s, ws + len(prefix), we)
        if j == we:
            return _token(ws, we, br, TYPED, _VOCAB[prefix][1], value, version, frac,
                          fracdigits, part, len(prefix))
    m = _TYPED_VERSION.match(key)
    if m is not None:
        v = _VOCAB[m.group(1)]
        return _token(ws, we, br, TYPED, v[1], v[2], int(m.group(2)))
    if c0 in "eE" and n > 1:
        k = ws + 1
        if s[k] in "pP":
            k += 1
        if k < we and s[k] == ".":
            k += 1
        if k < we and _isdigit(s[k]):
            t = _classify_episode(s, k, we, ws, br)
            if t is not None:
                return t
    return _word(s, ws, we, br)


def _classify_di(s: str, ws: int, we: int, br: int) -> list[int] | None:
    """第5話, 第五话, 第01-12话, 第01～02話, 第06話V2版, 第12v2話, 第2季, 第二期."""
    j, value, _nd, version, frac, _fd, _part = _numpart(s, ws + 1, we)
    if j == -1:  # 第二季
        j, value = _cjk_digits(s, ws + 1, we)
        frac = version = -1
    if j < 0 or j >= we or frac >= 0:
        return None
    if s[j] in "期季部":
        return _token(ws, we, br, SEASON, value) if j == we - 1 else None
    last = -1
    if s[j] in RANGE_SEPARATORS:
        if s[j + 1:j + 2] in RANGE_SEPARATORS and j + 2 < we:  # "第01--13話"
            j += 1
        j2, last, version2 = _range_end(s, j, we, value)
        if j2 < 0:
            return None
        j = j2
        version = version if version >= 0 else version2
    if j < we and s[j] in "話话集回":
        k = j + 1
        if version < 0 and k + 1 < we and s[k] in "vV" and _isdigit(s[k + 1]):
            version = _digits(s, k + 1, we)[1] if _digits(s, k + 1, we)[0] > 0 else -1
        return _token(ws, we, br, EPNUM, value, last, version)
    return None


def _classify_episode(s: str, i: int, we: int, ws: int, br: int) -> list[int] | None:
    """An explicit episode whose number starts at i: 05, 05v2, 07.5, 01-02, 01-E02."""
    j, value, nd, version, frac, fracdigits, part = _numpart(s, i, we)
    if j < 0:
        return None
    if j == we:
        return _token(ws, we, br, EPNUM, value, -1, version, frac, fracdigits, part)
    if s[j] in "-~" and j + 1 < we and frac < 0:
        k = j + 1
        if s[k] in "eE":
            k += 1
            if k < we and s[k] in "pP":
                k += 1
        j2, value2, _nd, version2, frac2, _fd, part2 = _numpart(s, k, we)
        if j2 == we and frac2 < 0 and value2 > value and part2 == 0:
            return _token(ws, we, br, EPNUM, value, value2, version if version >= 0 else version2)
    return None


def _classify_season(s: str, ws: int, we: int, br: int) -> list[int]:
    """S2, S02, S01E05, S01E05v2, S01x05, S01xE05, S01E05-E06, S01E05E06, S01E23-E24-E26."""
    j, season = _digits(s, ws + 1, we)
    if j < 0 or j - ws - 1 > 4:
        return _token(ws, we, br, WORD)
    if j == we:
        return _token(ws, we, br, SEASON, season)
    if s[j] in "sS" and j + 1 < we:  # "S01S02": two seasons
        k, season2 = _digits(s, j + 1, we)
        if k == we and season2 > season:
            return _token(ws, we, br, SEASON, season, season2)
    if s[j] in "eExX" and j + 1 < we:
        m = j + 1
        if s[j] in "xX" and s[m] in "eE":
            m += 1
        t = _season_episodes(s, ws, m, we, br, season)
        if t is not None:
            return t
    return _token(ws, we, br, WORD)


def _season_episodes(s: str, ws: int, m: int, we: int, br: int, season: int) -> list[int] | None:
    """The SEASONEP token of a word whose episodes start at m: 05, 05v2, 05-06, 03x04x15."""
    k, ep, nd, version, frac, fracdigits, part = _numpart(s, m, we)
    if k < 0 or frac >= 0 or part != 0:
        return None
    if k == we:
        return _token(ws, we, br, SEASONEP, season, ep, -1, version)
    k2, last, version2 = _range_end(s, k, we, ep, CHAIN_SEPARATORS)
    if k2 == we:
        return _token(ws, we, br, SEASONEP, season, ep, last, version if version >= 0 else version2)
    return None


def _is_dmy_date(s: str, ws: int, we: int) -> bool:
    """s[ws:we] is 2023.01.05, 2023-01-05 or 29.10.2023 (not an episode 29.10)."""
    if we - ws != 10:
        return False
    if s[ws + 4] in ".-/" and s[ws + 7] == s[ws + 4]:
        return (_digits(s, ws, ws + 4)[0] == ws + 4 and _digits(s, ws + 5, ws + 7)[0] == ws + 7
                and _digits(s, ws + 8, we)[0] == we)
    if s[ws + 2] in ".-/" and s[ws + 5] == s[ws + 2]:
        return (_digits(s, ws, ws + 2)[0] == ws + 2 and _digits(s, ws + 3, ws + 5)[0] == ws + 5
                and _digits(s, ws + 6, we)[0] == we)
    return False


def _episode_suffix(s: str, k: int, we: int) -> bool:
    """s[k:we] may follow an episode number glued to it ("END", "Fin", "完", "TV全集")."""
    if k >= we:
        return False
    if s[k] in EPISODE_SUFFIX_CJK:
        return True
    for suffix in EPISODE_SUFFIXES:
        m = k + len(suffix)
        if m <= we and _lower(s[k:m]) == suffix and (m == we or not s[m].isascii()
                                                      or s[m] in "_-"):
            return True
    return False


def _embedded_resolution(s: str, ws: int, we: int) -> int:
    """The height in a word like "AI2160p", "BD720p", "PSP-480P", "1080p@60FPS" (0: none)."""
    i = ws
    while i < we:
        if _isdigit(s[i]):
            j = i
            while j < we and _isdigit(s[j]):
                j += 1
            if 3 <= j - i <= 4 and j < we and s[j] in "pP" and (
                    j + 1 == we or not _isdigit(s[j + 1])):
                value = int(s[i:j])
                if value in RES_HEIGHTS:
                    return value
            i = j
        else:
            i += 1
    return 0


def _word(s: str, ws: int, we: int, br: int) -> list[int]:
    """A word no rule claimed, unless it carries a resolution ("BD720p")."""
    height = _embedded_resolution(s, ws, we)
    if height:
        return _token(ws, we, br, RES, height)
    w = s[ws:we]
    if not w.isascii():
        for fragment in NOISE_FRAGMENTS:
            if fragment in w:
                return _token(ws, we, br, TAG, F_NOISE, VALUE_INDEX[""])
    return _token(ws, we, br, WORD)


def _range_end(s: str, j: int, we: int, value: int, seps: str = RANGE_SEPARATORS,
               ) -> tuple[int, int, int]:
    """(next, last, version) of the range going on at s[j] ("-02", "~E12", "-02-03"), or
    next == -1. Each number must be bigger than the one before it."""
    last, version, k = value, -1, -1
    while j + 1 < we and s[j] in seps:
        m = j + 1
        if s[m] in "eE":
            m += 1
            if m < we and s[m] in "pP":
                m += 1
        j2, value2, _nd, version2, frac2, _fd, part2 = _numpart(s, m, we)
        if j2 < 0 or frac2 >= 0 or part2 != 0 or value2 <= last:
            break
        last, version, k, j = value2, version2, j2, j2
    return k, last, version


def _classify_number(s: str, ws: int, we: int, br: int) -> list[int]:
    if _is_dmy_date(s, ws, we):
        return _token(ws, we, br, DATE)  # 2023.01.05, 2023-01-05, 29.10.2023
    j, value, nd, version, frac, fracdigits, part = _numpart(s, ws, we)
    if j == we or (j == we - 1 and s[j] == "." and nd <= 3):  # "2." as in "2. Episode Name"
        return _token(ws, we, br, NUM, value, nd, version, frac, fracdigits, part)
    if j > 0 and frac < 0 and _episode_suffix(s, j, we):
        return _token(ws, we, br, EPNUM, value, -1, version)  # "12END", "13完", "24v2Fin"
    k, v1 = _digits(s, ws, we)
    if k < 0:
        return _word(s, ws, we, br)
    c = s[k]
    rest = we - k
    if c in "pPiI" and rest == 1 and 3 <= k - ws <= 4:
        return _token(ws, we, br, RES, v1)
    if c in "xX×" and rest > 1:
        k2, v2 = _digits(s, k + 1, we)
        if k2 > 0 and 3 <= k - ws <= 4 and 3 <= k2 - k - 1 <= 4 and (
                k2 == we or (k2 + 1 == we and s[k2] in "pPiI")):
            return _token(ws, we, br, RES, v2)
        if c != "×" and (k - ws <= 2 or 1900 <= v1 <= 2099) and v1 >= 1:  # 02x03, 2009x03-04
            m = k + 1
            if s[m] in "eE":
                m += 1
            t = _season_episodes(s, ws, m, we, br, v1)
            if t is not None and (k2 != we or 2 <= k2 - k - 1 <= 4):
                return t
    if rest == 2 and _lower(s[k:we]) in ("st", "nd", "rd", "th"):
        return _token(ws, we, br, ORDINAL, v1)
    if rest == 1 and c in "話话集화회":
        return _token(ws, we, br, EPNUM, v1, -1)
    if rest == 1 and c in "期季기":  # 2期, 第2季, 2기
        return _token(ws, we, br, SEASON, v1)
    if j > 0 and frac < 0 and part == 0:
        j2, value2, version2 = _range_end(s, j, we, value)
        if j2 == we:
            return _token(ws, we, br, RANGE, value, value2, version, version2, nd)
        if j2 > 0 and _episode_suffix(s, j2, we):  # "01-12Fin", "01-24完", "13-25集"
            return _token(ws, we, br, EPNUM, value, value2, version if version >= 0 else version2)
    return _word(s, ws, we, br)


# ---------------------------------------------------------------- tokens


def _outside(top: dict[int, int], end: int) -> list[tuple[int, int]]:
    """The stretches of the name outside top-level brackets and ★decorations★."""
    spans = []
    pos = 0
    for o, j in top.items():
        spans.append((pos, o))
        pos = (j if j > 0 else -j) + 1
    spans.append((pos, end))
    return spans


def _separator_mode(s: str, end: int, top: dict[int, int]) -> int:
    """The name's word separator, judged outside brackets: space, "_", ".", "+" or "-"."""
    text = "".join([s[a:b] for a, b in _outside(top, end)]) if top else s[:end]
    space = text.count(" ") + text.count("\t") + text.count("\u3000")
    underscore = text.count("_")
    dot = text.count(".")
    plus = text.count("+")
    if space and space >= underscore and not (dot >= 3 and dot > 2 * space):
        return M_SPACE  # (a scene name with one stray space still splits at dots)
    if underscore:
        return M_UNDERSCORE
    if dot:
        return M_DOT
    if plus:
        return M_PLUS
    return M_DASH


def _dot_splits(s: str, i: int, end: int) -> bool:
    """Whether the "." at i separates words: not in 07.5, 2.0, 1.11 or H.264."""
    if 0 < i and i + 1 < end and _isdigit(s[i - 1]) and _isdigit(s[i + 1]):
        k = i + 1
        while k < end and _isdigit(s[k]):
            k += 1
        return k - i - 1 > 2
    if 0 < i and i + 3 < end and s[i - 1] in "hHxX" and s[i + 1] == "2" and s[i + 2] == "6" \
            and s[i + 3] in "45":
        return False
    return True


def _is_separator(s: str, i: int, end: int, mode: int, inside: bool) -> bool:
    c = s[i]
    if c == " " or c == "\t" or c == "\u3000" or c in STARS:
        return True
    if OPENERS.find(c) >= 0 or CLOSERS.find(c) >= 0:
        return True
    if inside:
        if c in "_,+/|;&":
            return True
        return c == "." and _dot_splits(s, i, end)
    if mode == M_SPACE:
        if c == "_":
            return not (0 < i < end - 1 and s[i - 1].isalnum() and s[i + 1].isalnum())
        return False
    if mode == M_UNDERSCORE:
        return c == "_"
    if mode == M_DOT:
        return c == "_" or (c == "." and _dot_splits(s, i, end))
    if mode == M_PLUS:
        return c == "+"
    return c == "-"


def _strong(t: list[int]) -> bool:
    """A token that can split a word it was glued into (x264-GROUP, Gunbuster-ep1)."""
    cat = t[CAT]
    if cat == WORD or cat == NUM or cat == DATE or cat == VERSION:
        return False
    if cat == TAG or cat == TYPED or cat == ORDINAL or cat == OF:
        return not (t[FL] & WEAK)
    return True


def _word_tokens(s: str, ws: int, we: int, br: int, mode: int, out: list[list[int]]) -> None:
    """The tokens of one word (usually one; glued words like x264-GROUP give more)."""
    n = we - ws
    if n <= 0:
        return
    if not s[ws:we].strip(DASHES) or (n == 2 and s[ws] == "/" and s[ws + 1] == "/"):
        if mode != M_DASH and n <= 2:  # "-", "--", "//"
            out.append(_token(ws, we, br, DASH))
        return
    if n == 1 and s[ws] in "~〜":
        out.append(_token(ws, we, br, TILDE))
        return
    if n == 1 and s[ws] in "+&":
        out.append(_token(ws, we, br, PLUS))
        return
    glued = 0
    while ws < we and s[ws] in DASHES:
        ws += 1
        glued = GLUED
    while we > ws and s[we - 1] in DASHES:
        we -= 1
    t = _classify(s, ws, we, br)
    t[FL] |= glued
    if t[CAT] == WORD and mode != M_DASH:
        parts = _split_glued(s, ws, we, br)
        if parts:
            parts[0][FL] |= glued
            out.extend(parts)
            return
    out.append(t)


# A word's tokens depend only on its text, whether it is in brackets and whether "-"
# separates words, so the pure twin caches them (names repeat their groups, tags and
# titles); the compiled twin classifies every time. Index: inside * 2 + dash mode.
_WORD_CACHES: tuple[dict[str, tuple[tuple[int, ...], ...]], ...] = ({}, {}, {}, {})
_CACHE_LIMIT = 100_000


def _cached_tokens(w: str, inside: bool, mode: int) -> tuple[tuple[int, ...], ...]:
    cache = _WORD_CACHES[inside * 2 + (mode == M_DASH)]
    cached = cache.get(w)
    if cached is None:
        fresh: list[list[int]] = []
        _word_tokens(w, 0, len(w), 0 if inside else -1, mode, fresh)
        cached = tuple((t[0], t[1], t[2]) + tuple(t[4:]) for t in fresh)
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[w] = cached
    return cached


def _emit_word(s: str, ws: int, we: int, br: int, mode: int, out: list[list[int]]) -> None:
    """Append the tokens of the word s[ws:we]."""
    if we > ws:
        for rs, re_, cat, a, b, c, d, x, f, g, fl in _cached_tokens(s[ws:we], br >= 0, mode):
            out.append([rs + ws, re_ + ws, cat, br, a, b, c, d, x, f, g, fl])


def _split_glued(s: str, ws: int, we: int, br: int) -> list[list[int]]:
    """Split a word at "-" and "." when a part is a tag or marker (01.DVD, x264-ESiR)."""
    parts: list[list[int]] = []
    strong = False
    start = ws
    glued = 0
    for k in range(ws, we + 1):
        if k < we:
            c = s[k]
            if not (c == "-" or c == "_" or (c == "." and _dot_splits(s, k, we))):
                continue
        if k > start:
            t = _classify(s, start, k, br)
            t[FL] |= glued
            if _strong(t) or (k == we and glued and parts and _glued_episode(t, parts[-1])):
                strong = True
            parts.append(t)
        glued = GLUED if k < we and s[k] == "-" else 0
        start = k + 1
    if not strong or len(parts) < 2:
        return []
    return parts


def _glued_episode(t: list[int], prev: list[int]) -> bool:
    """"Title-08": a 2-4 digit number glued by "-" to the end of a word is an episode."""
    return t[CAT] == NUM and 2 <= t[B] <= 4 and not _is_year(t) and prev[CAT] == WORD


def _tokenize(s: str, end: int, top: dict[int, int], mode: int) -> list[list[int]]:
    out: list[list[int]] = []
    pos = 0
    nbr = 0
    for o, j in top.items():
        _split(s, pos, o, end, -1, mode, out)
        if j < 0:  # ★decoration★: skipped whole
            pos = -j + 1
            continue
        out.append(_token(o, o + 1, nbr, OPEN))
        _split(s, o + 1, j, end, nbr, mode, out)
        out.append(_token(j, j + 1, nbr, CLOSE))
        nbr += 1
        pos = j + 1
    _split(s, pos, end, end, -1, mode, out)
    return out


def _split(s: str, a: int, b: int, end: int, br: int, mode: int, out: list[list[int]]) -> None:
    """Tokens of the words in s[a:b]: split at sure separators by a regex, then at the
    "_" or "." that separate only in context (_is_separator decides those)."""
    inside = br >= 0
    words = _WORDS_INSIDE if inside else _WORDS[mode]
    cond = "." if inside else "_" if mode == M_SPACE else "." if mode == M_DOT else ""
    append = out.append
    for m in words.finditer(s, a, b):
        w = m.group()
        ws = m.start()
        if cond and cond in w:
            we = ws + len(w)
            k = s.find(cond, ws, we)
            while k >= 0:
                if _is_separator(s, k, end, mode, inside):
                    _emit_word(s, ws, k, br, mode, out)
                    ws = k + 1
                k = s.find(cond, k + 1, we)
            _emit_word(s, ws, we, br, mode, out)
            continue
        for rs, re_, cat, a_, b_, c, d, x, f, g, fl in _cached_tokens(w, inside, mode):
            append([rs + ws, re_ + ws, cat, br, a_, b_, c, d, x, f, g, fl])


# ---------------------------------------------------------------- combining tokens


def _combine(s: str, toks: list[list[int]]) -> None:
    """Join multi-word forms in place: "Episode 5", "Season 2", "2nd Season", "01 of 24",
    "Vol. 3", "01 ~ 04", "Dual Audio"."""
    n = len(toks)
    for i in range(n - 1):
        t = toks[i]
        cat = t[CAT]
        if cat == WORD or cat == TAG:
            if s[t[S]] not in _PAIR_FIRST:
                continue  # no two-word tag starts with this letter
        elif cat not in _COMBINERS:
            continue
        u = toks[i + 1]
        if t[BR] != u[BR]:
            continue
        if cat == EPWORD and (u[CAT] == NUM or u[CAT] == RANGE):
            _absorb(t, u, EPNUM)
            if u[CAT] == RANGE:
                t[A], t[B], t[C] = u[A], u[B], u[C]
            else:
                t[A], t[B], t[C], t[D], t[X], t[F] = u[A], -1, u[C], u[D], u[X], u[F]
            u[CAT] = -1
        elif cat == SEASONWORD and u[CAT] == NUM and u[D] < 0 and (i == 0 or not t[FL] & WEAK):
            _absorb(t, u, SEASON)
            t[A] = u[A]
            u[CAT] = -1
        elif cat == SEASONWORD and u[CAT] == RANGE:
            _absorb(t, u, SEASON)
            t[A], t[B] = u[A], u[B]
            u[CAT] = -1
        elif cat == ORDINAL and u[CAT] == SEASONWORD:
            _absorb(t, u, SEASON)
            u[CAT] = -1
        elif cat == VOLWORD and (u[CAT] == NUM or u[CAT] == RANGE):
            _absorb(t, u, VOLUME)
            t[C] = u[C]
            u[CAT] = -1
        elif cat == NUM and u[CAT] == OF and i + 2 < n and toks[i + 2][CAT] == NUM \
                and toks[i + 2][BR] == t[BR] and t[D] < 0 and t[A] <= toks[i + 2][A]:
            t[CAT] = EPNUM
            t[B] = -1
            t[E] = toks[i + 2][E]
            u[CAT] = -1
            toks[i + 2][CAT] = -1
        elif cat == EPNUM and u[CAT] == TILDE and i + 2 < n and toks[i + 2][CAT] == EPNUM \
                and toks[i + 2][BR] == t[BR] and t[B] < 0 and toks[i + 2][B] < 0 \
                and t[A] < toks[i + 2][A]:
            t[B] = toks[i + 2][A]  # "EP01 ~ EP02"
            t[E] = toks[i + 2][E]
            u[CAT] = -1
            toks[i + 2][CAT] = -1
        elif cat == SEASONEP and u[CAT] == DASH and i + 2 < n and t[BR] < 0:
            _chain_season_episodes(s, toks, i)  # "02x03 - 02x04 - 02x15", "02x03 - x04 - x15"
        elif cat == NUM and u[CAT] == SEASONWORD and t[D] < 0 and s[t[E]] == ".":
            _absorb(t, u, SEASON)  # "3.Staffel", "3. Staffel"
            u[CAT] = -1
        elif cat == NUM and u[CAT] == TILDE and i + 2 < n and toks[i + 2][CAT] == NUM \
                and toks[i + 2][BR] == t[BR] and t[D] < 0 and toks[i + 2][D] < 0 \
                and t[A] < toks[i + 2][A]:
            t[CAT] = RANGE
            t[X] = t[B]
            t[B] = toks[i + 2][A]
            t[D] = toks[i + 2][C]
            t[E] = toks[i + 2][E]
            u[CAT] = -1
            toks[i + 2][CAT] = -1
        elif (cat == WORD or cat == TAG) and u[CAT] != -1:
            pairs = _PAIRS.get(_lower(s[t[S]:t[E]]))
            if pairs is not None:
                v = pairs.get(_lower(s[u[S]:u[E]]))
                if v is not None:
                    t[CAT], t[A], t[B], t[FL] = v[0], v[1], v[2], 0
                    u[CAT], u[A], u[B], u[FL] = TAG, F_NOISE, VALUE_INDEX[""], 0
        elif cat == NUM and u[CAT] == TAG and not (u[FL] & WEAK) and t[A] in RES_HEIGHTS \
                and t[B] >= 3 and t[C] < 0 and t[D] < 0 and u[A] != F_NOISE:
            t[CAT], t[A] = RES, t[A]
        elif cat == NUM and u[CAT] == TAG and _lower(s[u[S]:u[E]]) in ("bit", "bits"):
            t[CAT], t[A], t[B], t[FL] = TAG, F_NOISE, VALUE_INDEX[""], 0
    toks[:] = [t for t in toks if t[CAT] != -1]


def _chain_season_episodes(s: str, toks: list[list[int]], i: int) -> None:
    """Absorb the " - 02x04 - x15" after the SEASONEP toks[i] into its episode range."""
    t = toks[i]
    n = len(toks)
    j = i + 1
    while j + 1 < n and toks[j][CAT] == DASH and toks[j + 1][BR] < 0:
        w = toks[j + 1]
        last = t[C] if t[C] >= 0 else t[B]
        ep = -1
        if w[CAT] == SEASONEP and w[A] == t[A] and w[C] < 0:
            ep = w[B]
        elif w[CAT] == WORD and s[w[S]] in "xX":
            k, value = _digits(s, w[S] + 1, w[E])
            if k == w[E]:
                ep = value
        if ep <= last:
            return
        t[C] = ep
        t[E] = w[E]
        toks[j][CAT] = toks[j + 1][CAT] = -1
        j += 2


def _absorb(t: list[int], u: list[int], cat: int) -> None:
    t[CAT] = cat
    t[E] = u[E]
    t[FL] &= ~WEAK


# ---------------------------------------------------------------- brackets as units


def _is_year(t: list[int]) -> bool:
    return t[CAT] == NUM and t[B] == 4 and 1900 <= t[A] <= 2099 and t[D] < 0 and t[C] < 0 and t[F] == 0


def _is_tag(t: list[int]) -> bool:
    cat = t[CAT]
    return (cat == TAG or cat == RES or cat == CRC or cat == DATE or cat == VERSION
            or cat == VOLUME or (cat == TYPED and t[A] == K_TV))


def _bracket_class(toks: list[list[int]], o: int) -> tuple[int, int]:
    """(class, index of its CLOSE) for the bracket opening at toks[o]."""
    words = tags = weak = nums = years = 0
    i = o + 1
    n = len(toks)
    while i < n and toks[i][CAT] != CLOSE:
        t = toks[i]
        if _is_tag(t):
            if t[FL] & WEAK:
                weak += 1
            else:
                tags += 1
        elif _is_year(t):
            years += 1
        elif t[CAT] in (NUM, RANGE, EPNUM, SEASONEP, SEASON) or (t[CAT] == TYPED and t[G] > 0):
            nums += 1
        elif t[CAT] != DASH and t[CAT] != PLUS and t[CAT] != TILDE:
            words += 1
        i += 1
    if words:
        return (B_MIXED if tags or nums or years else B_TEXT), i
    if nums:
        return B_NUM, i
    if years:
        return (B_YEAR if years == 1 and not tags and not weak else B_TAGS), i
    if tags:
        return B_TAGS, i
    if weak:
        return B_WEAK, i  # "[CH]": a tag word, or a group's name
    if i == o + 1 and i < n and toks[i][S] > toks[o][E]:
        return B_TEXT, i  # only separators inside, like "[&]": a name all the same
    return B_EMPTY, i


def _has_comma(s: str, a: int, b: int) -> bool:
    return s.find(",", a, b) >= 0


# ---------------------------------------------------------------- the rules


def _boundary(t: list[int]) -> bool:
    """Ends a title: tags, markers, explicit episodes and seasons."""
    cat = t[CAT]
    if cat == TAG:
        return not (t[FL] & WEAK) or t[BR] >= 0
    if cat == TYPED:
        return t[G] > 0 or (t[A] == K_TV and t[BR] >= 0)
    return cat in (RES, CRC, DATE, VERSION, VOLUME, SEASONEP, SEASON, EPNUM, VOLWORD)


def _text(s: str, a: int, b: int, mode: int) -> str:
    """s[a:b] with the name's word separators turned into spaces, trimmed."""
    if a >= b:
        return ""
    raw = s[a:b]
    if mode == M_UNDERSCORE:
        raw = raw.replace("_", " ")
    elif mode == M_DOT:
        chars = list(raw)
        for k in range(len(chars)):
            c = chars[k]
            if c == "_" or (c == "." and _dot_splits(s, a + k, b) and not (
                    (k > 0 and chars[k - 1] == ".") or (k + 1 < len(chars) and chars[k + 1] == "."))):
                chars[k] = " "
        raw = "".join(chars)
    elif mode == M_PLUS:
        raw = raw.replace("+", " ")
    elif mode == M_DASH:
        raw = raw.replace("-", " ")
    elif "_" in raw:
        chars = list(raw)
        for k in range(len(chars)):
            if chars[k] == "_" and _is_separator(s, a + k, len(s), M_SPACE, False):
                chars[k] = " "
        raw = "".join(chars)
    return _trim(raw)


def _trim(t: str) -> str:
    i = 0
    j = len(t)
    while True:
        while i < j and (t[i] == " " or t[i] == "\t" or t[i] == "\u3000"):
            i += 1
        while j > i and (t[j - 1] == " " or t[j - 1] == "\t" or t[j - 1] == "\u3000"):
            j -= 1
        if j > i and t[j - 1] in DASHES and (j - 1 == i or t[j - 2] == " "):
            j -= 1
            continue
        if j > i and t[i] in DASHES and (i + 1 == j or t[i + 1] == " "):
            i += 1
            continue
        return t[i:j]


class _Parse:
    """Working state of one parse (the compiled twin keeps the same fields in a C struct)."""

    __slots__ = ("s", "end", "mode", "toks", "group_br", "ep", "title_a", "title_b",
                 "title_mode", "kind", "xtype", "season", "stop", "eptitle_a", "eptitle_b",
                 "group_a", "group_b", "title_first")


def parse_name(name: str) -> ParsedName:
    """Parse one file name (no folders) into a ParsedName; never raises for any str."""
    s = name if len(name) <= MAX_NAME else name[-MAX_NAME:]
    if not s.isascii():
        s = s.translate(_FULLWIDTH_DIGITS)  # "第５話", "- １５８": digits all the same
    end, ext, lang, subs = _split_extension(s)
    top = _top_brackets(s, end)
    mode = _separator_mode(s, end, top)
    toks = _tokenize(s, end, top, mode)
    _combine(s, toks)
    p = _Parse()
    p.s, p.end, p.mode, p.toks = s, end, mode, toks
    p.group_br = -1
    p.group_a = p.group_b = -1
    p.ep = -1
    p.title_a = p.title_b = -1
    p.title_mode = mode
    p.eptitle_a = p.eptitle_b = -1
    p.season = 0
    p.kind = 0
    p.xtype = -1
    p.stop = -1
    first = _find_leading_group(p)
    _find_episode(p, first)
    _find_title(p, first)
    _find_episode_title(p)
    if p.group_br < 0:
        _find_trailing_group(p)
    return _build(p, ext, lang, subs)


def parse_names(names: Iterable[str], with_folders: Callable[[str], ParsedName]) -> list[ParsedName]:
    """[parse_name(n) for each n without "/" or "\\", else with_folders(n)]: the batch
    behind anivault.parse.parse_many."""
    return [with_folders(n) if "/" in n or "\\" in n else parse_name(n) for n in names]


def _skip_bracket(toks: list[list[int]], i: int) -> int:
    """Index after the CLOSE of the bracket opening at i."""
    n = len(toks)
    br = toks[i][BR]
    while i < n and not (toks[i][CAT] == CLOSE and toks[i][BR] == br):
        i += 1
    return i + 1


def _titleish(t: list[int]) -> bool:
    """A token that can be part of a title outside brackets."""
    cat = t[CAT]
    return t[BR] < 0 and (cat == WORD or cat == NUM or cat == RANGE or cat == ORDINAL or cat == OF
                          or cat == EPWORD or cat == SEASONWORD or cat == PLUS or cat == TILDE
                          or (cat == TYPED and t[G] == 0)
                          or (cat == TAG and (t[FL] & WEAK) != 0))


def _find_leading_group(p: _Parse) -> int:
    """Pick the leading [Group]; return the index where the title may start."""
    toks = p.toks
    n = len(toks)
    i = 0
    if n > 2 and toks[0][BR] < 0 and toks[0][CAT] in (NUM, WORD) and toks[1][CAT] == OPEN:
        after = _skip_bracket(toks, 1)
        if after < n and _titleish(toks[after]) and toks[after][CAT] == WORD:
            i = 1  # junk before the group: "37 [Ruberia]...", "EvoBot.[Watakushi]..."
    if i >= n or toks[i][CAT] != OPEN:
        return i
    cls, close = _bracket_class(toks, i)
    if cls != B_TEXT and cls != B_MIXED and cls != B_WEAK or _typed_only(toks, i, close):
        return i
    # Free text after the leading brackets means [Group] Title; otherwise all brackets.
    k = i
    while k < n and toks[k][CAT] == OPEN:
        k = _skip_bracket(toks, k)
    while k < n and toks[k][CAT] == DASH:
        k += 1
    if k < n and _titleish(toks[k]) and not _lone_number_title(toks, k):
        p.group_br = toks[i][BR]
        p.group_a = toks[i][E]
        p.group_b = toks[close][S]
        j = _skip_bracket(toks, i)
        while j < n and toks[j][CAT] == OPEN:  # [Group][Group2] Title: skip the rest
            j = _skip_bracket(toks, j)
        return j
    return i


def _lone_number_title(toks: list[list[int]], k: int) -> bool:
    """[Keroro].148.[Xvid]: a lone number between brackets is an episode, not a title."""
    n = len(toks)
    t = toks[k]
    if t[CAT] != NUM or _is_year(t):
        return False
    j = k + 1
    return j >= n or toks[j][CAT] == OPEN or _boundary(toks[j])


def _dash_number_after(toks: list[list[int]], i: int) -> bool:
    """A " - NN" outside brackets at or after toks[i]."""
    n = len(toks)
    while i + 1 < n:
        if toks[i][CAT] == DASH and toks[i][BR] < 0 and toks[i + 1][CAT] in (NUM, RANGE) \
                and toks[i + 1][BR] < 0:
            return True
        i += 1
    return False


def _find_episode(p: _Parse, first: int) -> None:
    toks = p.toks
    n = len(toks)
    gb = p.group_br
    # 1. explicit markers: S01E02, Ep 5, #05, 第5話, ED2.
    for i in range(first, n):
        t = toks[i]
        if t[BR] >= 0 and t[BR] == gb:
            continue
        cat = t[CAT]
        if cat == EPNUM or cat == SEASONEP or (cat == TYPED and t[G] > 0):
            p.ep = i
            return
    for i in range(first, n):
        t = toks[i]
        if t[BR] >= 0 and t[BR] == gb:
            continue
        cat = t[CAT]
        # 2. right after a season or a year: "S2 - 07", "2nd Season 24", "(2009) 04".
        if (cat == SEASON and t[BR] < 0) or (cat == CLOSE and _is_year(toks[i - 1])
                                             and toks[i - 2][CAT] == OPEN):
            j = i + 1
            if j < n and toks[j][CAT] == DASH:
                j += 1
            if j < n and toks[j][BR] < 0 and toks[j][CAT] in (NUM, RANGE) and not _is_year(toks[j]):
                p.ep = j
                return
    # 3. a number opening the name, before a dash and words: "05 - Title - Episode Title"
    # (but "86 - 05" is the show "86").
    k = first
    if k < n and toks[k][CAT] in (NUM, RANGE) and toks[k][BR] < 0 and k + 2 < n \
            and toks[k + 1][CAT] == DASH and _titleish(toks[k + 2]) \
            and toks[k + 2][CAT] not in (NUM, RANGE, DASH) and not _is_year(toks[k]):
        p.ep = k
        return
    # "02.Episode Name", "02-Episode Name", "2. Episode Name": a file named for its episode.
    if k == 0 and n > 1 and toks[0][CAT] == NUM and toks[0][BR] < 0 and toks[0][B] <= 3 \
            and toks[0][D] < 0 and p.s[toks[0][S] + toks[0][B]] in ".-" \
            and toks[1][CAT] in (WORD, EPWORD) and toks[1][BR] < 0 and not any(
                t[CAT] in (NUM, RANGE, EPNUM, SEASONEP) for t in toks[1:]):
        p.ep = 0
        return
    # "[Group] 06 Title": a zero-padded number right after the group.
    if 0 < k < n - 1 and toks[k][CAT] == NUM and toks[k][BR] < 0 and toks[k][B] >= 2 \
            and p.s[toks[k][S]] == "0" and toks[k][D] < 0 and toks[k + 1][CAT] == WORD:
        p.ep = k
        return
    # A name that is just a number: "05.mkv", "05 [1080p].mkv" (folders give the title).
    if first == 0 and n and toks[0][CAT] == NUM and not _is_year(toks[0]) and not any(
            _titleish(t) for t in toks[1:]):
        p.ep = 0
        return
    # 4. a number after a dash: "Title - 05".
    for i in range(first + 1, n):
        t = toks[i]
        if t[BR] < 0 and (t[CAT] == NUM or t[CAT] == RANGE) and (
                (toks[i - 1][CAT] == DASH and toks[i - 1][BR] < 0 and i - 1 > first)
                or (t[FL] & GLUED and toks[i - 1][CAT] == WORD and toks[i - 1][E] + 1 == t[S])):
            if i + 1 < n and toks[i + 1][CAT] == WORD and _dash_number_after(toks, i + 2):
                continue  # "Title - 100 Years Quest - 05": the number is the title's
            p.ep = i
            if t[CAT] == NUM and i + 3 < n and toks[i + 1][CAT] == OPEN and toks[i + 2][CAT] == NUM \
                    and toks[i + 3][CAT] == CLOSE and toks[i + 2][A] < t[A] \
                    and not _is_year(toks[i + 2]):
                p.ep = i + 2  # "Letter Bee - 29 (04)": the season's own number, after the overall one
                p.stop = i - 1
            return
    # 5. the number ending the title run: "Title 05 [..]".
    run_end = first
    last_num = -1
    lead_zero = -1
    words = 0
    i = first
    while i < n:
        t = toks[i]
        if t[CAT] == OPEN:
            cls, close = _bracket_class(toks, i)
            if cls == B_TEXT and close + 1 < n and _titleish(toks[close + 1]):
                i = close + 1
                words += 1
                continue
            break
        if not _titleish(t) and t[CAT] != DASH:
            break
        if t[CAT] == NUM or t[CAT] == RANGE:
            if words and lead_zero < 0 and t[CAT] == NUM and t[B] >= 2 and p.s[t[S]] == "0" \
                    and t[D] < 0:
                lead_zero = i
            last_num = i if words else -1
        elif t[CAT] != DASH:
            words += 1
            last_num = -1
        i += 1
    run_end = i
    if last_num >= 0 and run_end < n and toks[run_end][CAT] == OPEN \
            and p.s[toks[run_end][S]] != "(" and _bracket_class(toks, run_end)[0] == B_NUM:
        # "Title 3 [06]": the bracket holds the episode ("Title 10 (1)" is a copy's number)
        last_num = lead_zero = -1
    if last_num >= 0 and run_end < n and toks[run_end][CAT] == SEASON and toks[run_end][BR] < 0:
        last_num = lead_zero = -1  # "Title 00 S01": a season pack of a title ending in a number
    if last_num >= 0 and last_num == run_end - 1:
        t = toks[last_num]
        prev = toks[last_num - 1]
        if not _is_year(t) and not (prev[CAT] == TYPED and prev[A] == K_MOVIE) \
                and prev[CAT] != DASH and prev[CAT] != PLUS \
                and _lower(p.s[prev[S]:prev[E]]) not in ("part", "pt"):
            p.ep = last_num
            return
    if lead_zero >= 0:
        p.ep = lead_zero
        return
    # 6. a lone number in brackets: "(9)", "[01]", "[24（END）]".
    i = first
    while i < n:
        t = toks[i]
        if t[CAT] == OPEN and t[BR] != gb:
            cls, close = _bracket_class(toks, i)
            if cls == B_NUM:
                for j in range(i + 1, close):
                    u = toks[j]
                    if u[CAT] in (NUM, RANGE) and not (u[CAT] == NUM and u[A] in RES_HEIGHTS
                                                       and u[B] >= 3):
                        p.ep = j
                        return
            i = close + 1
            continue
        i += 1
    # 7. any free number in an all-bracket name: "[Keroro].148.[Xvid]".
    for i in range(first, n):
        t = toks[i]
        if t[BR] < 0 and t[CAT] == WORD:
            return
        if t[BR] < 0 and t[CAT] in (NUM, RANGE) and not _is_year(t) and i > first \
                and not (t[CAT] == NUM and t[A] in RES_HEIGHTS and t[B] >= 3):
            p.ep = i
            return
        if t[BR] < 0 and t[CAT] == NUM and i == first and _lone_number_title(toks, i) \
                and first > 0:
            p.ep = i
            return


def _next_is_title(toks: list[list[int]], i: int, ep: int) -> bool:
    """Whether the title goes on at toks[i] (after an in-title bracket)."""
    n = len(toks)
    if i >= n:
        return False
    if i == ep:
        return True
    if toks[i][CAT] == DASH and i + 1 < n:
        i += 1
        if i == ep:
            return False
    return _titleish(toks[i]) and toks[i][CAT] != DASH


def _before_episode(toks: list[list[int]], i: int, ep: int) -> bool:
    """toks[i] is the episode, or a dash before it: "Ushio to Tora (TV) - 02"."""
    return i == ep or (i + 1 == ep and toks[i][CAT] == DASH)


def _find_title(p: _Parse, first: int) -> None:
    toks = p.toks
    n = len(toks)
    s = p.s
    if first >= n:
        return
    i = first
    ep = p.ep
    if ep == first and toks[ep][BR] < 0:
        _title_after_leading_episode(p)
        return
    if toks[i][CAT] == OPEN and p.group_br < 0:
        cls, close = _bracket_class(toks, i)
        if (cls in (B_TAGS, B_NUM, B_YEAR) or _typed_only(toks, i, close)) and close + 1 < n \
                and toks[close + 1][CAT] == WORD:
            first = i = close + 1  # "[BDRip 1080p] Title - 01", "[Movie] Title"
        else:
            _bracket_title(p, first)
            return
    a = toks[i][S]
    b = -1
    while i < n:
        t = toks[i]
        cat = t[CAT]
        if cat == TYPED and t[G] > 0:
            break  # "Title NCOP1": the type word names the file, not the show
        if i == ep or i == p.stop or (cat == DASH and i + 1 == ep
                                      and not (toks[ep][CAT] == TYPED and b >= 0)):
            break
        if cat == DASH and b >= 0 and i + 1 < n and toks[i + 1][CAT] == NUM \
                and toks[i + 1][BR] < 0 and (i + 2 >= n or not _titleish(toks[i + 2])):
            break  # "Title - 07.5 (S00E01)": a number after a dash is no part of the title
        if cat == OPEN:
            cls, close = _bracket_class(toks, i)
            glued = t[S] > 0 and s[t[S] - 1].isalnum()
            if b >= 0 and ((cls == B_TEXT and (glued or _next_is_title(toks, close + 1, ep)))
                           or (cls == B_WEAK and _before_episode(toks, close + 1, ep))):
                b = toks[close][E]
                i = close + 1
                continue
            break
        if cat == SEASON and i + 2 < n and toks[i + 1][CAT] == WORD and toks[i + 1][BR] < 0 \
                and s[toks[i + 1][S]:toks[i + 1][E]] == "/" and _titleish(toks[i + 2]):
            b = t[E]  # "Title 第二季 / Other Title S2": the season names one of two titles
            i += 1
            continue
        if _boundary(t):
            break
        if _is_year(t) and b >= 0 and i + 1 < n and (_boundary(toks[i + 1]) or (
                toks[i + 1][CAT] == OPEN and _bracket_class(toks, i + 1)[0] != B_TEXT)):
            break
        if cat == SEASON or cat == SEASONEP:
            break
        if not _titleish(t) and cat != DASH:
            break
        if cat == TYPED and t[A] != K_TV and not p.kind:
            if i == first:
                if not _titleish_word(toks, i + 1, ep):
                    p.kind, p.xtype = t[A], i  # "NCED 2.mkv", "movie.mkv": a type, no title
                    break
                if t[A] == K_MOVIE:
                    p.kind, p.xtype = t[A], i  # "Gekijouban Title": the title follows the type
                    i += 1
                    a = toks[i][S] if toks[i][CAT] != DASH else toks[i + 1][S]
                    continue
            elif _type_ends_title(toks, i, ep) and not (
                    t[A] == K_MOVIE and _lower(s[toks[i - 1][S]:toks[i - 1][E]]) == "the"):
                p.kind, p.xtype = t[A], i  # "Title OVA - Episode Name": the title ends here
                _type_episode_title(p, i + 1)
                break
            else:
                p.kind = t[A]  # "Title Movie 2 Subtitle", "Title Special Short Anime"
        if cat != DASH:
            b = t[E]
        i += 1
    if b > a and ep >= 2 and toks[ep - 1][CAT] == DASH and toks[ep][CAT] in (NUM, RANGE) \
            and ep - 2 > first and toks[ep - 2][CAT] == WORD and toks[ep - 2][E] == b:
        roman = _ROMAN.get(s[toks[ep - 2][S]:b], 0)
        if roman:  # "Overlord II - 05": the numeral is the season
            p.season = roman
            b = toks[ep - 3][E]
    if b > a:
        p.title_a, p.title_b = a, b
    elif ep >= 0 and toks[ep][BR] < 0:
        # Nothing before the episode ("Episode 14 Title (saison 2)"): the title follows it.
        _title_after_leading_episode(p)


def _titleish_word(toks: list[list[int]], i: int, ep: int) -> bool:
    """A title word at toks[i] (after one dash at most), before the episode."""
    n = len(toks)
    if i < n and toks[i][CAT] == DASH:
        i += 1
    return i < n and i != ep and toks[i][CAT] in (WORD, NUM) and toks[i][BR] < 0


def _type_ends_title(toks: list[list[int]], i: int, ep: int) -> bool:
    """Whether the type word at toks[i] ends the title: nothing but a dash, the episode or
    tags follow it ("Title OVA - Name", "Title NCOP [..]"), and no second type word does
    ("Title Movie - PV": the movie's type stays in its title)."""
    n = len(toks)
    j = i + 1
    if j < n and toks[j][CAT] == DASH:
        j += 1
        return j >= n or toks[j][CAT] != TYPED
    return j >= n or j == ep or not (toks[j][CAT] in (WORD, NUM, RANGE) and toks[j][BR] < 0)


def _type_episode_title(p: _Parse, i: int) -> None:
    """"Title OVA - Episode Name": the words after a type word name the episode."""
    toks = p.toks
    n = len(toks)
    if i < n and toks[i][CAT] == DASH:
        i += 1
    last = -1
    j = i
    while j < n and j != p.ep and (_titleish(toks[j]) and toks[j][CAT] != TYPED):
        if toks[j][CAT] != DASH:
            last = j
        j += 1
    if last >= 0 and toks[i][CAT] == WORD:
        p.eptitle_a, p.eptitle_b = toks[i][S], toks[last][E]


def _type_value(s: str, t: list[int]) -> str:
    """The type a TYPED token names ("OVA", "NCOP", "Movie"...)."""
    if t[G] > 0:
        return VALUES[_VOCAB[_lower(s[t[S]:t[S] + t[G]])][2]]
    return VALUES[t[B]]


def _run_end(p: _Parse, i: int) -> int:
    """Index after the run of title-like tokens (and inner dashes) starting at i."""
    toks = p.toks
    n = len(toks)
    start = i
    while i < n:
        t = toks[i]
        if t[CAT] == DASH or (_titleish(t) and not (t[CAT] == TYPED) and not (
                i == start and t[CAT] == TAG and (t[FL] & WEAK))):
            i += 1
            continue
        break
    return i


def _title_after_leading_episode(p: _Parse) -> None:
    """"05 - Title - Episode Title", "01 - Episode Title", "Episode 14 Title"."""
    toks = p.toks
    n = len(toks)
    i = p.ep + 1
    dashed = False
    if i < n and toks[i][CAT] == DASH:
        dashed = True
        i += 1
    elif i < n and toks[i][FL] & GLUED:
        dashed = True
    if i >= n or not _titleish(toks[i]) or toks[i][CAT] == DASH:
        return
    j = _run_end(p, i)
    last = j - 1
    while last >= i and toks[last][CAT] == DASH:
        last -= 1
    if last < i:
        return
    if not dashed:
        p.title_a, p.title_b = toks[i][S], toks[last][E]
        return
    for k in range(i + 1, last):
        if toks[k][CAT] == DASH:
            p.title_a, p.title_b = toks[i][S], toks[k - 1][E]
            p.eptitle_a, p.eptitle_b = toks[k + 1][S], toks[last][E]
            return
    if p.group_br >= 0:  # "[Group] 01 - Title": a group names a show, not an episode
        p.title_a, p.title_b = toks[i][S], toks[last][E]
    else:  # "01 - Land of Visible Pain"
        p.eptitle_a, p.eptitle_b = toks[i][S], toks[last][E]


def _typed_only(toks: list[list[int]], o: int, close: int) -> bool:
    """The bracket at toks[o] holds only the type words of a movie, a special or TV:
    "[Movie]", "[劇場版]", "[TV+OVA]"."""
    if close <= o + 1:
        return False
    for k in range(o + 1, close):
        cat = toks[k][CAT]
        if not ((cat == TYPED and toks[k][G] == 0 and toks[k][A] != K_EXTRA) or cat == PLUS):
            return False  # (an extra's word may be a group's name: "[CMS]")
    return True


def _groupish(s: str, a: int, b: int) -> bool:
    w = _lower(s[a:b])
    return ("raws" in w or "subs" in w or "sub" == w[-3:] or "fansub" in w or "team" in w
            or "-" in w or "&" in w)


def _bracket_title(p: _Parse, first: int) -> None:
    """Names made of brackets only: [Group][Title][05][1080p]."""
    toks = p.toks
    n = len(toks)
    s = p.s
    limit = p.ep if p.ep >= 0 else n
    cands: list[tuple[int, int, int]] = []
    i = first
    while i < limit:
        t = toks[i]
        if t[CAT] == OPEN:
            cls, close = _bracket_class(toks, i)
            if (cls == B_TEXT or cls == B_MIXED) and i + 1 < close and not _is_tag(toks[i + 1]) \
                    and not _typed_only(toks, i, close):
                j = i + 1
                last = -1
                while j < close and not _is_tag(toks[j]) and not _boundary(toks[j]):
                    last = j
                    j += 1
                if last >= 0 and (p.ep < 0 or not (i < p.ep < close)):
                    cands.append((t[BR], toks[i + 1][S], toks[last][E]))
            i = close + 1
            continue
        i += 1
    if not cands:
        return
    free = -1
    for k in range(first, limit):
        if toks[k][BR] < 0 and toks[k][CAT] in (NUM, WORD) and k != p.ep:
            free = k
            break
    if len(cands) == 1 and free < 0 and p.ep >= 0 and toks[p.ep][BR] < 0 \
            and _groupish(s, cands[0][1], cands[0][2]):
        free = p.ep  # "[TardRaws] 0 [640x360]": the number is the title
        p.ep = -1
    if len(cands) >= 2 or (free >= 0 and _groupish(s, cands[0][1], cands[0][2])):
        g = cands[0]
        p.group_br, p.group_a, p.group_b = g[0], g[1], g[2]
        if free >= 0 and len(cands) == 1:
            p.title_a, p.title_b = toks[free][S], toks[free][E]
            p.title_mode = p.mode
            return
        cands = cands[1:]
    t = cands[-1]
    p.title_a, p.title_b = t[1], t[2]
    p.title_mode = _content_mode(s, t[1], t[2])


def _content_mode(s: str, a: int, b: int) -> int:
    if s.find(" ", a, b) >= 0:
        return M_SPACE
    if s.find("_", a, b) >= 0:
        return M_UNDERSCORE
    if s.find(".", a, b) >= 0:
        return M_DOT
    return M_SPACE


def _find_episode_title(p: _Parse) -> None:
    toks = p.toks
    n = len(toks)
    ep = p.ep
    if ep < 0 or p.eptitle_a >= 0 or toks[ep][BR] >= 0:
        return
    if p.title_b < 0 or toks[ep][S] < p.title_b:
        return
    i = ep + 1
    if i < n and toks[i][CAT] == DASH:
        i += 1
    if i >= n or toks[i][CAT] != WORD:
        return
    j = i
    last = -1
    while j < n:
        t = toks[j]
        if t[CAT] == DASH:
            j += 1
            continue
        if not _titleish(t) or (t[CAT] == TYPED and j == i):
            break
        last = j
        j += 1
    if last < 0:
        return
    b = toks[last][E]
    if p.mode == M_DOT and b + 1 < p.end and p.s[b] == "." and p.s[b + 1] == ".":
        while b + 1 < p.end and p.s[b + 1] == ".":
            b += 1  # "I.Am....1080p": the last dot separates
    p.eptitle_a, p.eptitle_b = toks[i][S], b


def _find_trailing_group(p: _Parse) -> None:
    """[Group] at the end, (Group) in the middle, or a scene -GROUP."""
    toks = p.toks
    n = len(toks)
    s = p.s
    after = max(p.title_b, p.eptitle_b)
    i = 0
    while i < n:
        t = toks[i]
        if t[CAT] == OPEN:
            cls, close = _bracket_class(toks, i)
            if t[S] >= after and not (i < p.ep < close):
                if cls == B_TEXT and i + 1 < close:
                    p.group_br, p.group_a, p.group_b = t[BR], t[E], toks[close][S]
                    return
                if cls == B_MIXED and _has_comma(s, t[E], toks[close][S]) and not _is_tag(toks[i + 1]):
                    j = i + 1
                    while j < close and not _is_tag(toks[j]) and s.find(",", toks[j][S], toks[j][E] + 1) < 0:
                        j += 1
                    last = j if j < close and not _is_tag(toks[j]) else j - 1
                    p.group_br, p.group_a, p.group_b = t[BR], toks[i + 1][S], toks[last][E]
                    return
            i = close + 1
            continue
        i += 1
    # Scene style: "...x264-GROUP", "..._-_THORA v2".
    k = n - 1
    while k >= 0 and (toks[k][BR] >= 0 or toks[k][CAT] == VERSION):
        k -= 1
    if k <= 0 or k == p.ep:
        return
    t = toks[k]
    if t[CAT] != WORD or t[S] < after or t[S] < p.title_b:
        return
    prev = toks[k - 1]
    if t[FL] & GLUED or (prev[CAT] == DASH and prev[BR] < 0):
        p.group_a, p.group_b = t[S], t[E]


def _episode_value(t: list[int]) -> tuple[int | float | None, int | None, int]:
    """(episode, episode_end, version) of the episode token."""
    cat = t[CAT]
    if cat == NUM:
        return _with_frac(t[A], t[D], t[X]), None, t[C]
    if cat == RANGE:
        return t[A], t[B], t[C] if t[C] >= 0 else t[D]
    if cat == EPNUM:
        return _with_frac(t[A], t[D], t[X]), (t[B] if t[B] >= 0 else None), t[C]
    if cat == SEASONEP:
        return t[B], (t[C] if t[C] >= 0 else None), t[D]
    if cat == TYPED:
        return _with_frac(t[B], t[D], t[X]), None, t[C]
    return None, None, -1


def _with_frac(value: int, frac: int, fracdigits: int) -> int | float:
    if frac < 0:
        return value
    return value + frac / (10 ** fracdigits)


def _build(p: _Parse, ext: str | None, lang: str | None, subs: str | None) -> ParsedName:
    s = p.s
    toks = p.toks
    n = len(toks)
    episode = episode_end = season = year = None
    version = -1
    kind = p.kind
    xtype = p.xtype
    resolution = crc = source = video = audio = None
    other: list[str] = []
    if p.ep >= 0:
        t = toks[p.ep]
        episode, episode_end, version = _episode_value(t)
        part = t[F] if t[CAT] in (NUM, EPNUM, TYPED) else 0
        if part:
            other.append("Part " + chr(part).upper())  # "01b": the second half of episode 1
        if t[CAT] == SEASONEP:
            season = t[A]
        if t[CAT] == TYPED:
            kind, xtype = t[A], p.ep
    for i in range(n):
        t = toks[i]
        cat = t[CAT]
        if p.group_a <= t[S] < p.group_b:
            continue
        if cat == TYPED and t[G] == 0 and t[C] >= 0 and version < 0:
            version = t[C]  # "NCEDv3"
        if cat == SEASON and season is None:
            season = t[A]
        elif cat == VERSION and version < 0:
            version = t[A]
        elif cat == VOLUME and version < 0 and t[C] >= 0:
            version = t[C]
        elif cat == RES and resolution is None:
            resolution = t[A]
        elif cat == CRC and crc is None:
            crc = s[t[S]:t[E]].upper()
        elif cat == TYPED and t[G] == 0 and (kind == 0 or kind == K_TV) and t[A] != K_TV \
                and t[S] != p.title_a and not (p.eptitle_a <= t[S] < p.eptitle_b):
            kind, xtype = t[A], i
        elif cat == NUM and i != p.ep:
            if _is_year(t) and year is None and (t[BR] >= 0 or t[S] >= p.title_b) \
                    and not (p.title_a <= t[S] < p.title_b):
                year = t[A]
            elif resolution is None and t[A] in RES_HEIGHTS and t[B] >= 3 and t[S] >= p.title_b \
                    and not (p.title_a <= t[S] < p.title_b):
                resolution = t[A]
        elif cat == TAG:
            if (t[FL] & WEAK) and t[BR] < 0 and (p.title_a <= t[S] < p.title_b
                                                 or p.eptitle_a <= t[S] < p.eptitle_b):
                continue
            field = t[A]
            value = VALUES[t[B]]
            if field == F_SOURCE:
                if source is None and value != "TV":
                    source = value
            elif field == F_VIDEO:
                video = video or value
            elif field == F_AUDIO:
                audio = audio or value
            elif field == F_LANGUAGE:
                lang = lang or value
            elif field == F_SUBTITLES:
                subs = subs or value
            elif (field == F_OTHER or field == F_RELEASE) and value not in other:
                other.append(value)
    if season is None and p.season:
        season = p.season
    if year is None:
        for i in range(n):  # a year inside the title: "Fullmetal Alchemist (2009)" was cut off already
            t = toks[i]
            if _is_year(t) and i != p.ep and t[BR] < 0 and p.title_b >= 0 and t[S] >= p.title_b:
                year = t[A]
                break
    title = _text(s, p.title_a, p.title_b, p.title_mode) if p.title_a >= 0 else ""
    glued_type = None
    if title and not title.isascii():
        title, glued_kind, glued_type = cjk_title(title)
        if glued_kind and (kind == 0 or kind == K_TV):
            kind = glued_kind
    group = None
    if p.group_a >= 0:
        group = _trim(s[p.group_a:p.group_b])
        if p.group_a > toks[p.ep][S] if p.ep >= 0 else p.group_a > p.title_a:
            # Credits at the end read "Varies_&_Cuba77" or "encoded by SEED"; leading
            # [Group] names stay exactly as written.
            if "_&_" in group:
                group = group.replace("_", " ")
            if _lower(group[:11]) == "encoded by ":
                group = _trim(group[11:])
    eptitle = _text(s, p.eptitle_a, p.eptitle_b, p.mode) if p.eptitle_a >= 0 else ""
    if len(eptitle) > 2 and eptitle[0] == "「" and eptitle[-1] == "」":
        eptitle = eptitle[1:-1]
    if episode is not None:
        if kind == 0 and (episode == 0 or isinstance(episode, float) or season == 0):
            kind = K_SPECIAL  # 00, 12.5, S00E01
        if episode_end is not None and kind == 0 and (
                episode_end - episode >= 2 or "Batch" in other or "Complete" in other
                or toks[p.ep][BR] >= 0):
            kind = K_BATCH
    elif kind == 0 or kind == K_TV:
        if "Batch" in other or "Complete" in other or season is not None:
            kind = K_BATCH
        elif title:
            kind = K_MOVIE
    return ParsedName(
        title=title or None, season=season, episode=episode, episode_end=episode_end,
        version=version if version >= 0 else None, group=group or None,
        resolution=f"{resolution}p" if resolution else None, year=year, crc32=crc,
        kind=KINDS[kind], ext=ext, episode_title=eptitle or None, source=source,
        video_codec=video, audio_codec=audio, language=lang, subtitles=subs, other=tuple(other),
        extra_type=None if kind not in (K_SPECIAL, K_EXTRA, K_MOVIE)
        else glued_type or (_type_value(s, toks[xtype]) if xtype >= 0 else None))
