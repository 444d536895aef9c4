# cython: language_level=3
"""One folder of a scan as NDJSON lines, compiled twin of _records_py.py (same results).

The lines are written into one C buffer: a file costs a hash of its path, a
probe of the folder's cached entries and a few copies, with no Python objects
made for it. A file the index does not know costs one call of the compiled
parser more: the folder's context is filled in, and the NDJSON fields, the
series key and the index entry (marshal version 2, written here) are made
from the parser's tuple in C. The module doc of _records_py.py describes the
contract.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_CheckExact
from cpython.tuple cimport PyTuple_CheckExact
from cpython.unicode cimport PyUnicode_AsEncodedString, PyUnicode_CheckExact, PyUnicode_DecodeUTF8
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from ._parse_c cimport parse_name_c
from ._walk_c cimport FileItem, FileList

from json.encoder import encode_basestring

from ..models import ParsedName
from ._hash_c import path_hash
from ._records_format import (ENTRY, JSON_FIELDS, KIND_BY_EXT, NULL_FIELDS, cached_fields, encode_parsed,
                              extension, kind_of_ext)

cdef extern from *:
    """
    #define XXH_INLINE_ALL
    #include "xxhash.h"
    #include <stdlib.h>
    #include <string.h>

    typedef struct { char *p; size_t n, cap; } av_buf;

    static int av_reserve(av_buf *b, size_t extra) {
        if (b->n + extra <= b->cap) return 0;
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + extra) cap *= 2;
        char *p = (char *)realloc(b->p, cap);
        if (!p) return -1;
        b->p = p; b->cap = cap;
        return 0;
    }

    /* Callers reserve first: these never grow the buffer. */
    static void av_put(av_buf *b, const char *s, size_t len) {
        memcpy(b->p + b->n, s, len); b->n += len;
    }

    static void av_put_int(av_buf *b, long long v) {
        char tmp[24]; int i = 0;
        unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
        do { tmp[i++] = (char)('0' + u % 10); u /= 10; } while (u);
        if (v < 0) tmp[i++] = '-';
        while (i) b->p[b->n++] = tmp[--i];
    }

    /* A JSON string as json.encoder.encode_basestring writes it (UTF-8 passes through).
       Needs 2 + 6 * len bytes reserved. */
    static void av_put_json(av_buf *b, const char *s, size_t len) {
        static const char hex[] = "0123456789abcdef";
        char *o = b->p + b->n;
        *o++ = '"';
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c >= 0x20 && c != '"' && c != '\\\\') { *o++ = (char)c; continue; }
            *o++ = '\\\\';
            switch (c) {
                case '"': *o++ = '"'; break;
                case '\\\\': *o++ = '\\\\'; break;
                case '\\n': *o++ = 'n'; break;
                case '\\r': *o++ = 'r'; break;
                case '\\t': *o++ = 't'; break;
                case '\\b': *o++ = 'b'; break;
                case '\\f': *o++ = 'f'; break;
                default:
                    *o++ = 'u'; *o++ = '0'; *o++ = '0';
                    *o++ = hex[c >> 4]; *o++ = hex[c & 15];
            }
        }
        *o++ = '"';
        b->n = (size_t)(o - b->p);
    }

    static uint64_t av_u64(const unsigned char *p) {
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
        return v;
    }

    static uint32_t av_u32(const unsigned char *p) {
        return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    }

    typedef struct {
        uint64_t key; long long size, mtime_ns, series;
        const char *parsed; uint32_t parsed_len;
        const char *raw; size_t raw_len;
    } av_entry;

    /* Entries of a blob (see ENTRY); -1 when it is malformed. */
    static Py_ssize_t av_entries(const char *blob, size_t len, av_entry *out, size_t head) {
        size_t pos = 0; Py_ssize_t n = 0;
        while (pos < len) {
            if (len - pos < head) return -1;
            const unsigned char *p = (const unsigned char *)blob + pos;
            uint32_t np = av_u32(p + 32);
            if ((uint64_t)np > len - pos - head) return -1;
            if (out) {
                av_entry *e = &out[n];
                e->key = av_u64(p); e->size = (long long)av_u64(p + 8);
                e->mtime_ns = (long long)av_u64(p + 16); e->series = (long long)av_u64(p + 24);
                e->parsed = blob + pos + head; e->parsed_len = np;
                e->raw = blob + pos; e->raw_len = head + np;
            }
            pos += head + (size_t)np;
            n++;
        }
        return n;
    }

    /* Well-formed UTF-8 as Python's "surrogatepass" decoder takes it (surrogates allowed). */
    static int av_utf8_ok(const unsigned char *s, size_t n) {
        size_t i = 0;
        while (i < n) {
            unsigned char c = s[i];
            if (c < 0x80) { i++; continue; }
            size_t k; unsigned char lo = 0x80, hi = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) k = 1;
            else if (c >= 0xE0 && c <= 0xEF) { k = 2; if (c == 0xE0) lo = 0xA0; }
            else if (c >= 0xF0 && c <= 0xF4) { k = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
            else return 0;
            if (n - i <= k) return 0;
            if (s[i + 1] < lo || s[i + 1] > hi) return 0;
            for (size_t j = 2; j <= k; j++) if ((s[i + j] & 0xC0) != 0x80) return 0;
            i += k + 1;
        }
        return 1;
    }
    """
    ctypedef struct av_buf:
        char* p
        size_t n
        size_t cap
    ctypedef struct av_entry:
        uint64_t key
        long long size
        long long mtime_ns
        long long series
        const char* parsed
        uint32_t parsed_len
        const char* raw
        size_t raw_len
    int av_reserve(av_buf* b, size_t extra)
    void av_put(av_buf* b, const char* s, size_t n)
    void av_put_int(av_buf* b, long long v)
    void av_put_json(av_buf* b, const char* s, size_t n)
    Py_ssize_t av_entries(const char* blob, size_t n, av_entry* out, size_t head)
    int av_utf8_ok(const unsigned char* s, size_t n)
    uint32_t av_u32(const unsigned char* p)
    uint64_t XXH3_64bits(const void* data, size_t length) nogil

cdef extern from "Python.h":
    int PyUnicode_IS_ASCII(object s)
    void* PyUnicode_DATA(object s)
    Py_ssize_t PyUnicode_GET_LENGTH(object s)
    const char* PyUnicode_AsUTF8AndSize(object s, Py_ssize_t* size) except? NULL
    Py_ssize_t PyUnicode_FindChar(object s, Py_UCS4 ch, Py_ssize_t start, Py_ssize_t end, int direction) except -2
    bint Py_UNICODE_ISDIGIT(Py_UCS4 ch)

DEF MAX_EXT = 8
cdef enum:
    K_OTHER = 0
    K_VIDEO = 1
    K_SUBTITLE = 2

cdef size_t HEAD = ENTRY.size
cdef bytes _NULL_FIELDS = NULL_FIELDS.encode()
cdef bytes _END = b',"warnings":[]}\n'
cdef list _KIND_NAMES = ["other", "video", "subtitle"]
cdef list _KIND_HEADS = [f',"kind":"{k}",'.encode() for k in _KIND_NAMES]
# Known extensions, NUL-padded to MAX_EXT bytes, and their kind.
cdef bytes _EXT_TABLE = b"".join(e.encode().ljust(MAX_EXT, b"\0") for e in KIND_BY_EXT)
cdef int _N_EXTS = len(KIND_BY_EXT)
cdef int _ext_kinds[64]
for _i, _k in enumerate(KIND_BY_EXT.values()):
    _ext_kinds[_i] = K_VIDEO if _k == "video" else K_SUBTITLE


cdef inline const char* _utf8(str text, Py_ssize_t* n):
    """The UTF-8 of ``text``, or NULL when it is not valid UTF-8 (lone surrogates)."""
    if PyUnicode_IS_ASCII(text):
        n[0] = PyUnicode_GET_LENGTH(text)
        return <const char*>PyUnicode_DATA(text)
    try:
        return PyUnicode_AsUTF8AndSize(text, n)
    except UnicodeEncodeError:
        return NULL


cdef inline Py_ssize_t _ext_start(const char* name, Py_ssize_t n):
    """Where the extension starts (after the last dot, with a stem before it), else n."""
    cdef Py_ssize_t i = n - 1
    while i > 0 and name[i] != b'.':
        i -= 1
    return i + 1 if i > 0 else n


cdef int _kind_of_ext(const char* ext, Py_ssize_t n, bint* ascii):
    """The kind of an extension (compared in ASCII lower case); ascii[0] is False for other bytes."""
    cdef char lower[MAX_EXT]
    cdef Py_ssize_t i, j
    cdef unsigned char c
    cdef const char* table = PyBytes_AS_STRING(_EXT_TABLE)
    ascii[0] = True
    for i in range(n):
        c = <unsigned char>ext[i]
        if c >= 0x80:
            ascii[0] = False
            return K_OTHER
        if i < MAX_EXT:
            lower[i] = <char>(c + 32 if b'A' <= c <= b'Z' else c)
    if n == 0 or n > MAX_EXT:
        return K_OTHER
    for i in range(_N_EXTS):
        for j in range(n):
            if table[i * MAX_EXT + j] != lower[j]:
                break
        else:
            if n == MAX_EXT or table[i * MAX_EXT + n] == 0:
                return _ext_kinds[i]
    return K_OTHER


cdef int _kind_of_str(str name):
    """The kind of a name that is not valid UTF-8, as the pure twin finds it."""
    kind = kind_of_ext(extension(name))
    return K_VIDEO if kind == "video" else K_SUBTITLE if kind == "subtitle" else K_OTHER


cdef inline void _put_lower_json(av_buf* out, const char* ext, Py_ssize_t n):
    """An ASCII extension in lower case, as a JSON string (escapes are lower case already)."""
    cdef size_t start = out.n, i
    av_put_json(out, ext, <size_t>n)
    for i in range(start, out.n):
        if b'A' <= out.p[i] <= b'Z':
            out.p[i] += 32


cdef inline void _head(av_buf* out, const char* path, size_t n, long long size, long long mtime_ns,
                       int kind):
    av_put(out, b'{"path":', 8)
    av_put_json(out, path, n)
    av_put(out, b',"size":', 8)
    av_put_int(out, size)
    av_put(out, b',"mtime_ns":', 12)
    av_put_int(out, mtime_ns)
    cdef bytes kind_head = _KIND_HEADS[kind]
    av_put(out, PyBytes_AS_STRING(kind_head), <size_t>PyBytes_GET_SIZE(kind_head))



include "_records_files.pxi"
include "_records_folders.pxi"


# ------------------------------------------------------------ one folder

cdef enum:
    S_CACHED = 0  # a cached entry reused: at = its index
    S_NEW = 1  # an entry made here: at, size in the buffer of new entries
    S_MISS = 2  # a miss's entry, made by the scanner: at = its index in misses

ctypedef struct av_slot:
    int what
    size_t at
    size_t size


cdef int _miss(av_buf* out, list segments, list misses, av_slot* slots, Py_ssize_t* n_slots,
               Py_ssize_t i, int kind, uint64_t key) except -1:
    segments.append(PyBytes_FromStringAndSize(out.p, <Py_ssize_t>out.n))
    out.n = 0
    if kind != K_OTHER:
        slots[n_slots[0]].what = S_MISS
        slots[n_slots[0]].at = <size_t>len(misses)
        n_slots[0] += 1
    misses.append((i, _KIND_NAMES[kind], key))
    return 0


cdef list _new_blob(_Probe probe, av_buf* fresh, av_slot* slots, Py_ssize_t n_slots):
    """The folder's entries in file order: byte strings, and the misses' places (ints)."""
    cdef av_buf blob
    cdef Py_ssize_t s
    cdef av_entry* e
    cdef list parts = []
    memset(&blob, 0, sizeof(blob))
    try:
        for s in range(n_slots):
            if slots[s].what == S_MISS:
                if blob.n:
                    parts.append(PyBytes_FromStringAndSize(blob.p, <Py_ssize_t>blob.n))
                    blob.n = 0
                parts.append(<Py_ssize_t>slots[s].at)
                continue
            if slots[s].what == S_CACHED:
                e = &probe.entries[slots[s].at]
                if av_reserve(&blob, e.raw_len):
                    raise MemoryError()
                av_put(&blob, e.raw, e.raw_len)
            else:
                if av_reserve(&blob, slots[s].size):
                    raise MemoryError()
                av_put(&blob, fresh.p + slots[s].at, slots[s].size)
        if blob.n:
            parts.append(PyBytes_FromStringAndSize(blob.p, <Py_ssize_t>blob.n))
    finally:
        free(blob.p)
    return parts


cdef class _Probe:
    """A folder's cached entries, by path hash (open addressing; the last of equal keys wins,
    and the others, never used, make the folder's entries change)."""
    cdef av_entry* entries
    cdef Py_ssize_t n
    cdef Py_ssize_t* slots
    cdef size_t mask
    cdef char* used
    cdef bint broken

    def __cinit__(self, bytes blob):
        cdef Py_ssize_t i
        cdef size_t s
        cdef const char* data = PyBytes_AS_STRING(blob) if blob is not None else NULL
        cdef size_t size = PyBytes_GET_SIZE(blob) if blob is not None else 0
        self.n = av_entries(data, size, NULL, HEAD) if size else 0
        if self.n < 0:
            self.n, self.broken = 0, True
        self.mask = 15
        while self.mask + 1 < <size_t>(2 * self.n):
            self.mask = self.mask * 2 + 1
        self.entries = <av_entry*>malloc(max(self.n, 1) * sizeof(av_entry))
        self.slots = <Py_ssize_t*>malloc((self.mask + 1) * sizeof(Py_ssize_t))
        self.used = <char*>malloc(max(self.n, 1))
        if not self.entries or not self.slots or not self.used:
            raise MemoryError()
        memset(self.used, 0, max(self.n, 1))
        for s in range(self.mask + 1):
            self.slots[s] = -1
        if self.n:
            av_entries(data, size, self.entries, HEAD)
        for i in range(self.n):
            s = self.entries[i].key & self.mask
            while self.slots[s] >= 0 and self.entries[self.slots[s]].key != self.entries[i].key:
                s = (s + 1) & self.mask
            self.slots[s] = i

    def __dealloc__(self):
        free(self.entries)
        free(self.slots)
        free(self.used)

    cdef inline Py_ssize_t find(self, uint64_t key):
        cdef size_t s = key & self.mask
        while self.slots[s] >= 0:
            if self.entries[self.slots[s]].key == key:
                return self.slots[s]
            s = (s + 1) & self.mask
        return -1


