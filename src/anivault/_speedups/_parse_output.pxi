# Output: the ParsedName from the parse state (included by _parse_c.pyx; the spec is _parse_py.py).

# ---------------------------------------------------------------- output

cdef object text(const P* p, int a, int b, int mode, ucs* buf):
    """_parse_py._text: s[a:b] with separators as spaces, trimmed (buf holds b - a)."""
    cdef const ucs* s = p.s
    cdef int n = b - a, k
    cdef ucs c
    if a >= b:
        return ""
    memcpy(buf, &s[a], n * sizeof(ucs))
    if mode == M_UNDERSCORE:
        for k in range(n):
            if buf[k] == 95:
                buf[k] = 32
    elif mode == M_DOT:
        for k in range(n):
            c = buf[k]
            if c == 95 or (c == 46 and dot_splits(s, a + k, b) and not (
                    (k > 0 and buf[k - 1] == 46) or (k + 1 < n and buf[k + 1] == 46))):
                buf[k] = 32
    elif mode == M_PLUS:
        for k in range(n):
            if buf[k] == 43:
                buf[k] = 32
    elif mode == M_DASH:
        for k in range(n):
            if buf[k] == 45:
                buf[k] = 32
    else:
        for k in range(n):
            if buf[k] == 95 and is_separator(s, a + k, p.n, M_SPACE, False):
                buf[k] = 32
    return trimmed(buf, 0, n)


cdef object trimmed(const ucs* t, int i, int j):
    """_parse_py._trim of t[i:j]."""
    while True:
        while i < j and isspace_(t[i]):
            i += 1
        while j > i and isspace_(t[j - 1]):
            j -= 1
        if j > i and isdash(t[j - 1]) and (j - 1 == i or t[j - 2] == 32):
            j -= 1
            continue
        if j > i and isdash(t[i]) and (i + 1 == j or t[i + 1] == 32):
            i += 1
            continue
        if j <= i:
            return ""
        return shared_str(&t[i], j - i)


# Titles and groups repeat from name to name (a folder of 500 episodes): the last string
# made for each of STR_SLOTS hashes is reused when the text is the same, which saves an
# allocation per field and, for a caller keeping the results, the memory of the copies.
cdef enum:
    STR_SLOTS = 512
cdef list STR_CACHE = [None] * STR_SLOTS
cdef uint64_t STR_HASH[STR_SLOTS]


cdef object shared_str(const ucs* t, int n):
    cdef uint64_t h = fnv(t, n)
    cdef int slot = <int>(h & (STR_SLOTS - 1)), k, kind
    cdef object cached = STR_CACHE[slot]
    cdef void* data
    if STR_HASH[slot] == h and cached is not None and PyUnicode_GET_LENGTH(cached) == n:
        kind = PyUnicode_KIND(cached)
        data = PyUnicode_DATA(cached)
        for k in range(n):
            if read_char(kind, data, k) != t[k]:
                break
        else:
            return cached
    cached = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, t, n)
    STR_CACHE[slot] = cached
    STR_HASH[slot] = h
    return cached


cdef inline ucs read_char(int kind, const void* data, Py_ssize_t k) noexcept nogil:
    if kind == 1:
        return (<const unsigned char*>data)[k]
    if kind == 2:
        return (<const unsigned short*>data)[k]
    return (<const uint32_t*>data)[k]


cdef inline object number(int value, int frac, int fracdigits):
    cdef double scale = 1.0
    cdef int k
    if frac < 0:
        return value
    for k in range(fracdigits):
        scale *= 10.0
    return value + frac / scale


cdef extern from *:
    """
    /* A ParsedName (a tuple subclass) with its items still to fill, without the
       Python-level tuple.__new__ call. */
    static PyObject* anivault_alloc_tuple_of(PyObject* type, Py_ssize_t n) {
        PyTypeObject* t = (PyTypeObject*)type;
        return t->tp_alloc(t, n);
    }
    """
    object alloc_tuple_of "anivault_alloc_tuple_of"(object type, Py_ssize_t n)

from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(object op)

cdef enum:
    MAX_OTHER = 24
cdef dict PART_NAMES = {c: "Part " + chr(c).upper() for c in range(ord("a"), ord("c") + 1)}
cdef int BATCH_VALUE = tables.VALUE_INDEX["Batch"]
cdef int COMPLETE_VALUE = tables.VALUE_INDEX["Complete"]

cdef object PARSED = ParsedName
cdef Py_ssize_t NFIELDS = len(ParsedName._fields)
assert NFIELDS == 19 and issubclass(ParsedName, tuple)
cdef dict RESOLUTIONS = {h: f"{h}p" for h in (360, 480, 540, 576, 720, 1080, 1440, 2160)}
cdef tuple EMPTY = ()


