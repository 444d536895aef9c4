# One file's NDJSON fields and index entry (included by _records_c.pyx): a file the index does
# not know is parsed here, through the parser's cdef entry point; a file it knows is rendered
# from its stored entry. _records_py.py is the spec.

# ------------------------------------------------------------ a file the index does not know

# ParsedName's field positions, and those the folders may fill (parse._FILLED), read when the
# first folder is parsed: anivault.parse imports the twins, so not at module level.
cdef Py_ssize_t N_FIELDS = len(ParsedName._fields)
cdef Py_ssize_t I_TITLE = ParsedName._fields.index("title")
cdef Py_ssize_t I_SEASON = ParsedName._fields.index("season")
cdef Py_ssize_t I_EPISODE = ParsedName._fields.index("episode")
cdef Py_ssize_t I_KIND = ParsedName._fields.index("kind")
cdef Py_ssize_t I_EXTRA_TYPE = ParsedName._fields.index("extra_type")
cdef Py_ssize_t I_EXT = ParsedName._fields.index("ext")
cdef Py_ssize_t N_JSON = len(JSON_FIELDS)
cdef Py_ssize_t JSON_AT[16]
cdef bint JSON_TEXT[16]  # a string field (else a number)
for _i, _name in enumerate(JSON_FIELDS):
    JSON_AT[_i] = ParsedName._fields.index(_name)
    JSON_TEXT[_i] = _name in ("title", "group", "resolution", "crc32", "ext")
cdef list _JSON_KEYS = [(("," if _i else "") + f'"{_name}":').encode() for _i, _name in enumerate(JSON_FIELDS)]
cdef char FILLED[64]
memset(FILLED, 0, sizeof(FILLED))
cdef object _series_title = None


cdef int _load_parse() except -1:
    global _series_title
    from .. import parse
    for i in parse._FILLED:
        FILLED[i] = 1
    _series_title = parse._extra_series_title
    _load_folders(parse)
    return 0


cdef inline object _field(tuple parsed, object context, Py_ssize_t i):
    """A field of parse.parse_file's result: the name's, else the folders' (parse._fill)."""
    cdef object v = parsed[i]
    if v is None and context is not None and FILLED[i]:
        return (<tuple>context)[i]
    return v


cdef object _kind(tuple parsed, object context):
    """parse._with_context's kind: a file in "Specials/", or in a show's folder."""
    cdef object kind = parsed[I_KIND]
    if context is None:
        return kind
    cdef tuple ctx = <tuple>context
    if ctx[I_KIND] and (kind == "episode" or kind == "movie"):
        return ctx[I_KIND]
    if kind == "movie" and parsed[I_EPISODE] is None and ctx[I_TITLE] and parsed[I_EXTRA_TYPE] is None and (
            ctx[I_SEASON] is not None or not parsed[I_TITLE]):
        return "episode" if parsed[I_TITLE] else "batch"
    return kind


cdef int _put_bytes(av_buf* out, bytes b) except -1:
    if av_reserve(out, <size_t>PyBytes_GET_SIZE(b)):
        raise MemoryError()
    av_put(out, PyBytes_AS_STRING(b), <size_t>PyBytes_GET_SIZE(b))
    return 0


cdef int _put_text(av_buf* out, str text) except -1:
    """A JSON string as encode_basestring writes it."""
    cdef Py_ssize_t n = 0
    cdef const char* utf8 = _utf8(text, &n)
    if utf8 == NULL:  # lone surrogates: as the pure twin writes them
        return _put_bytes(out, PyUnicode_AsEncodedString(encode_basestring(text), "utf-8", "surrogatepass"))
    if av_reserve(out, 2 + 6 * <size_t>n):
        raise MemoryError()
    av_put_json(out, utf8, <size_t>n)
    return 0


cdef int _put_number(av_buf* out, object v) except -1:
    """An int as f"{v}" writes it; other numbers (a float episode) through str()."""
    cdef int overflow = 0
    cdef long long x
    if PyLong_CheckExact(v):
        x = PyLong_AsLongLongAndOverflow(v, &overflow)
        if not overflow:
            if av_reserve(out, 24):
                raise MemoryError()
            av_put_int(out, x)
            return 0
    return _put_bytes(out, PyUnicode_AsEncodedString(str(v), "utf-8", "surrogatepass"))