def render_folder(str prefix, files, bytes cached, str directory=None, bint index=True):
    """The NDJSON of one folder's files, and what is left for the scanner (see _records_py).
    ``files``: a list of (name, size, mtime_ns), or the walk twin's FileList, whose names are read
    as they are on disk (a str is made only for a file that is parsed)."""
    cdef FileList listed = None
    cdef FileItem* listed_item
    if type(files) is FileList and (<FileList>files).utf8:
        listed = <FileList>files
    elif type(files) is not list:
        files = list(files)
    cdef _Probe probe = _Probe(cached)
    cdef av_buf out, path, fresh, fields, scratch
    memset(&fields, 0, sizeof(fields))
    memset(&out, 0, sizeof(out))
    memset(&path, 0, sizeof(path))
    memset(&fresh, 0, sizeof(fresh))
    memset(&scratch, 0, sizeof(scratch))
    cdef Py_ssize_t prefix_len = 0, name_len = 0, i, k, ext_at = 0, n_slots = 0
    cdef const char* prefix_utf8 = _utf8(prefix, &prefix_len)
    cdef const char* name_utf8
    cdef bint ascii_ext, new = False
    cdef int kind
    cdef uint64_t key
    cdef long long size, mtime_ns, series_key, last_series = 0
    cdef long long hits = 0, nbytes = 0, videos = 0, subtitles = 0, others = 0, parsed_here = 0
    cdef Py_ssize_t used = 0, n_files = len(files)
    cdef size_t entry_at
    cdef list segments = [], misses = [], series = []
    cdef tuple item, parsed  # (a ParsedName: a tuple subclass, cast unchecked)
    cdef str name
    cdef object context = None, kind_name
    cdef av_slot* slots = <av_slot*>malloc(max(n_files, 1) * sizeof(av_slot))
    if slots == NULL:
        raise MemoryError()
    try:
        if directory is not None and _split_folders is None:
            _load_parse()
        if av_reserve(&path, <size_t>prefix_len + 256):
            raise MemoryError()
        if prefix_utf8 != NULL:
            av_put(&path, prefix_utf8, <size_t>prefix_len)
        for i in range(n_files):
            if listed is not None:  # valid UTF-8 as read: its str is made when it is needed
                listed_item = &listed.items[i]
                name = None
                name_utf8, name_len = listed_item.name, listed_item.name_len
                size, mtime_ns = listed_item.size, listed_item.mtime_ns
            else:
                item = (<list>files)[i]  # (typed: a checked assignment)
                name = item[0]
                size = item[1]
                mtime_ns = item[2]
                name_utf8 = _utf8(name, &name_len)
            nbytes += size
            if name_utf8 != NULL:
                ext_at = _ext_start(name_utf8, name_len)
                kind = _kind_of_ext(name_utf8 + ext_at, name_len - ext_at, &ascii_ext)
            else:
                kind, ascii_ext = _kind_of_str(name), False
            if kind == K_VIDEO:
                videos += 1
            elif kind == K_SUBTITLE:
                subtitles += 1
            else:
                others += 1
            if prefix_utf8 == NULL or name_utf8 == NULL or not ascii_ext:
                _miss(&out, segments, misses, slots, &n_slots, i, kind, 0)
                continue
            path.n = <size_t>prefix_len
            if av_reserve(&path, <size_t>name_len) or \
                    av_reserve(&out, 400 + 12 * (<size_t>prefix_len + <size_t>name_len)):
                raise MemoryError()
            av_put(&path, name_utf8, <size_t>name_len)
            if kind == K_OTHER:
                _head(&out, path.p, path.n, size, mtime_ns, kind)
                av_put(&out, PyBytes_AS_STRING(_NULL_FIELDS), <size_t>PyBytes_GET_SIZE(_NULL_FIELDS))
                if ext_at < name_len:
                    _put_lower_json(&out, name_utf8 + ext_at, name_len - ext_at)
                else:
                    av_put(&out, b"null", 4)
                av_put(&out, PyBytes_AS_STRING(_END), <size_t>PyBytes_GET_SIZE(_END))
                continue
            key = XXH3_64bits(path.p, path.n)
            k = probe.find(key)
            if k >= 0 and probe.entries[k].size == size and probe.entries[k].mtime_ns == mtime_ns and \
                    _cached_fields(&fields, &probe.entries[k], name_utf8 + ext_at, name_len - ext_at, prefix,
                                   name, name_utf8, name_len):
                if not probe.used[k]:
                    probe.used[k] = 1
                    used += 1
                hits += 1
                slots[n_slots].what = S_CACHED
                slots[n_slots].at = <size_t>k
                n_slots += 1
                series_key = probe.entries[k].series
            elif directory is None:
                _miss(&out, segments, misses, slots, &n_slots, i, kind, key)
                continue
            else:  # parsed here: its fields, and its entry in the buffer of new entries
                if not parsed_here:  # the folder's context, once it is needed
                    context = _folder_context_of(directory)
                if name is None:
                    name = PyUnicode_DecodeUTF8(name_utf8, name_len, NULL)
                parsed = <tuple>parse_name_c(name)
                parsed_here += 1
                new = True
                kind_name = _kind(parsed, context)
                fields.n = 0
                _put_fields(&fields, parsed, context, kind_name, name_utf8 + ext_at, name_len - ext_at)
                series_key = _series_key(parsed, context, kind_name, &scratch) if kind == K_VIDEO else 0
                if index:
                    entry_at = fresh.n
                    if av_reserve(&fresh, HEAD):
                        raise MemoryError()
                    fresh.n += HEAD
                    _put_parsed(&fresh, parsed, context, kind_name)
                    _entry_head(fresh.p + entry_at, key, size, mtime_ns, series_key, fresh.n - entry_at - HEAD)
                    slots[n_slots].what = S_NEW
                    slots[n_slots].at = entry_at
                    slots[n_slots].size = fresh.n - entry_at
                    n_slots += 1
            if av_reserve(&out, fields.n + 32):
                raise MemoryError()
            _head(&out, path.p, path.n, size, mtime_ns, kind)
            av_put(&out, fields.p, fields.n)
            if series_key and (not series or last_series != series_key):
                series.append(series_key)
                last_series = series_key
            av_put(&out, PyBytes_AS_STRING(_END), <size_t>PyBytes_GET_SIZE(_END))
        segments.append(PyBytes_FromStringAndSize(out.p, <Py_ssize_t>out.n))
        order = None
        if index and (probe.broken or new or used != probe.n or _any_miss(slots, n_slots)):
            if n_slots and n_slots == parsed_here:  # every entry new, in order: the buffer is the blob
                order = [PyBytes_FromStringAndSize(fresh.p, <Py_ssize_t>fresh.n)]
            else:
                order = _new_blob(probe, &fresh, slots, n_slots)
    finally:
        free(out.p)
        free(path.p)
        free(fresh.p)
        free(fields.p)
        free(scratch.p)
        free(slots)
    return segments, misses, order, (hits, nbytes, videos, subtitles, others, parsed_here), series


cdef bint _any_miss(av_slot* slots, Py_ssize_t n):
    cdef Py_ssize_t s
    for s in range(n):
        if slots[s].what == S_MISS:
            return True
    return False


def folder_context(str path):
    """The context a folder's names give the files in it (parse._dir_context; see _records_folders.pxi)."""
    if _split_folders is None:
        _load_parse()
    return _folder_context_of(path)