cdef inline void put(object t, Py_ssize_t i, object v):
    Py_INCREF(v)
    PyTuple_SET_ITEM(t, i, v)


cdef object parsed_name(object title, object season, object episode, object episode_end,
                        object version, object group, object resolution, object year,
                        object crc, object kind, object ext, object eptitle, object source,
                        object video, object audio, object lang, object subs, object other,
                        object extra_type):
    cdef object r = alloc_tuple_of(PARSED, 19)
    put(r, 0, title); put(r, 1, season); put(r, 2, episode); put(r, 3, episode_end)
    put(r, 4, version); put(r, 5, group); put(r, 6, resolution); put(r, 7, year)
    put(r, 8, crc); put(r, 9, kind); put(r, 10, ext); put(r, 11, eptitle)
    put(r, 12, source); put(r, 13, video); put(r, 14, audio); put(r, 15, lang)
    put(r, 16, subs); put(r, 17, other); put(r, 18, extra_type)
    # Its items are str, int, float, None and an untracked tuple of str: no reference cycle
    # can pass through it, so the collector need not scan it (a caller keeping 300k of them
    # would otherwise pay for full collections that traverse every one).
    PyObject_GC_UnTrack(r)
    return r


cdef object build_result(P* p, ucs* buf, str name):
    cdef const Tok* toks = p.toks
    cdef const ucs* s = p.s
    cdef int n = p.ntok, i, cat, field, part = 0
    cdef const Tok* t
    cdef object episode = None, episode_end = None, season = None, year = None
    cdef int version = -1, kind = p.kind, resolution = 0, xtype = p.xtype, xvalue
    cdef object crc = None, source = None, video = None, audio = None, lang = None, subs = None
    cdef int other_ids[MAX_OTHER]  # VALUES indexes of the "other" tags, in name order
    cdef int nother = 0, k
    cdef object part_name = None
    cdef tuple other
    cdef object value, title, group, eptitle, res, extra_type, glued_type
    cdef int glued_kind
    cdef bint batchy
    if p.lang >= 0:
        lang = SUFFIX_VALUES[p.lang]
    if p.subs >= 0:
        subs = SUFFIX_VALUES[p.subs]
    if p.ep >= 0:
        t = &toks[p.ep]
        cat = t.cat
        if cat == NUM:
            episode = number(t.a, t.d, t.x); version = t.c
        elif cat == RANGE:
            episode = t.a; episode_end = t.b; version = t.c if t.c >= 0 else t.d
        elif cat == EPNUM:
            episode = number(t.a, t.d, t.x)
            if t.b >= 0:
                episode_end = t.b
            version = t.c
        elif cat == SEASONEP:
            episode = t.b
            if t.c >= 0:
                episode_end = t.c
            version = t.d
        elif cat == TYPED:
            episode = number(t.b, t.d, t.x); version = t.c
        if cat == NUM or cat == EPNUM or cat == TYPED:
            part = t.f
        if part:
            part_name = PART_NAMES[part]
        if cat == SEASONEP:
            season = t.a
        if cat == TYPED:
            kind = t.a
            xtype = p.ep
    for i in range(n):
        t = &toks[i]
        cat = t.cat
        if p.group_a <= t.s < p.group_b:
            continue
        if cat == TYPED and t.g == 0 and t.c >= 0 and version < 0:
            version = t.c
        if cat == SEASON and season is None:
            season = t.a
        elif cat == VERSION and version < 0:
            version = t.a
        elif cat == VOLUME and version < 0 and t.c >= 0:
            version = t.c
        elif cat == RES and resolution == 0:
            resolution = t.a
        elif cat == CRC and crc is None:
            crc = upper_hex(&s[t.s], t.e - t.s, buf)
        elif cat == TYPED and t.g == 0 and (kind == 0 or kind == K_TV) and t.a != K_TV \
                and t.s != p.title_a and not (p.eptitle_a <= t.s < p.eptitle_b):
            kind = t.a
            xtype = i
        elif cat == NUM and i != p.ep:
            if is_year(t) and year is None and (t.br >= 0 or t.s >= p.title_b) \
                    and not (p.title_a <= t.s < p.title_b):
                year = t.a
            elif resolution == 0 and res_height(t.a) and t.b >= 3 and t.s >= p.title_b \
                    and not (p.title_a <= t.s < p.title_b):
                resolution = t.a
        elif cat == TAG:
            if (t.fl & WEAK) and t.br < 0 and (p.title_a <= t.s < p.title_b
                                               or p.eptitle_a <= t.s < p.eptitle_b):
                continue
            field = t.a
            value = VALUES[t.b]
            if field == F_SOURCE:
                if source is None and t.b != TV_VALUE:
                    source = value
            elif field == F_VIDEO:
                if video is None:
                    video = value
            elif field == F_AUDIO:
                if audio is None:
                    audio = value
            elif field == F_LANGUAGE:
                if lang is None:
                    lang = value
            elif field == F_SUBTITLES:
                if subs is None:
                    subs = value
            elif (field == F_OTHER or field == F_RELEASE) and nother < MAX_OTHER:
                for k in range(nother):
                    if other_ids[k] == t.b:
                        break
                else:
                    other_ids[nother] = t.b
                    nother += 1
    if season is None and p.season:
        season = p.season
    if year is None:
        for i in range(n):
            t = &toks[i]
            if is_year(t) and i != p.ep and t.br < 0 and p.title_b >= 0 and t.s >= p.title_b:
                year = t.a
                break
    title = text(p, p.title_a, p.title_b, p.title_mode, buf) if p.title_a >= 0 else ""
    glued_type = None
    if title and PyUnicode_MAX_CHAR_VALUE(title) > 127:
        title, glued_kind, glued_type = cjk_title(title)
        if glued_kind and (kind == 0 or kind == K_TV):
            kind = glued_kind
    group = None
    if p.group_a >= 0:
        group = trimmed(&s[p.group_a], 0, p.group_b - p.group_a)
        if (p.group_a > toks[p.ep].s) if p.ep >= 0 else (p.group_a > p.title_a):
            if "_&_" in group:
                group = group.replace("_", " ")
            if len(group) >= 11 and group[:11].isascii() and group[:11].lower() == "encoded by ":
                group = trimmed_str(group[11:])
    eptitle = text(p, p.eptitle_a, p.eptitle_b, p.mode, buf) if p.eptitle_a >= 0 else ""
    if len(eptitle) > 2 and eptitle[0] == "「" and eptitle[len(eptitle) - 1] == "」":
        eptitle = eptitle[1:len(eptitle) - 1]
    if episode is not None:
        batchy = has_value(other_ids, nother, BATCH_VALUE) or has_value(other_ids, nother,
                                                                          COMPLETE_VALUE)
        if kind == 0 and (episode == 0 or type(episode) is float or season == 0):
            kind = K_SPECIAL
        if episode_end is not None and kind == 0 and (
                <int>episode_end - <int>episode >= 2 or batchy or toks[p.ep].br >= 0):
            kind = K_BATCH
    elif kind == 0 or kind == K_TV:
        if has_value(other_ids, nother, BATCH_VALUE) or has_value(other_ids, nother, COMPLETE_VALUE) \
                or season is not None:
            kind = K_BATCH
        elif title:
            kind = K_MOVIE
    extra_type = None
    if kind == K_SPECIAL or kind == K_EXTRA or kind == K_MOVIE:
        if glued_type is not None:
            extra_type = glued_type
        elif xtype >= 0:
            xvalue = type_value(p, &toks[xtype])
            if xvalue >= 0:
                extra_type = VALUES[xvalue]
    res = None
    if resolution:
        res = RESOLUTIONS.get(resolution)
        if res is None:
            res = f"{resolution}p"
    return parsed_name(
        title or None, season, episode, episode_end, version if version >= 0 else None,
        group or None, res, year, crc, KIND_NAMES[kind],
        EXT_VALUES[p.ext] if p.ext >= 0 else None, eptitle or None, source, video, audio,
        lang, subs, other_tuple(part_name, other_ids, nother), extra_type)