cdef int _put_fields(av_buf* out, tuple parsed, object context, object kind, const char* ext,
                     Py_ssize_t ext_n) except -1:
    """_records_format.fields_json of the filled parse (``ext``: the name's, when it has none)."""
    cdef Py_ssize_t j, i
    cdef bytes key
    cdef object v
    for j in range(N_JSON):
        i = JSON_AT[j]
        key = <bytes>_JSON_KEYS[j]
        _put_bytes(out, key)
        v = kind if i == I_KIND else _field(parsed, context, i)
        if v is None:
            if i == I_EXT and ext_n > 0:
                if av_reserve(out, 2 + 6 * <size_t>ext_n):
                    raise MemoryError()
                _put_lower_json(out, ext, ext_n)
            else:
                _put_bytes(out, b"null")
        elif JSON_TEXT[j]:
            _put_text(out, v)
        else:
            _put_number(out, v)
    return 0


cdef inline void _put_u32(av_buf* out, uint32_t v):
    out.p[out.n] = <char>(v & 255)
    out.p[out.n + 1] = <char>((v >> 8) & 255)
    out.p[out.n + 2] = <char>((v >> 16) & 255)
    out.p[out.n + 3] = <char>(v >> 24)
    out.n += 4


cdef bint _marshal_value(av_buf* out, object v, bint nested) except -1:
    """One value as marshal version 2 writes it; False for a value left to marshal itself."""
    cdef Py_ssize_t n = 0, k
    cdef const char* utf8
    cdef int overflow = 0
    cdef long long x
    if v is None:
        if av_reserve(out, 1):
            raise MemoryError()
        av_put(out, b"N", 1)
        return True
    if PyUnicode_CheckExact(v):
        utf8 = _utf8(v, &n)
        if utf8 == NULL or n > 0x7fffffff:
            return False
        if av_reserve(out, 5 + <size_t>n):
            raise MemoryError()
        av_put(out, b"u", 1)
        _put_u32(out, <uint32_t>n)
        av_put(out, utf8, <size_t>n)
        return True
    if PyLong_CheckExact(v):
        x = PyLong_AsLongLongAndOverflow(v, &overflow)
        if overflow or x < -0x80000000LL or x > 0x7fffffffLL:
            return False
        if av_reserve(out, 5):
            raise MemoryError()
        av_put(out, b"i", 1)
        _put_u32(out, <uint32_t>(<int64_t>x & 0xffffffffLL))
        return True
    if PyTuple_CheckExact(v) and not nested:
        n = len(<tuple>v)
        if av_reserve(out, 5):
            raise MemoryError()
        av_put(out, b"(", 1)
        _put_u32(out, <uint32_t>n)
        for k in range(n):
            if not _marshal_value(out, (<tuple>v)[k], True):
                return False
        return True
    return False


cdef inline void _put_u64_at(char* p, uint64_t v):
    cdef int i
    for i in range(8):
        p[i] = <char>((v >> (8 * i)) & 255)


cdef void _entry_head(char* p, uint64_t key, long long size, long long mtime_ns, long long series,
                      size_t parsed):
    """_records_format.ENTRY ("<QqqqI") packed at p."""
    _put_u64_at(p, key)
    _put_u64_at(p + 8, <uint64_t>size)
    _put_u64_at(p + 16, <uint64_t>mtime_ns)
    _put_u64_at(p + 24, <uint64_t>series)
    cdef av_buf at
    at.p, at.n, at.cap = p + 32, 0, 4
    _put_u32(&at, <uint32_t>parsed)


# ------------------------------------------------------------ a file the index knows

