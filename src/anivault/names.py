"""Names safe everywhere: the Windows (and macOS, and Linux) file-name rules as pure functions.

A library organized on Linux is often served from, or copied to, NTFS, exFAT
or an SMB share, so every name AniVault writes obeys the strictest rules
whatever the host OS:

* ``<>:"/\\|?*`` and control characters are replaced (the colon has a style);
* bidi controls and the BOM are removed;
* reserved device names (CON, PRN, AUX, NUL, CONIN$, CONOUT$, COM0-9, LPT0-9,
  also with superscript digits, with any extension) are escaped;
* trailing dots and spaces are stripped, text is NFC-normalized;
* each component is at most 255 UTF-8 bytes;
* for Windows targets, whole paths stay under MAX_PATH (260 UTF-16 units
  including the terminating NUL; directories 248) unless long paths are on;
* names differing only by case are the same name (case-insensitive targets).

Nothing taken from TMDB or a file name can leave the destination root: every
component is sanitized on its own, so separators, ``..``, drive letters and
NUL cannot survive, and :func:`join_under` checks the result once more.
"""
from __future__ import annotations

import os
import re
import unicodedata
from typing import Iterable

COMPONENT_MAX_BYTES = 255
WINDOWS_MAX_PATH = 260  # includes the terminating NUL: paths may have 259 units
WINDOWS_MAX_DIR = 248  # CreateDirectory leaves room for an 8.3 file name

COLON_STYLES = ("dash", "space", "fullwidth", "remove")

# Illegal on Windows (and "/" everywhere); each gets a readable stand-in.
_REPLACEMENTS = {"/": "-", "\\": "-", "|": "-", "*": "-", '"': "'", "<": "", ">": "", "?": ""}
# Bidi controls and the BOM reorder or hide what a name shows ("Trojan Source"): they vanish too.
BIDI_AND_BOM = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff"
_ILLEGAL = re.compile(f'[<>"/\\\\|?*\\x00-\\x1f\\x7f-\\x9f{BIDI_AND_BOM}]|[\\ud800-\\udfff]')
_SPACES = re.compile(r"\s{2,}")
_UNSAFE_IN_PART = re.compile(r'[/\\:\x00]')
_COLON = {"dash": (re.compile(r"\s*:\s+"), " - ", "-"), "space": (re.compile(r"\s*:\s*"), " ", " "),
          "fullwidth": (None, "\uff1a", "\uff1a"), "remove": (None, "", "")}

_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{p}{d}" for p in ("COM", "LPT") for d in "0123456789\u00b9\u00b2\u00b3"])

# Filesystems whose names follow the Windows rules, whatever OS mounted them.
_WINDOWS_FS = frozenset({"ntfs", "ntfs3", "fuseblk", "vfat", "msdos", "exfat", "cifs", "smb3", "smbfs"})


def _replace_illegal(match: re.Match[str]) -> str:
    char = match.group()
    if "\ud800" <= char <= "\udfff":  # a byte that was not UTF-8 in the original name
        return "_"
    return _REPLACEMENTS.get(char, "")  # control characters vanish


def replace_colons(text: str, colon_style: str = "dash") -> str:
    """``Re:Zero`` → ``Re-Zero``, ``Re: Zero`` → ``Re - Zero`` (dash); other styles per COLON_STYLES."""
    if colon_style not in _COLON:
        raise ValueError(f"unknown colon style {colon_style!r}; use one of {', '.join(COLON_STYLES)}")
    spaced, spaced_with, bare_with = _COLON[colon_style]
    if ":" not in text:
        return text
    if spaced is not None:
        text = spaced.sub(spaced_with, text)
    return text.replace(":", bare_with)


def escape_reserved(name: str) -> str:
    """``CON.mkv`` → ``CON_.mkv``: Windows opens the device, not a file, for these bases."""
    base, dot, rest = name.partition(".")
    if base.rstrip(" ").upper() in _RESERVED:
        return base.rstrip(" ") + "_" + dot + rest
    return name


def truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` that fits in ``max_bytes`` UTF-8 bytes (never splits a character)."""
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", "ignore")


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def clean_text(text: str, colon_style: str = "dash") -> str:
    """A fragment of a name (a title, a group): NFC, colons styled, illegal characters replaced.

    Unlike :func:`safe_component` it keeps inner dots and does not escape
    reserved names, because the fragment is only part of a component.
    """
    text = unicodedata.normalize("NFC", text)
    text = replace_colons(text, colon_style)
    text = _ILLEGAL.sub(_replace_illegal, text)
    return _SPACES.sub(" ", text).strip()


def finish_component(name: str) -> str:
    """The last rules of a whole component: no trailing dots/spaces, no device name, never empty."""
    name = name.strip(" ").rstrip(". ")
    name = escape_reserved(name)
    return name or "_"


def safe_component(text: str, colon_style: str = "dash",
                   max_bytes: int = COMPONENT_MAX_BYTES) -> str:
    """Any text as one path component that is valid on every common filesystem.

    Long names keep their extension: ``<stem…>.mkv``.
    """
    name = finish_component(clean_text(text, colon_style))
    if utf8_len(name) > max_bytes:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) <= 16:
            name = truncate_utf8(stem, max_bytes - utf8_len(ext) - 1).rstrip(". ") + "." + ext
        else:
            name = truncate_utf8(name, max_bytes)
        name = finish_component(name)
    return name


def windows_length(path: str) -> int:
    """Length as Windows counts it: UTF-16 code units (an emoji counts 2)."""
    return len(path.encode("utf-16-le", "surrogatepass")) // 2


def path_fits_windows(path: str, is_dir: bool = False) -> bool:
    """True when the absolute ``path`` stays below MAX_PATH (248 for directories)."""
    limit = WINDOWS_MAX_DIR if is_dir else WINDOWS_MAX_PATH
    return windows_length(path) < limit


def case_key(relpath: str) -> str:
    """Equal for names that collide on case-insensitive filesystems (casefold: errs on the safe side)."""
    if relpath.isascii():  # NFC leaves ASCII alone and casefolds it as lower() does
        return relpath.lower()
    return unicodedata.normalize("NFC", relpath).casefold()


def is_contained(root: str, relparts: Iterable[str]) -> bool:
    """True when joining ``relparts`` under ``root`` cannot name anything outside it.

    A component without a separator, a drive colon or NUL, that is not "."
    or "..", names an entry inside its parent: so the joined path stays
    below ``root`` by construction, with no filesystem access.
    """
    parts = relparts if isinstance(relparts, (list, tuple)) else list(relparts)
    if not parts:
        return False
    for part in parts:
        if not part or part == "." or part == ".." or _UNSAFE_IN_PART.search(part):
            return False
    return True


def join_under(root: str, relparts: Iterable[str]) -> str:
    """``root/part/…`` after proving it stays inside ``root`` (ValueError otherwise)."""
    parts = list(relparts)
    if not is_contained(root, parts):
        raise ValueError(f"refusing a destination outside {root}: {'/'.join(parts)!r}")
    # The parts hold no separator (checked above): plain concatenation is os.path.join here.
    return root.rstrip(os.sep) + os.sep + os.sep.join(parts) if root.rstrip(os.sep) else os.path.join(root, *parts)


def is_windows_target(path: str) -> bool:
    """True on Windows, or when ``path`` lives on a filesystem with Windows rules (NTFS, FAT, SMB)."""
    if os.name == "nt":
        return True
    try:
        import psutil

        best, fstype = "", ""
        target = os.path.abspath(path)
        for part in psutil.disk_partitions(all=True):
            mount = part.mountpoint
            if (target == mount or target.startswith(mount.rstrip(os.sep) + os.sep)) \
                    and len(mount) > len(best):
                best, fstype = mount, part.fstype
        return fstype.lower() in _WINDOWS_FS
    except Exception:  # no partition table readable: fall back to the host's rules
        return False


# ---------------------------------------------------------------- templates

TEMPLATE_FIELDS = frozenset({"title", "year", "season", "episode", "episode_end", "ext", "group",
                             "resolution", "version", "episode_title", "crc32", "source",
                             "original", "tmdb_id", "absolute", "audio"})

_AUDIO_MARKERS = ("Dual Audio", "Multi Audio", "Tri Audio")
_SUBTITLE_EXTS = frozenset({"ass", "ssa", "srt", "sub", "idx", "vtt", "sup"})


def audio_tag(parsed: object) -> str | None:
    """The ``{audio}`` token: "Dual Audio" / "Multi Audio" from the name, else a video's language tag
    ("EN" for "[ENG DUB]"); None when the name says nothing about its audio."""
    other = getattr(parsed, "other", None) or ()
    tags = [t for t in _AUDIO_MARKERS if t in other]
    if tags:
        return " ".join(tags)
    language = getattr(parsed, "language", None)
    if language and (getattr(parsed, "ext", None) or "") not in _SUBTITLE_EXTS:
        return str(language).upper()
    return None


# ``[[`` ``]]`` ``{{`` ``}}`` are the literal characters (``[tmdbid-123]``, ``{tmdb-123}``).
_TOKEN = re.compile(r"\{(\w+)(?::([^{}]*))?\}|\[\[|\]\]|\{\{|\}\}|\[|\]|[^{}\[\]]+|[{}]")
_LITERAL = {"[[": "[", "]]": "]", "{{": "{", "}}": "}"}

# Layouts that pin the media server's match with the TMDB id in the show/movie folder name
# (the id part is left out when a file has no id): name → (episode template, movie template).
TEMPLATE_PRESETS = {
    "jellyfin": ("{title} ({year})[ [[tmdbid-{tmdb_id}]]]/Season {season:02}/"
                 "{title} - S{season:02}E{episode:02}[-E{episode_end:02}].{ext}",
                 "{title} ({year})[ [[tmdbid-{tmdb_id}]]]/{title} ({year}).{ext}"),
    "plex": ("{title} ({year})[ {{tmdb-{tmdb_id}}}]/Season {season:02}/"
             "{title} - S{season:02}E{episode:02}[-E{episode_end:02}].{ext}",
             "{title} ({year})[ {{tmdb-{tmdb_id}}}]/{title} ({year})[ {{tmdb-{tmdb_id}}}].{ext}"),
}


def preset_templates(name: str | None) -> tuple[str, str] | None:
    """(episode, movie) templates of a preset name ("jellyfin", "plex"); None for anything else."""
    return TEMPLATE_PRESETS.get((name or "").strip().lower())


_EMPTY_BRACKETS = re.compile(r"\s*\(\s*\)|\s*\[\s*\]")


class TemplateError(ValueError):
    """A template that cannot be rendered (unknown field, unbalanced brackets)."""


def _clean_literal(text: str, colon_style: str) -> str:
    """Template text between fields: the character rules, but its spaces are kept as written."""
    text = replace_colons(unicodedata.normalize("NFC", text), colon_style)
    return _ILLEGAL.sub(_replace_illegal, text)


def _parse_tokens(text: str, template: str, colon_style: str) -> list:
    """Literal strings, (field, spec) pairs and nested lists for ``[optional]`` sections."""
    stack: list[list] = [[]]
    for match in _TOKEN.finditer(text):
        token = match.group()
        if match.group(1):
            name = match.group(1)
            if name not in TEMPLATE_FIELDS:
                raise TemplateError(f"template {template!r}: unknown field {{{name}}}; "
                                    f"known: {', '.join(sorted(TEMPLATE_FIELDS))}")
            stack[-1].append((name, match.group(2) or ""))
        elif token in _LITERAL:
            stack[-1].append(_LITERAL[token])
        elif token == "[":
            stack.append([])
        elif token == "]":
            if len(stack) == 1:
                raise TemplateError(f"template {template!r}: ']' without '['")
            section = stack.pop()
            stack[-1].append(section)
        elif token in "{}":
            raise TemplateError(f"template {template!r}: stray {token!r}")
        else:
            stack[-1].append(_clean_literal(token, colon_style))
    if len(stack) != 1:
        raise TemplateError(f"template {template!r}: '[' without ']'")
    return stack[0]


class Template:
    """``{title} ({year})/Season {season:02}/…[-E{episode_end:02}].{ext}`` → safe path components.

    ``{field:spec}`` uses Python's format spec; a ``[section]`` appears only
    when every field in it has a value; a field without a value elsewhere
    renders empty and leaves no ``()`` behind. Each ``/``-separated part
    becomes one sanitized component, so values can never add directories.
    """

    def __init__(self, template: str, colon_style: str = "dash") -> None:
        replace_colons("", colon_style)  # validates the style early
        parts = [p for p in template.replace("\\", "/").split("/")]
        if not template or any(not p.strip() for p in parts):
            raise TemplateError(f"template {template!r}: empty path component")
        self.text = template
        self.colon_style = colon_style
        self._components = [_parse_tokens(p, template, colon_style) for p in parts]
        self._uses = [sorted(_field_names(c)) for c in self._components]
        self.first_fields = tuple(self._uses[0])  # what the top folder's name depends on
        self._clean_cache: dict[str, str] = {}
        self._formatted: dict[tuple, str] = {}
        # Folder components repeat for every episode of a show: render each distinct one once.
        self._part_cache: dict[tuple, str] = {}

    def _clean(self, value: str) -> str:
        # Titles repeat across thousands of files: clean each distinct one once.
        cached = self._clean_cache.get(value)
        if cached is None:
            cached = self._clean_cache[value] = clean_text(value, self.colon_style)
        return cached

    def _value(self, name: str, spec: str, fields: dict) -> str | None:
        value = fields.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            return self._clean(value)
        key = (value.__class__, value, spec)  # numbers repeat: E01 is formatted once (1 and 1.0 apart)
        text = self._formatted.get(key)
        if text is None:
            try:
                text = self._clean(format(value, spec))
            except (TypeError, ValueError) as e:
                raise TemplateError(f"template {self.text!r}: {{{name}:{spec}}} cannot format {value!r}") from e
            if len(self._formatted) < 100_000:
                self._formatted[key] = text
        return text

    def _render_tokens(self, tokens: list, fields: dict) -> str | None:
        """The text of ``tokens``; None when a field of an optional section is missing."""
        out = []
        for token in tokens:
            if isinstance(token, str):
                out.append(token)
            elif isinstance(token, tuple):
                value = self._value(token[0], token[1], fields)
                if value is None:
                    return None
                out.append(value)
            else:
                section = self._render_tokens(token, fields)
                if section is not None:
                    out.append(section)
        return "".join(out)

    def _component(self, tokens: list, fields: dict) -> str:
        """One component. Literals were cleaned when the template was read and values are
        cleaned (once per distinct value), so only the seams need care: no ``()`` left by a
        missing value, no doubled spaces, NFC across the joins, the whole-name rules."""
        out = []
        missing = False
        for token in tokens:
            if token.__class__ is str:
                out.append(token)
            elif token.__class__ is tuple:
                value = self._value(token[0], token[1], fields)
                if value is None:
                    missing = True
                else:
                    out.append(value)
            else:
                section = self._render_tokens(token, fields)
                if section is not None:
                    out.append(section)
        text = "".join(out)
        if missing:
            text = _EMPTY_BRACKETS.sub("", text)
        if "  " in text:
            text = _SPACES.sub(" ", text)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        return finish_component(text)

    def render(self, fields: dict, max_bytes: int = COMPONENT_MAX_BYTES) -> list[str]:
        """Safe path components for ``fields``; a component over ``max_bytes`` gets a shorter title."""
        parts = []
        last = len(self._components) - 1
        for index, tokens in enumerate(self._components):
            if index == last:  # the file name is new for every file: caching it would only grow
                parts.append(self._fit(tokens, fields, max_bytes))
                continue
            key = (index, max_bytes, *[fields.get(n) for n in self._uses[index]])
            part = self._part_cache.get(key)
            if part is None:
                part = self._fit(tokens, fields, max_bytes)
                if len(self._part_cache) < 100_000:
                    self._part_cache[key] = part
            parts.append(part)
        return parts

    def _fit(self, tokens: list, fields: dict, max_bytes: int) -> str:
        part = self._component(tokens, fields)
        title = fields.get("title")
        if utf8_len(part) > max_bytes and isinstance(title, str) and title:
            part = self._shorten_title(tokens, fields, title, max_bytes)
        if utf8_len(part) > max_bytes:
            part = safe_component(part, self.colon_style, max_bytes)
        return part

    def _shorten_title(self, tokens: list, fields: dict, title: str, max_bytes: int) -> str:
        """Cut the title (keeping episode tag and extension) until the component fits."""
        part = self._component(tokens, fields)
        budget = utf8_len(self._clean(title))
        while utf8_len(part) > max_bytes and budget > 1:
            budget = max(1, budget - (utf8_len(part) - max_bytes))
            short = truncate_utf8(self._clean(title), budget).rstrip(" .") + "…"
            part = self._component(tokens, dict(fields, title=short))
            budget -= 1
        return part

    def uses(self, name: str) -> bool:
        return any(name in names for names in self._uses)


def _field_names(tokens: list) -> set[str]:
    names: set[str] = set()
    for token in tokens:
        if isinstance(token, tuple):
            names.add(token[0])
        elif isinstance(token, list):
            names |= _field_names(token)
    return names