cdef object upper_hex(const ucs* t, int n, ucs* buf):
    """A CRC's hex digits upper-cased (unique per file: kept out of the shared-str cache)."""
    cdef int k
    for k in range(n):
        buf[k] = t[k] - 32 if 97 <= t[k] <= 102 else t[k]
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, n)


cdef inline bint has_value(const int* ids, int n, int value) noexcept:
    cdef int k
    for k in range(n):
        if ids[k] == value:
            return True
    return False


cdef tuple other_tuple(object part_name, const int* ids, int n):
    """ParsedName.other: "Part B" first, then the tags (an untracked tuple of str)."""
    cdef int k, first = 1 if part_name is not None else 0
    cdef tuple r
    if n + first == 0:
        return EMPTY
    r = PyTuple_New(n + first)
    if first:
        put(r, 0, part_name)
    for k in range(n):
        put(r, first + k, VALUES[ids[k]])
    PyObject_GC_UnTrack(r)  # it holds str only: the collector has nothing to find in it
    return r


cdef object trimmed_str(str t):
    cdef Py_ssize_t n = len(t), k
    cdef ucs* buf = <ucs*>PyMem_Malloc((n + 1) * sizeof(ucs))
    if buf == NULL:
        raise MemoryError()
    try:
        for k in range(n):
            buf[k] = t[k]
        return trimmed(buf, 0, <int>n)
    finally:
        PyMem_Free(buf)