cdef bint _fast_fields(av_buf* out, const unsigned char* d, size_t n, const char* ext, Py_ssize_t ext_n) except -1:
    """_records_format.cached_fields of marshal version 2 as _put_parsed writes it; False for
    anything else (then the pure function decides)."""
    cdef unsigned char code[64]
    cdef size_t at[64]
    cdef size_t length[64]
    cdef long long number[64]
    cdef size_t pos = 5, m, items, k
    cdef Py_ssize_t i, j
    cdef unsigned char c
    cdef bytes key
    if N_FIELDS > 64 or n < 5 or d[0] != b'(' or av_u32(d + 1) != <uint32_t>N_FIELDS:
        return False
    for i in range(N_FIELDS):
        if pos >= n:
            return False
        c = d[pos]
        code[i] = c
        pos += 1
        if c == b'N':
            continue
        if n - pos < 4:
            return False
        m = av_u32(d + pos)
        pos += 4
        if c == b'i':
            number[i] = <int32_t>m
        elif c == b'u':
            if n - pos < m or not av_utf8_ok(d + pos, m):
                return False
            at[i], length[i] = pos, m
            pos += m
        elif c == b'(':
            for k in range(m):
                if n - pos < 5 or d[pos] != b'u':
                    return False
                items = av_u32(d + pos + 1)
                pos += 5
                if n - pos < items or not av_utf8_ok(d + pos, items):
                    return False
                pos += items
        else:
            return False
    if av_reserve(out, 6 * n + 6 * <size_t>ext_n + 256):
        raise MemoryError()
    for j in range(N_JSON):
        i = JSON_AT[j]
        key = <bytes>_JSON_KEYS[j]
        av_put(out, PyBytes_AS_STRING(key), <size_t>PyBytes_GET_SIZE(key))
        c = code[i]
        if c == b'N':
            if i == I_EXT and ext_n > 0:
                _put_lower_json(out, ext, ext_n)
            else:
                av_put(out, b"null", 4)
        elif JSON_TEXT[j] and c == b'u':
            av_put_json(out, <const char*>d + at[i], length[i])
        elif not JSON_TEXT[j] and c == b'i':
            av_put_int(out, number[i])
        else:
            return False
    return True


cdef bint _cached_fields(av_buf* out, const av_entry* e, const char* ext, Py_ssize_t ext_n, str prefix,
                         str name, const char* name_utf8, Py_ssize_t name_len) except -1:
    """The NDJSON fields of a cached entry into ``out`` (emptied first); False when the entry is
    unusable (the file is then parsed again). ``name`` may be None: it is ``name_utf8``, decoded."""
    out.n = 0
    if _fast_fields(out, <const unsigned char*>e.parsed, e.parsed_len, ext, ext_n):
        return True
    out.n = 0
    if name is None:
        name = PyUnicode_DecodeUTF8(name_utf8, name_len, NULL)
    text = cached_fields(PyBytes_FromStringAndSize(e.parsed, e.parsed_len), prefix + name)
    if text is None:
        return False
    _put_bytes(out, PyUnicode_AsEncodedString(text, "utf-8", "surrogatepass"))
    return True


cdef int _put_parsed(av_buf* out, tuple parsed, object context, object kind) except -1:
    """_records_format.encode_parsed of the filled parse."""
    cdef size_t start = out.n
    cdef Py_ssize_t i
    if av_reserve(out, 5):
        raise MemoryError()
    av_put(out, b"(", 1)
    _put_u32(out, <uint32_t>N_FIELDS)
    for i in range(N_FIELDS):
        if not _marshal_value(out, kind if i == I_KIND else _field(parsed, context, i), False):
            out.n = start  # (a float episode): marshal writes the whole tuple
            return _put_bytes(out, encode_parsed(
                tuple([kind if j == I_KIND else _field(parsed, context, j) for j in range(N_FIELDS)])))
    return 0


cdef long long _series_key(tuple parsed, object context, object kind, av_buf* scratch) except? -1:
    """_records_format.series_key of the filled parse (0 for none)."""
    cdef object title = _field(parsed, context, I_TITLE)
    cdef object season
    cdef Py_ssize_t n, k
    cdef const char* text
    cdef char c
    if not title:
        return 0
    if kind == "extra":
        title = _series_title(title)  # (parse.series_title of an extra)
    season = _field(parsed, context, I_SEASON)
    if not PyUnicode_IS_ASCII(title):  # case folding beyond ASCII: Python's
        key = path_hash(f"{title.casefold()}\x1f{'' if season is None else season}")
        return <long long><uint64_t>key
    n = PyUnicode_GET_LENGTH(title)
    text = <const char*>PyUnicode_DATA(title)
    scratch.n = 0
    if av_reserve(scratch, <size_t>n + 32):
        raise MemoryError()
    for k in range(n):
        c = text[k]
        scratch.p[k] = c + 32 if b'A' <= c <= b'Z' else c
    scratch.n = <size_t>n
    av_put(scratch, b"\x1f", 1)
    if season is not None:
        _put_number(scratch, season)
    return <long long>XXH3_64bits(scratch.p, scratch.n)
