# cython: language_level=3
"""Release-name parser, compiled twin of _parse_py.py (identical results).

The same steps as the pure twin (read its docstring first), done in C: the
name's code points are copied once into a ucs array; brackets, words and
tokens are C arrays of positions; the vocabulary is an open-addressing hash
table over code points built at import from _parse_tables. Python objects are
made only at the end, for the fields of the ParsedName. The scanning and the
rules hold no Python references, so long names are parsed without the GIL.
"""
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport PyUnicode_Substring
from libc.stdint cimport uint32_t, uint64_t

ctypedef uint32_t ucs  # a code point (plain C integer arithmetic, unlike ucs)
from libc.string cimport memcpy

from ..models import ParsedName
from . import _parse_tables as tables

cdef extern from "Python.h":
    Py_ssize_t PyUnicode_FindChar(object s, Py_UCS4 ch, Py_ssize_t start, Py_ssize_t end,
                                  int direction) except -2
    int PyUnicode_KIND(object s)
    void* PyUnicode_DATA(object s)
    Py_ssize_t PyUnicode_GET_LENGTH(object s)
    object PyUnicode_FromKindAndData(int kind, const void* buffer, Py_ssize_t size)
    int PyUnicode_4BYTE_KIND
    bint Py_UNICODE_ISALNUM(uint32_t ch) nogil

# ---------------------------------------------------------------- constants (as in _parse_py)

DEF WORD = 0
DEF DASH = 1
DEF TILDE = 2
DEF OPEN = 3
DEF CLOSE = 4
DEF NUM = 5
DEF RANGE = 6
DEF SEASONEP = 7
DEF SEASON = 8
DEF EPNUM = 9
DEF TYPED = 10
DEF TAG = 11
DEF RES = 12
DEF CRC = 13
DEF EPWORD = 14
DEF SEASONWORD = 15
DEF ORDINAL = 16
DEF VOLWORD = 17
DEF OF = 18
DEF VERSION = 19
DEF VOLUME = 20
DEF PLUS = 21
DEF DATE = 22
DEF GONE = -1

DEF GLUED = 1
DEF WEAK = 2

DEF M_SPACE = 0
DEF M_UNDERSCORE = 1
DEF M_DOT = 2
DEF M_PLUS = 3
DEF M_DASH = 4

DEF B_EMPTY = 0
DEF B_TAGS = 1
DEF B_YEAR = 2
DEF B_NUM = 3
DEF B_TEXT = 4
DEF B_MIXED = 5
DEF B_WEAK = 6

DEF F_SOURCE = 1
DEF F_VIDEO = 2
DEF F_AUDIO = 3
DEF F_LANGUAGE = 4
DEF F_SUBTITLES = 5
DEF F_OTHER = 6
DEF F_NOISE = 7
DEF F_RELEASE = 8

DEF K_SPECIAL = 1
DEF K_EXTRA = 2
DEF K_MOVIE = 3
DEF K_TV = 4
DEF K_BATCH = 5

DEF MAX_DIGITS = 9
DEF MAX_NAME = 1024      # only the last MAX_NAME characters are parsed (as in _parse_py)
DEF MAX_KEY = 48        # longer words are in no table
DEF NOGIL_FROM = 256    # names this long are parsed with the GIL released
DEF STACK_WORDS = 4096   # 32 KiB of working memory: names up to ~500 characters need no malloc
DEF STACK_BYTES = 32768

assert (tables.TAG, tables.TYPED, tables.EPWORD, tables.SEASONWORD, tables.ORDINAL,
        tables.VOLWORD, tables.OF, tables.RES) == (TAG, TYPED, EPWORD, SEASONWORD, ORDINAL,
                                                   VOLWORD, OF, RES)
assert (tables.F_SOURCE, tables.F_NOISE, tables.F_RELEASE, tables.K_TV, tables.K_BATCH) == (
    F_SOURCE, F_NOISE, F_RELEASE, K_TV, K_BATCH)


cdef struct Tok:
    int s, e, cat, br, a, b, c, d, x, f, g, fl


cdef inline Tok mk(int ws, int we, int br, int cat, int a=0, int b=0, int c=-1, int d=-1,
                   int x=0, int f=0, int g=0, int fl=0) noexcept nogil:
    cdef Tok t
    t.s = ws; t.e = we; t.cat = cat; t.br = br; t.a = a; t.b = b; t.c = c; t.d = d
    t.x = x; t.f = f; t.g = g; t.fl = fl
    return t


# ---------------------------------------------------------------- code point tables

cdef inline bint isdigit(ucs c) noexcept nogil:
    return 48 <= c <= 57

cdef inline bint ishex(ucs c) noexcept nogil:
    return 48 <= c <= 57 or 97 <= c <= 102 or 65 <= c <= 70

cdef inline bint isspace_(ucs c) noexcept nogil:
    return c == 32 or c == 9 or c == 0x3000

cdef inline bint isstar(ucs c) noexcept nogil:
    return c == 0x2605 or c == 0x2606  # ★☆

cdef inline bint isdash(ucs c) noexcept nogil:
    # -‐‑‒–—―
    return c == 45 or (0x2010 <= c <= 0x2015)

cdef ucs OPENERS[10]
cdef ucs CLOSERS[10]
cdef int NBRACKETS = 0

cdef signed char ASCII_OPENER[128]
cdef signed char ASCII_CLOSER[128]

cdef inline int opener(ucs c) noexcept nogil:
    cdef int k
    if c < 128:
        return ASCII_OPENER[c]
    if c < 0x3000:
        return -1  # every non-ASCII bracket is a CJK one
    for k in range(NBRACKETS):
        if OPENERS[k] == c:
            return k
    return -1

cdef inline int closer(ucs c) noexcept nogil:
    cdef int k
    if c < 128:
        return ASCII_CLOSER[c]
    if c < 0x3000:
        return -1
    for k in range(NBRACKETS):
        if CLOSERS[k] == c:
            return k
    return -1

cdef inline bint in_str(ucs c, const ucs* chars) noexcept nogil:
    cdef int k = 0
    while chars[k] != 0:
        if chars[k] == c:
            return True
        k += 1
    return False

cdef ucs EP_CJK[6]     # 話话集화회
cdef ucs SEASON_CJK[3] # 期季
cdef ucs DI_EP[5]      # 話话集回  (after 第)
cdef ucs DI_SEASON[4]  # 期季部
cdef ucs INSIDE_SEPS[8]  # _,+/|;&
assert [ord(c) for c in "話话集화회期季回部"] == [
    0x8a71, 0x8bdd, 0x96c6, 0xd654, 0xd68c, 0x671f, 0x5b63, 0x56de, 0x90e8]
assert [ord(c) for c in tables.STARS + tables.DASHES + "〜第×"] == [
    0x2605, 0x2606, 45, 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x301c, 0x7b2c, 0xd7]
EP_CJK[:] = [0x8a71, 0x8bdd, 0x96c6, 0xd654, 0xd68c, 0]
SEASON_CJK[:] = [0x671f, 0x5b63, 0]
DI_EP[:] = [0x8a71, 0x8bdd, 0x96c6, 0x56de, 0]
DI_SEASON[:] = [0x671f, 0x5b63, 0x90e8, 0]
INSIDE_SEPS[:] = [95, 44, 43, 47, 124, 59, 38, 0]


# ---------------------------------------------------------------- hash tables over code points

cdef struct Entry:
    uint64_t h
    Py_ssize_t off
    int length
    int cat, field, value, weak

cdef struct Table:
    Entry* slots
    ucs* pool
    size_t mask


cdef inline uint64_t fnv(const ucs* k, int n) noexcept nogil:
    cdef uint64_t h = 1469598103934665603ULL
    cdef int i
    for i in range(n):
        h = (h ^ k[i]) * 1099511628211ULL
    return h | 1  # never 0: 0 marks an empty slot


cdef const Entry* find(const Table* t, const ucs* k, int n) noexcept nogil:
    if n <= 0 or n > MAX_KEY:
        return NULL
    cdef uint64_t h = fnv(k, n)
    cdef size_t i = h & t.mask
    cdef const Entry* e
    cdef int j
    while True:
        e = &t.slots[i]
        if e.h == 0:
            return NULL
        if e.h == h and e.length == n:
            j = 0
            while j < n and t.pool[e.off + j] == k[j]:
                j += 1
            if j == n:
                return e
        i = (i + 1) & t.mask


cdef void build(Table* t, list items) except *:
    """items: [(key str, cat, field, value, weak)]"""
    cdef size_t size = 16
    while size < 2 * len(items) + 1:
        size <<= 1
    cdef Py_ssize_t total = sum(len(k) for k, *_ in items)
    t.slots = <Entry*>PyMem_Malloc(size * sizeof(Entry))
    t.pool = <ucs*>PyMem_Malloc((total + 1) * sizeof(ucs))
    if t.slots == NULL or t.pool == NULL:
        raise MemoryError()
    t.mask = size - 1
    cdef size_t i
    for i in range(size):
        t.slots[i].h = 0
    cdef Py_ssize_t off = 0
    cdef int n, j
    cdef uint64_t h
    for key, cat, field, value, weak in items:
        n = len(key)
        assert 0 < n <= MAX_KEY, key
        for j in range(n):
            t.pool[off + j] = ord(key[j])
        h = fnv(&t.pool[off], n)
        i = h & t.mask
        while t.slots[i].h != 0:
            i = (i + 1) & t.mask
        t.slots[i].h = h
        t.slots[i].off = off
        t.slots[i].length = n
        t.slots[i].cat = cat
        t.slots[i].field = field
        t.slots[i].value = value
        t.slots[i].weak = weak
        off += n


cdef Table VOCAB, PAIRS, EXTS, SUFFIXES
cdef bint PAIR_FIRST[128]   # first letters of two-word tags
cdef int NOISE_VALUE
cdef int TV_VALUE
cdef list VALUES = list(tables.VALUES)
cdef list SUFFIX_VALUES = []
cdef list EXT_VALUES = sorted(tables.EXTENSIONS)
cdef list KIND_NAMES = [tables.KINDS[k] for k in range(len(tables.KINDS))]
cdef int TYPED_KIND[16]
cdef bint TYPED_FIRST[128]  # first letters of the typed prefixes
cdef ucs TYPED_PREFIX[16][5]
cdef int TYPED_LEN[16]
cdef int NTYPED = 0
cdef ucs SUFFIX_CJK[16]        # tables.EPISODE_SUFFIX_CJK, 0-terminated
cdef ucs RANGE_SEPS[8]         # tables.RANGE_SEPARATORS, 0-terminated
cdef ucs CHAIN_SEPS[16]        # tables.CHAIN_SEPARATORS, 0-terminated
cdef ucs NOISE_FRAG[16][4]     # tables.NOISE_FRAGMENTS, 0-terminated each
cdef int N_NOISE_FRAG = 0
cdef ucs CJK_DIGIT_CHARS[16]
cdef int CJK_DIGIT_VALUES[16]
cdef int N_CJK_DIGITS = 0


def _init() -> None:
    global NBRACKETS, NOISE_VALUE, TV_VALUE
    index = tables.VALUE_INDEX
    build(&VOCAB, [(k, v[0], v[1], index[v[2]], v[3]) for k, v in tables.VOCABULARY.items()])
    build(&PAIRS, [(k1 + "\0" + k2, v[0], v[1], index[v[2]], v[3])
                   for k1, d in tables.PAIRS.items() for k2, v in d.items()])
    for k in range(128):
        PAIR_FIRST[k] = False
    for k1 in tables.PAIRS:
        assert k1.isascii() and k1 == k1.lower()
        PAIR_FIRST[ord(k1[0])] = True
    build(&EXTS, [(k, 0, 1 if k in tables.SUBTITLE_EXTENSIONS else 0, i, 0)
                  for i, k in enumerate(EXT_VALUES)])
    items = []
    for k, (field, value) in tables.SUBTITLE_SUFFIXES.items():
        if value not in SUFFIX_VALUES:
            SUFFIX_VALUES.append(value)
        items.append((k, 0, field, SUFFIX_VALUES.index(value), 0))
    build(&SUFFIXES, items)
    NOISE_VALUE = index[""]
    TV_VALUE = index["TV"]
    assert len(tables.OPENERS) == len(tables.CLOSERS) <= 10
    NBRACKETS = len(tables.OPENERS)
    for k in range(128):
        ASCII_OPENER[k] = -1
        ASCII_CLOSER[k] = -1
    for k in range(NBRACKETS):
        OPENERS[k] = ord(tables.OPENERS[k])
        CLOSERS[k] = ord(tables.CLOSERS[k])
        assert OPENERS[k] < 128 or OPENERS[k] >= 0x3000, "opener() assumes CJK brackets"
        assert CLOSERS[k] < 128 or CLOSERS[k] >= 0x3000, "closer() assumes CJK brackets"
        if OPENERS[k] < 128:
            ASCII_OPENER[OPENERS[k]] = k
        if CLOSERS[k] < 128:
            ASCII_CLOSER[CLOSERS[k]] = k
    global NTYPED, N_CJK_DIGITS, N_NOISE_FRAG
    assert len(tables.EPISODE_SUFFIX_CJK) < 16 and len(tables.RANGE_SEPARATORS) < 8
    for k, char in enumerate(tables.EPISODE_SUFFIX_CJK):
        SUFFIX_CJK[k] = ord(char)
    SUFFIX_CJK[len(tables.EPISODE_SUFFIX_CJK)] = 0
    for k, char in enumerate(tables.RANGE_SEPARATORS):
        RANGE_SEPS[k] = ord(char)
    RANGE_SEPS[len(tables.RANGE_SEPARATORS)] = 0
    assert len(tables.CHAIN_SEPARATORS) < 16
    for k, char in enumerate(tables.CHAIN_SEPARATORS):
        CHAIN_SEPS[k] = ord(char)
    CHAIN_SEPS[len(tables.CHAIN_SEPARATORS)] = 0
    assert len(tables.NOISE_FRAGMENTS) <= 16 and all(len(f) <= 3 for f in tables.NOISE_FRAGMENTS)
    for k, fragment in enumerate(tables.NOISE_FRAGMENTS):
        for j in range(len(fragment)):
            NOISE_FRAG[k][j] = ord(fragment[j])
        NOISE_FRAG[k][len(fragment)] = 0
    N_NOISE_FRAG = len(tables.NOISE_FRAGMENTS)
    assert tables.EPISODE_SUFFIXES == ("end", "fin", "final", "tv")  # episode_suffix() spells them
    assert len(tables.CJK_DIGITS) <= 16
    for k, (char, digit) in enumerate(tables.CJK_DIGITS.items()):
        CJK_DIGIT_CHARS[k] = ord(char)
        CJK_DIGIT_VALUES[k] = digit
    N_CJK_DIGITS = len(tables.CJK_DIGITS)
    prefixes = tables.TYPED_PREFIXES
    assert len(prefixes) <= 16 and all(len(x) <= 4 for x in prefixes)
    NTYPED = len(prefixes)
    for k in range(128):
        TYPED_FIRST[k] = False
    for k, prefix in enumerate(prefixes):
        TYPED_FIRST[ord(prefix[0])] = True
        TYPED_LEN[k] = len(prefix)
        TYPED_KIND[k] = tables.VOCABULARY[prefix][1]
        for j in range(len(prefix)):
            TYPED_PREFIX[k][j] = ord(prefix[j])


_init()


cdef inline int lowered(const ucs* s, int a, int b, ucs* out) noexcept nogil:
    """Copy s[a:b] folded like _parse_py._lower (ASCII-only names are lowercased) into out;
    return its length, or -1 when it is too long for any table."""
    cdef int n = b - a
    cdef int i
    cdef ucs c
    if n > MAX_KEY:
        return -1
    for i in range(n):
        c = s[a + i]
        if c >= 128:  # not all ASCII: kept as written
            memcpy(out, &s[a], n * sizeof(ucs))
            return n
        out[i] = c + 32 if 65 <= c <= 90 else c
    return n


cdef const Entry* vocab_key(const ucs* key, int n) noexcept nogil:
    """The vocabulary entry of an already folded word (n < 0: too long for any)."""
    cdef const Entry* e
    if n < 0:
        return NULL
    e = find(&VOCAB, key, n)
    if e == NULL and n > 1 and key[n - 1] == 46:  # "ep." -> "ep"
        e = find(&VOCAB, key, n - 1)
    return e


cdef bint lower_equals(const ucs* s, int a, int b, const char* word) noexcept nogil:
    """_lower(s[a:b]) == word (an ASCII word)."""
    cdef ucs key[MAX_KEY + 1]
    cdef int n = lowered(s, a, b, key)
    cdef int i = 0
    if n < 0:
        return False
    while i < n and word[i] != 0 and key[i] == <ucs>word[i]:
        i += 1
    return i == n and word[i] == 0


# ---------------------------------------------------------------- parse state

cdef struct P:
    const ucs* s
    int n          # len(name)
    int end        # end of the name proper (before the extension)
    int mode
    Tok* toks
    int ntok
    int* top       # top-level brackets: close index (>0), -close for ★decorations★, 0 none
    int ext, lang, subs   # table values, -1 none
    int group_br, group_a, group_b
    int ep
    int title_a, title_b, title_mode
    int eptitle_a, eptitle_b
    int season, kind
    int xtype      # the token of the type word a find_title rule read (-1: none)
    int stop       # the title ends here at the latest (-1: no such token)


# ---------------------------------------------------------------- extension

cdef int rfind_dot(const ucs* s, int a, int b) noexcept nogil:
    cdef int i = b - 1
    while i >= a:
        if s[i] == 46:
            return i
        i -= 1
    return -1


cdef void split_extension(P* p) noexcept nogil:
    cdef const ucs* s = p.s
    cdef ucs key[MAX_KEY + 1]
    cdef int end = p.n
    cdef int dot = rfind_dot(s, 0, end)
    cdef int k, rounds
    cdef const Entry* e
    p.ext = p.lang = p.subs = -1
    if 0 < dot and end - dot - 1 <= 7:
        k = lowered(s, dot + 1, end, key)
        e = find(&EXTS, key, k)
        if e != NULL:
            p.ext = e.value
            end = dot
            if e.field:  # a subtitle: ".en.ass", ".Signs & Songs.ass"
                for rounds in range(2):
                    dot = rfind_dot(s, 0, end)
                    if dot <= 0 or end - dot - 1 > 14:
                        break
                    k = lowered(s, dot + 1, end, key)
                    e = find(&SUFFIXES, key, k)
                    if e == NULL:
                        break
                    if e.field == F_LANGUAGE:
                        if p.lang < 0:
                            p.lang = e.value
                    elif p.subs < 0:
                        p.subs = e.value
                    end = dot
    p.end = end


# ---------------------------------------------------------------- brackets

cdef void top_brackets(P* p, int* pair, int* stack) noexcept nogil:
    cdef const ucs* s = p.s
    cdef int end = p.end
    cdef int i, j, k, depth = 0
    cdef ucs c
    for i in range(end):
        pair[i] = -1
        p.top[i] = 0
    for i in range(end):
        c = s[i]
        if opener(c) >= 0:
            stack[depth] = i
            depth += 1
            continue
        k = closer(c)
        if k >= 0 and depth > 0 and s[stack[depth - 1]] == OPENERS[k]:
            depth -= 1
            pair[stack[depth]] = i
    i = 0
    while i < end:
        j = pair[i]
        if j >= 0:
            p.top[i] = j
            i = j + 1
            continue
        if isstar(s[i]):
            j = i + 1
            while j < end and j - i <= 24 and not isstar(s[j]) and pair[j] < 0:
                j += 1
            if j < end and isstar(s[j]) and j - i > 1:
                p.top[i] = -j
                i = j + 1
                continue
        i += 1


cdef int separator_mode(P* p) noexcept nogil:
    cdef const ucs* s = p.s
    cdef int space = 0, underscore = 0, dot = 0, plus = 0
    cdef int i = 0, j
    cdef ucs c
    while i < p.end:
        j = p.top[i]
        if j != 0:
            i = (j if j > 0 else -j) + 1
            continue
        c = s[i]
        if isspace_(c):
            space += 1
        elif c == 95:
            underscore += 1
        elif c == 46:
            dot += 1
        elif c == 43:
            plus += 1
        i += 1
    if space and space >= underscore and not (dot >= 3 and dot > 2 * space):
        return M_SPACE
    if underscore:
        return M_UNDERSCORE
    if dot:
        return M_DOT
    if plus:
        return M_PLUS
    return M_DASH


# ---------------------------------------------------------------- numbers

cdef struct Num:
    int next, value, nd, version, frac, fracdigits, part


cdef inline int digits_value(const ucs* s, int i, int j) noexcept nogil:
    cdef int v = 0
    while i < j:
        v = v * 10 + <int>(s[i] - 48)
        i += 1
    return v


cdef Num numpart(const ucs* s, int i, int end) noexcept nogil:
    cdef Num r
    cdef int j = i, k, nd
    while j < end and isdigit(s[j]):
        j += 1
    nd = j - i
    r.next = -1; r.value = 0; r.nd = 0; r.version = -1; r.frac = -1; r.fracdigits = 0; r.part = 0
    if nd == 0 or nd > MAX_DIGITS:
        return r
    r.value = digits_value(s, i, j)
    r.nd = nd
    if j + 1 < end and s[j] == 46 and isdigit(s[j + 1]):
        k = j + 1
        while k < end and isdigit(s[k]):
            k += 1
        if k - j - 1 <= 2:
            r.frac = digits_value(s, j + 1, k)
            r.fracdigits = k - j - 1
            j = k
    if j + 1 < end and (s[j] == 118 or s[j] == 86) and isdigit(s[j + 1]):
        k = j + 1
        while k < end and isdigit(s[k]) and k - j <= 2:
            k += 1
        if k == end or not isdigit(s[k]):
            r.version = digits_value(s, j + 1, k)
            j = k
    if (j < end and ((97 <= s[j] <= 99) or (65 <= s[j] <= 67)) and nd <= 4 and r.frac < 0
            and r.version < 0 and (j + 1 == end or not Py_UNICODE_ISALNUM(s[j + 1]))):
        r.part = s[j] if s[j] >= 97 else s[j] + 32
        j += 1
    r.next = j
    return r


cdef inline int digits(const ucs* s, int i, int end, int* value) noexcept nogil:
    cdef int j = i
    while j < end and isdigit(s[j]):
        j += 1
    if j == i or j - i > MAX_DIGITS:
        value[0] = 0
        return -1
    value[0] = digits_value(s, i, j)
    return j


cdef inline int cjk_digit(ucs c) noexcept nogil:
    """The value of a Chinese numeral digit (tables.CJK_DIGITS), -1 for anything else."""
    cdef int k
    for k in range(N_CJK_DIGITS):
        if CJK_DIGIT_CHARS[k] == c:
            return CJK_DIGIT_VALUES[k]
    return -1


cdef inline int cjk_digits(const ucs* s, int i, int end, int* value) noexcept nogil:
    """A Chinese numeral from 1 to 99 at i (二, 十, 十二, 二十三): the index after it, or -1."""
    cdef int j = i, v = 0, d
    if j < end:
        d = cjk_digit(s[j])
        if d >= 0:
            v = d
            j += 1
    if j < end and s[j] == 0x5341:  # 十
        v = (v if j > i else 1) * 10
        j += 1
        if j < end:
            d = cjk_digit(s[j])
            if d >= 0:
                v += d
                j += 1
    if j == i or v == 0:
        value[0] = 0
        return -1
    value[0] = v
    return j


cdef inline bint is_date8(const ucs* s, int i) noexcept nogil:
    cdef int y = digits_value(s, i, i + 4)
    cdef int m = digits_value(s, i + 4, i + 6)
    cdef int d = digits_value(s, i + 6, i + 8)
    return 1970 <= y <= 2099 and 1 <= m <= 12 and 1 <= d <= 31


# ---------------------------------------------------------------- classification

cdef Tok classify(const ucs* s, int ws, int we, int br) noexcept nogil:
    cdef int n = we - ws
    cdef ucs key[MAX_KEY + 1]
    cdef int kn = lowered(s, ws, we, key)
    cdef const Entry* v = vocab_key(key, kn)
    cdef ucs c0, c
    cdef int k, j, value, ndig, nhex, plen
    cdef Num r
    cdef Tok t
    if v != NULL:
        return mk(ws, we, br, v.cat, v.field, v.value, -1, -1, 0, 0, 0, WEAK if v.weak else 0)
    c0 = s[ws]
    if n == 8:
        ndig = 0
        nhex = 0
        for k in range(ws, we):
            if isdigit(s[k]):
                ndig += 1
            elif ishex(s[k]):
                nhex += 1
        if ndig + nhex == 8:
            if ndig == 8:
                if is_date8(s, ws):
                    return mk(ws, we, br, DATE)
                if br >= 0:
                    return mk(ws, we, br, CRC)
            elif ndig > 0:
                return mk(ws, we, br, CRC)
    if isdigit(c0):
        return classify_number(s, ws, we, br)
    if (c0 == 115 or c0 == 83) and n > 1 and isdigit(s[ws + 1]):
        return classify_season(s, ws, we, br)
    if (c0 == 118 or c0 == 86) and 1 < n <= 3:
        j = digits(s, ws + 1, we, &value)
        if j == we:
            return mk(ws, we, br, VERSION, value)
    if c0 == 0x300e and n > 2 and s[we - 1] == 0x300f:  # 『23』
        t = classify_episode(s, ws + 1, we - 1, ws, br)
        if t.cat != GONE:
            t.e = we
            return t
    if c0 == 35 and n > 1:  # "#05"
        t = classify_episode(s, ws + 1, we, ws, br)
        if t.cat != GONE:
            return t
    if n > 6 and kn >= 6 and key[0] == 115 and key[1] == 101 and key[2] == 97 and key[3] == 115 \
            and key[4] == 111 and key[5] == 110:  # "season1"
        j = digits(s, ws + 6, we, &value)
        if j == we:
            return mk(ws, we, br, SEASON, value)
    if c0 == 0x7b2c and n > 2:  # 第
        t = classify_di(s, ws, we, br)
        if t.cat != GONE:
            return t
    if kn > 1 and key[0] < 128 and TYPED_FIRST[key[0]]:
        for k in range(NTYPED):
            plen = TYPED_LEN[k]
            if kn > plen and isdigit(key[plen]):
                j = 0
                while j < plen and key[j] == TYPED_PREFIX[k][j]:
                    j += 1
                if j == plen:
                    r = numpart(s, ws + plen, we)
                    if r.next == we:
                        return mk(ws, we, br, TYPED, TYPED_KIND[k], r.value, r.version, r.frac,
                                  r.fracdigits, r.part, plen)
                    break
    elif kn < 0 and n > 5:
        # Too long for the lowered copy, but a long "ova123..." still needs checking.
        for k in range(NTYPED):
            plen = TYPED_LEN[k]
            if n > plen and isdigit(s[ws + plen]):
                j = 0
                while j < plen and _ascii_lower(s[ws + j]) == TYPED_PREFIX[k][j]:
                    j += 1
                if j == plen and _all_ascii(s, ws, we):
                    r = numpart(s, ws + plen, we)
                    if r.next == we:
                        return mk(ws, we, br, TYPED, TYPED_KIND[k], r.value, r.version, r.frac,
                                  r.fracdigits, r.part, plen)
                    break
    if (c0 == 101 or c0 == 69) and n > 1:  # e/E
        k = ws + 1
        if s[k] == 112 or s[k] == 80:
            k += 1
        if k < we and s[k] == 46:
            k += 1
        if k < we and isdigit(s[k]):
            t = classify_episode(s, k, we, ws, br)
            if t.cat != GONE:
                return t
    return word(s, ws, we, br)


cdef Tok classify_di(const ucs* s, int ws, int we, int br) noexcept nogil:
    """_parse_py._classify_di: 第5話, 第01-12话, 第06話V2版, 第2季."""
    cdef Num r = numpart(s, ws + 1, we)
    cdef int j = r.next, value = r.value, version = r.version, last = -1, j2, version2, k, v
    if j == -1:
        j = cjk_digits(s, ws + 1, we, &value)
        version = -1
    elif r.frac >= 0:
        return mk(0, 0, 0, GONE)
    if j < 0 or j >= we:
        return mk(0, 0, 0, GONE)
    if in_str(s[j], DI_SEASON):
        return mk(ws, we, br, SEASON, value) if j == we - 1 else mk(0, 0, 0, GONE)
    if in_str(s[j], RANGE_SEPS):
        if j + 1 < we and in_str(s[j + 1], RANGE_SEPS) and j + 2 < we:
            j += 1
        j2 = range_end(s, j, we, value, &last, &version2)
        if j2 < 0:
            return mk(0, 0, 0, GONE)
        j = j2
        if version < 0:
            version = version2
    if j < we and in_str(s[j], DI_EP):
        k = j + 1
        if version < 0 and k + 1 < we and (s[k] == 118 or s[k] == 86) and isdigit(s[k + 1]):
            if digits(s, k + 1, we, &v) > 0:
                version = v
        return mk(ws, we, br, EPNUM, value, last, version)
    return mk(0, 0, 0, GONE)


cdef int range_end(const ucs* s, int j, int we, int value, int* last, int* version,
                   const ucs* seps=RANGE_SEPS) noexcept nogil:
    """_parse_py._range_end: the index after a range going on at s[j], or -1; its last
    number and version in *last, *version."""
    cdef int k = -1, m
    cdef Num r2
    last[0] = value
    version[0] = -1
    while j + 1 < we and in_str(s[j], seps):
        m = j + 1
        if s[m] == 101 or s[m] == 69:
            m += 1
            if m < we and (s[m] == 112 or s[m] == 80):
                m += 1
        r2 = numpart(s, m, we)
        if r2.next < 0 or r2.frac >= 0 or r2.part != 0 or r2.value <= last[0]:
            break
        last[0] = r2.value
        version[0] = r2.version
        k = r2.next
        j = r2.next
    return k


cdef bint is_dmy_date(const ucs* s, int ws, int we) noexcept nogil:
    cdef int y
    cdef ucs c
    if we - ws != 10:
        return False
    c = s[ws + 4]
    if (c == 46 or c == 45 or c == 47) and s[ws + 7] == c:
        return digits(s, ws, ws + 4, &y) == ws + 4 and digits(s, ws + 5, ws + 7, &y) == ws + 7 \
            and digits(s, ws + 8, we, &y) == we
    c = s[ws + 2]
    if (c == 46 or c == 45 or c == 47) and s[ws + 5] == c:
        return digits(s, ws, ws + 2, &y) == ws + 2 and digits(s, ws + 3, ws + 5, &y) == ws + 5 \
            and digits(s, ws + 6, we, &y) == we
    return False


cdef bint episode_suffix(const ucs* s, int k, int we) noexcept nogil:
    """_parse_py._episode_suffix: "END", "Fin", "final", "TV", or a CJK 完全集话話."""
    if k >= we:
        return False
    if in_str(s[k], SUFFIX_CJK):
        return True
    return suffix_word(s, k, we, "end") or suffix_word(s, k, we, "fin") \
        or suffix_word(s, k, we, "final") or suffix_word(s, k, we, "tv")


cdef bint suffix_word(const ucs* s, int k, int we, const char* word) noexcept nogil:
    cdef int i = 0, m
    while word[i] != 0:
        if k + i >= we or _ascii_lower(s[k + i]) != <ucs>word[i]:
            return False
        i += 1
    m = k + i
    return m == we or s[m] >= 128 or s[m] == 95 or s[m] == 45


cdef int embedded_resolution(const ucs* s, int ws, int we) noexcept nogil:
    cdef int i = ws, j, value
    while i < we:
        if isdigit(s[i]):
            j = i
            while j < we and isdigit(s[j]):
                j += 1
            if 3 <= j - i <= 4 and j < we and (s[j] == 112 or s[j] == 80) and (
                    j + 1 == we or not isdigit(s[j + 1])):
                value = digits_value(s, i, j)
                if res_height(value):
                    return value
            i = j
        else:
            i += 1
    return 0


cdef Tok word(const ucs* s, int ws, int we, int br) noexcept nogil:
    """_parse_py._word: a word no rule claimed, unless it carries a resolution or a note."""
    cdef int height = embedded_resolution(s, ws, we), k, i, j
    if height:
        return mk(ws, we, br, RES, height)
    if not _all_ascii(s, ws, we):
        for k in range(N_NOISE_FRAG):
            for i in range(ws, we):
                j = 0
                while NOISE_FRAG[k][j] != 0 and i + j < we and s[i + j] == NOISE_FRAG[k][j]:
                    j += 1
                if NOISE_FRAG[k][j] == 0:
                    return mk(ws, we, br, TAG, F_NOISE, NOISE_VALUE)
    return mk(ws, we, br, WORD)


cdef inline ucs _ascii_lower(ucs c) noexcept nogil:
    return c + 32 if 65 <= c <= 90 else c


cdef inline bint _all_ascii(const ucs* s, int a, int b) noexcept nogil:
    cdef int i
    for i in range(a, b):
        if s[i] >= 128:
            return False
    return True


cdef Tok classify_episode(const ucs* s, int i, int we, int ws, int br) noexcept nogil:
    cdef Num r = numpart(s, i, we), r2
    cdef int k
    if r.next < 0:
        return mk(0, 0, 0, GONE)
    if r.next == we:
        return mk(ws, we, br, EPNUM, r.value, -1, r.version, r.frac, r.fracdigits, r.part)
    if (s[r.next] == 45 or s[r.next] == 126) and r.next + 1 < we and r.frac < 0:
        k = r.next + 1
        if s[k] == 101 or s[k] == 69:
            k += 1
            if k < we and (s[k] == 112 or s[k] == 80):
                k += 1
        r2 = numpart(s, k, we)
        if r2.next == we and r2.frac < 0 and r2.value > r.value and r2.part == 0:
            return mk(ws, we, br, EPNUM, r.value, r2.value,
                      r.version if r.version >= 0 else r2.version)
    return mk(0, 0, 0, GONE)


cdef Tok classify_season(const ucs* s, int ws, int we, int br) noexcept nogil:
    cdef int season, season2
    cdef int j = digits(s, ws + 1, we, &season), m
    cdef Tok t
    if j < 0 or j - ws - 1 > 4:
        return mk(ws, we, br, WORD)
    if j == we:
        return mk(ws, we, br, SEASON, season)
    if (s[j] == 115 or s[j] == 83) and j + 1 < we:
        m = digits(s, j + 1, we, &season2)
        if m == we and season2 > season:
            return mk(ws, we, br, SEASON, season, season2)
    if (s[j] == 101 or s[j] == 69 or s[j] == 120 or s[j] == 88) and j + 1 < we:
        m = j + 1
        if (s[j] == 120 or s[j] == 88) and (s[m] == 101 or s[m] == 69):
            m += 1
        t = season_episodes(s, ws, m, we, br, season)
        if t.cat != GONE:
            return t
    return mk(ws, we, br, WORD)


cdef Tok season_episodes(const ucs* s, int ws, int m, int we, int br, int season) noexcept nogil:
    """_parse_py._season_episodes (cat GONE for None)."""
    cdef Num r = numpart(s, m, we)
    cdef int k2, last, version2
    if r.next < 0 or r.frac >= 0 or r.part != 0:
        return mk(0, 0, 0, GONE)
    if r.next == we:
        return mk(ws, we, br, SEASONEP, season, r.value, -1, r.version)
    k2 = range_end(s, r.next, we, r.value, &last, &version2, CHAIN_SEPS)
    if k2 == we:
        return mk(ws, we, br, SEASONEP, season, r.value, last,
                  r.version if r.version >= 0 else version2)
    return mk(0, 0, 0, GONE)


cdef Tok classify_number(const ucs* s, int ws, int we, int br) noexcept nogil:
    cdef int y, k, v1, k2, v2, rest, m
    cdef Tok t
    cdef Num r, r2
    cdef ucs c
    if is_dmy_date(s, ws, we):
        return mk(ws, we, br, DATE)
    r = numpart(s, ws, we)
    if r.next == we or (r.next == we - 1 and s[r.next] == 46 and r.nd <= 3):
        return mk(ws, we, br, NUM, r.value, r.nd, r.version, r.frac, r.fracdigits, r.part)
    if r.next > 0 and r.frac < 0 and episode_suffix(s, r.next, we):
        return mk(ws, we, br, EPNUM, r.value, -1, r.version)
    k = digits(s, ws, we, &v1)
    if k < 0:
        return word(s, ws, we, br)
    c = s[k]
    rest = we - k
    if (c == 112 or c == 80 or c == 105 or c == 73) and rest == 1 and 3 <= k - ws <= 4:
        return mk(ws, we, br, RES, v1)
    if (c == 120 or c == 88 or c == 0xd7) and rest > 1:
        k2 = digits(s, k + 1, we, &v2)
        if k2 > 0 and 3 <= k - ws <= 4 and 3 <= k2 - k - 1 <= 4 and (
                k2 == we or (k2 + 1 == we and (s[k2] == 112 or s[k2] == 80 or s[k2] == 105
                                                or s[k2] == 73))):
            return mk(ws, we, br, RES, v2)
        if c != 0xd7 and (k - ws <= 2 or 1900 <= v1 <= 2099) and v1 >= 1:
            m = k + 1
            if s[m] == 101 or s[m] == 69:
                m += 1
            t = season_episodes(s, ws, m, we, br, v1)
            if t.cat != GONE and (k2 != we or 2 <= k2 - k - 1 <= 4):
                return t
    if rest == 2 and (lower_equals(s, k, we, "st") or lower_equals(s, k, we, "nd")
                      or lower_equals(s, k, we, "rd") or lower_equals(s, k, we, "th")):
        return mk(ws, we, br, ORDINAL, v1)
    if rest == 1 and in_str(c, EP_CJK):
        return mk(ws, we, br, EPNUM, v1, -1)
    if rest == 1 and in_str(c, SEASON_CJK):
        return mk(ws, we, br, SEASON, v1)
    if r.next > 0 and r.frac < 0 and r.part == 0:
        k2 = range_end(s, r.next, we, r.value, &v2, &m)
        if k2 == we:
            return mk(ws, we, br, RANGE, r.value, v2, r.version, m, r.nd)
        if k2 > 0 and episode_suffix(s, k2, we):
            return mk(ws, we, br, EPNUM, r.value, v2, r.version if r.version >= 0 else m)
    return word(s, ws, we, br)


# ---------------------------------------------------------------- tokens

cdef bint dot_splits(const ucs* s, int i, int end) noexcept nogil:
    cdef int k
    if 0 < i and i + 1 < end and isdigit(s[i - 1]) and isdigit(s[i + 1]):
        k = i + 1
        while k < end and isdigit(s[k]):
            k += 1
        return k - i - 1 > 2
    if 0 < i and i + 3 < end and (s[i - 1] == 104 or s[i - 1] == 72 or s[i - 1] == 120
                                  or s[i - 1] == 88) \
            and s[i + 1] == 50 and s[i + 2] == 54 and (s[i + 3] == 52 or s[i + 3] == 53):
        return False
    return True


cdef bint is_separator(const ucs* s, int i, int end, int mode, bint inside) noexcept nogil:
    cdef ucs c = s[i]
    if isspace_(c) or isstar(c):
        return True
    if opener(c) >= 0 or closer(c) >= 0:
        return True
    if inside:
        if in_str(c, INSIDE_SEPS):
            return True
        return c == 46 and dot_splits(s, i, end)
    if mode == M_SPACE:
        if c == 95:
            return not (0 < i < end - 1 and Py_UNICODE_ISALNUM(s[i - 1])
                        and Py_UNICODE_ISALNUM(s[i + 1]))
        return False
    if mode == M_UNDERSCORE:
        return c == 95
    if mode == M_DOT:
        return c == 95 or (c == 46 and dot_splits(s, i, end))
    if mode == M_PLUS:
        return c == 43
    return c == 45


cdef inline bint strong(const Tok* t) noexcept nogil:
    cdef int cat = t.cat
    if cat == WORD or cat == NUM or cat == DATE or cat == VERSION:
        return False
    if cat == TAG or cat == TYPED or cat == ORDINAL or cat == OF:
        return not (t.fl & WEAK)
    return True


cdef inline bint splittable(const ucs* s, int a, int b) noexcept nogil:
    """Whether a word holds a "-", "_" or "." (a word without them is one token)."""
    cdef int i
    for i in range(a, b):
        if s[i] == 45 or s[i] == 95 or s[i] == 46:
            return True
    return False


cdef void emit_word(P* p, int ws, int we, int br) noexcept nogil:
    cdef const ucs* s = p.s
    cdef int n = we - ws
    cdef int k, glued = 0, start, first
    cdef bint all_dash = True, strong_part = False
    cdef Tok t, u
    if n <= 0:
        return
    for k in range(ws, we):
        if not isdash(s[k]):
            all_dash = False
            break
    if all_dash or (n == 2 and s[ws] == 47 and s[ws + 1] == 47):
        if p.mode != M_DASH and n <= 2:  # "-", "--", "//"
            p.toks[p.ntok] = mk(ws, we, br, DASH)
            p.ntok += 1
        return
    if n == 1 and (s[ws] == 126 or s[ws] == 0x301c):
        p.toks[p.ntok] = mk(ws, we, br, TILDE)
        p.ntok += 1
        return
    if n == 1 and (s[ws] == 43 or s[ws] == 38):
        p.toks[p.ntok] = mk(ws, we, br, PLUS)
        p.ntok += 1
        return
    while ws < we and isdash(s[ws]):
        ws += 1
        glued = GLUED
    while we > ws and isdash(s[we - 1]):
        we -= 1
    t = classify(s, ws, we, br)
    t.fl |= glued
    if t.cat == WORD and p.mode != M_DASH and splittable(s, ws, we):
        # Split at "-", "_" and "." when a part is a tag or marker (01.DVD, x264-ESiR).
        first = p.ntok
        start = ws
        k = ws
        glued = 0
        while k <= we:
            if k < we and not (s[k] == 45 or s[k] == 95 or (s[k] == 46 and dot_splits(s, k, we))):
                k += 1
                continue
            if k > start:
                u = classify(s, start, k, br)
                u.fl |= glued
                if strong(&u) or (k == we and glued and p.ntok > first
                                  and glued_episode(&u, &p.toks[p.ntok - 1])):
                    strong_part = True
                p.toks[p.ntok] = u
                p.ntok += 1
            glued = GLUED if k < we and s[k] == 45 else 0
            start = k + 1
            k += 1
        if strong_part and p.ntok - first >= 2:
            p.toks[first].fl |= t.fl & GLUED
            return
        p.ntok = first
    p.toks[p.ntok] = t
    p.ntok += 1


cdef inline bint glued_episode(const Tok* t, const Tok* prev) noexcept nogil:
    """_parse_py._glued_episode: "Title-08"."""
    return t.cat == NUM and 2 <= t.b <= 4 and not is_year(t) and prev.cat == WORD


cdef void split_segment(P* p, int a, int b, int br) noexcept nogil:
    cdef int i, ws = a
    cdef bint inside = br >= 0
    cdef ucs c
    for i in range(a, b):
        c = p.s[i]
        if (97 <= c <= 122) or (65 <= c <= 90) or (48 <= c <= 57):
            continue  # letters and digits never separate words
        if is_separator(p.s, i, p.end, p.mode, inside):
            emit_word(p, ws, i, br)
            ws = i + 1
    emit_word(p, ws, b, br)


cdef void tokenize(P* p) noexcept nogil:
    cdef int pos = 0, nbr = 0, o = 0, j
    p.ntok = 0
    while o < p.end:
        j = p.top[o]
        if j == 0:
            o += 1
            continue
        split_segment(p, pos, o, -1)
        if j < 0:
            pos = -j + 1
            o = pos
            continue
        p.toks[p.ntok] = mk(o, o + 1, nbr, OPEN)
        p.ntok += 1
        split_segment(p, o + 1, j, nbr)
        p.toks[p.ntok] = mk(j, j + 1, nbr, CLOSE)
        p.ntok += 1
        nbr += 1
        pos = j + 1
        o = pos
    split_segment(p, pos, p.end, -1)


# ---------------------------------------------------------------- combining tokens

cdef inline void absorb(Tok* t, const Tok* u, int cat) noexcept nogil:
    t.cat = cat
    t.e = u.e
    t.fl &= ~WEAK


cdef inline bint res_height(int v) noexcept nogil:
    return v == 360 or v == 480 or v == 540 or v == 576 or v == 720 or v == 1080 \
        or v == 1440 or v == 2160


cdef const Entry* pair_entry(const ucs* s, const Tok* t, const Tok* u) noexcept nogil:
    cdef ucs key[2 * MAX_KEY + 2]
    cdef int n1, n2
    cdef ucs c0 = _ascii_lower(s[t.s])
    if c0 >= 128 or not PAIR_FIRST[c0]:
        return NULL  # no two-word tag starts with this letter
    n1 = lowered(s, t.s, t.e, key)
    if n1 < 0:
        return NULL
    key[n1] = 0
    n2 = lowered(s, u.s, u.e, &key[n1 + 1])
    if n2 < 0:
        return NULL
    return find(&PAIRS, key, n1 + 1 + n2)


cdef void chain_season_episodes(P* p, int i) noexcept nogil:
    """_parse_py._chain_season_episodes: " - 02x04 - x15" after a SEASONEP."""
    cdef Tok* toks = p.toks
    cdef Tok* t = &toks[i]
    cdef Tok* w
    cdef int n = p.ntok, j = i + 1, last, ep, k, value
    while j + 1 < n and toks[j].cat == DASH and toks[j + 1].br < 0:
        w = &toks[j + 1]
        last = t.c if t.c >= 0 else t.b
        ep = -1
        if w.cat == SEASONEP and w.a == t.a and w.c < 0:
            ep = w.b
        elif w.cat == WORD and (p.s[w.s] == 120 or p.s[w.s] == 88):
            k = digits(p.s, w.s + 1, w.e, &value)
            if k == w.e:
                ep = value
        if ep <= last:
            return
        t.c = ep
        t.e = w.e
        toks[j].cat = GONE
        toks[j + 1].cat = GONE
        j += 2


cdef void combine(P* p) noexcept nogil:
    cdef Tok* toks = p.toks
    cdef int n = p.ntok, i, k
    cdef Tok* t
    cdef Tok* u
    cdef Tok* w
    cdef int cat
    cdef const Entry* v
    for i in range(n - 1):
        t = &toks[i]
        u = &toks[i + 1]
        cat = t.cat
        if t.br != u.br:
            continue
        w = &toks[i + 2] if i + 2 < n else NULL
        if cat == EPWORD and (u.cat == NUM or u.cat == RANGE):
            absorb(t, u, EPNUM)
            if u.cat == RANGE:
                t.a = u.a; t.b = u.b; t.c = u.c
            else:
                t.a = u.a; t.b = -1; t.c = u.c; t.d = u.d; t.x = u.x; t.f = u.f
            u.cat = GONE
        elif cat == SEASONWORD and u.cat == NUM and u.d < 0 and (i == 0 or not t.fl & WEAK):
            absorb(t, u, SEASON)
            t.a = u.a
            u.cat = GONE
        elif cat == SEASONWORD and u.cat == RANGE:
            absorb(t, u, SEASON)
            t.a = u.a; t.b = u.b
            u.cat = GONE
        elif cat == ORDINAL and u.cat == SEASONWORD:
            absorb(t, u, SEASON)
            u.cat = GONE
        elif cat == VOLWORD and (u.cat == NUM or u.cat == RANGE):
            absorb(t, u, VOLUME)
            t.c = u.c
            u.cat = GONE
        elif cat == NUM and u.cat == OF and w != NULL and w.cat == NUM and w.br == t.br \
                and t.d < 0 and t.a <= w.a:
            t.cat = EPNUM
            t.b = -1
            t.e = w.e
            u.cat = GONE
            w.cat = GONE
        elif cat == EPNUM and u.cat == TILDE and w != NULL and w.cat == EPNUM and w.br == t.br \
                and t.b < 0 and w.b < 0 and t.a < w.a:
            t.b = w.a
            t.e = w.e
            u.cat = GONE
            w.cat = GONE
        elif cat == SEASONEP and u.cat == DASH and w != NULL and t.br < 0:
            chain_season_episodes(p, i)
        elif cat == NUM and u.cat == SEASONWORD and t.d < 0 and p.s[t.e] == 46:
            absorb(t, u, SEASON)
            u.cat = GONE
        elif cat == NUM and u.cat == TILDE and w != NULL and w.cat == NUM and w.br == t.br \
                and t.d < 0 and w.d < 0 and t.a < w.a:
            t.cat = RANGE
            t.x = t.b
            t.b = w.a
            t.d = w.c
            t.e = w.e
            u.cat = GONE
            w.cat = GONE
        elif (cat == WORD or cat == TAG) and u.cat != GONE:
            v = pair_entry(p.s, t, u)
            if v != NULL:
                t.cat = v.cat; t.a = v.field; t.b = v.value; t.fl = 0
                u.cat = TAG; u.a = F_NOISE; u.b = NOISE_VALUE; u.fl = 0
        elif cat == NUM and u.cat == TAG and not (u.fl & WEAK) and res_height(t.a) \
                and t.b >= 3 and t.c < 0 and t.d < 0 and u.a != F_NOISE:
            t.cat = RES
        elif cat == NUM and u.cat == TAG and (lower_equals(p.s, u.s, u.e, "bit")
                                              or lower_equals(p.s, u.s, u.e, "bits")):
            t.cat = TAG; t.a = F_NOISE; t.b = NOISE_VALUE; t.fl = 0
    k = 0
    for i in range(n):
        if toks[i].cat != GONE:
            toks[k] = toks[i]
            k += 1
    p.ntok = k


# ---------------------------------------------------------------- brackets as units

cdef inline bint is_year(const Tok* t) noexcept nogil:
    return t.cat == NUM and t.b == 4 and 1900 <= t.a <= 2099 and t.d < 0 and t.c < 0 and t.f == 0


cdef inline bint is_tag(const Tok* t) noexcept nogil:
    cdef int cat = t.cat
    return (cat == TAG or cat == RES or cat == CRC or cat == DATE or cat == VERSION
            or cat == VOLUME or (cat == TYPED and t.a == K_TV))


cdef int bracket_class(const P* p, int o, int* close) noexcept nogil:
    cdef const Tok* toks = p.toks
    cdef int n = p.ntok
    cdef int words = 0, tags = 0, weak = 0, nums = 0, years = 0
    cdef int i = o + 1
    cdef const Tok* t
    while i < n and toks[i].cat != CLOSE:
        t = &toks[i]
        if is_tag(t):
            if t.fl & WEAK:
                weak += 1
            else:
                tags += 1
        elif is_year(t):
            years += 1
        elif t.cat == NUM or t.cat == RANGE or t.cat == EPNUM or t.cat == SEASONEP \
                or t.cat == SEASON or (t.cat == TYPED and t.g > 0):
            nums += 1
        elif t.cat != DASH and t.cat != PLUS and t.cat != TILDE:
            words += 1
        i += 1
    close[0] = i
    if words:
        return B_MIXED if tags or nums or years else B_TEXT
    if nums:
        return B_NUM
    if years:
        return B_YEAR if years == 1 and not tags and not weak else B_TAGS
    if tags:
        return B_TAGS
    if weak:
        return B_WEAK
    if i == o + 1 and i < n and toks[i].s > toks[o].e:
        return B_TEXT
    return B_EMPTY


cdef inline bint has_char(const ucs* s, int a, int b, ucs c) noexcept nogil:
    cdef int i
    for i in range(a, b):
        if s[i] == c:
            return True
    return False


# ---------------------------------------------------------------- the rules

cdef inline bint boundary(const Tok* t) noexcept nogil:
    cdef int cat = t.cat
    if cat == TAG:
        return not (t.fl & WEAK) or t.br >= 0
    if cat == TYPED:
        return t.g > 0 or (t.a == K_TV and t.br >= 0)
    return (cat == RES or cat == CRC or cat == DATE or cat == VERSION or cat == VOLUME
            or cat == SEASONEP or cat == SEASON or cat == EPNUM or cat == VOLWORD)


cdef inline int skip_bracket(const P* p, int i) noexcept nogil:
    cdef int br = p.toks[i].br
    while i < p.ntok and not (p.toks[i].cat == CLOSE and p.toks[i].br == br):
        i += 1
    return i + 1


cdef inline bint titleish(const Tok* t) noexcept nogil:
    cdef int cat = t.cat
    return t.br < 0 and (cat == WORD or cat == NUM or cat == RANGE or cat == ORDINAL or cat == OF
                         or cat == EPWORD or cat == SEASONWORD or cat == PLUS or cat == TILDE
                         or (cat == TYPED and t.g == 0)
                         or (cat == TAG and (t.fl & WEAK) != 0))


cdef bint lone_number_title(const P* p, int k) noexcept nogil:
    cdef const Tok* t = &p.toks[k]
    if t.cat != NUM or is_year(t):
        return False
    return k + 1 >= p.ntok or p.toks[k + 1].cat == OPEN or boundary(&p.toks[k + 1])


cdef int find_leading_group(P* p) noexcept nogil:
    cdef const Tok* toks = p.toks
    cdef int n = p.ntok
    cdef int i = 0, after, cls, close, k, j
    if n > 2 and toks[0].br < 0 and (toks[0].cat == NUM or toks[0].cat == WORD) \
            and toks[1].cat == OPEN:
        after = skip_bracket(p, 1)
        if after < n and titleish(&toks[after]) and toks[after].cat == WORD:
            i = 1
    if i >= n or toks[i].cat != OPEN:
        return i
    cls = bracket_class(p, i, &close)
    if cls != B_TEXT and cls != B_MIXED and cls != B_WEAK or typed_only(p, i, close):
        return i
    k = i
    while k < n and toks[k].cat == OPEN:
        k = skip_bracket(p, k)
    while k < n and toks[k].cat == DASH:
        k += 1
    if k < n and titleish(&toks[k]) and not lone_number_title(p, k):
        p.group_br = toks[i].br
        p.group_a = toks[i].e
        p.group_b = toks[close].s
        j = skip_bracket(p, i)
        while j < n and toks[j].cat == OPEN:
            j = skip_bracket(p, j)
        return j
    return i


cdef bint later_number(const P* p, int i) noexcept nogil:
    cdef int cat
    while i < p.ntok:
        cat = p.toks[i].cat
        if cat == NUM or cat == RANGE or cat == EPNUM or cat == SEASONEP:
            return True
        i += 1
    return False


cdef bint dash_number_after(const P* p, int i) noexcept nogil:
    cdef const Tok* toks = p.toks
    while i + 1 < p.ntok:
        if toks[i].cat == DASH and toks[i].br < 0 and (toks[i + 1].cat == NUM
                                                       or toks[i + 1].cat == RANGE) \
                and toks[i + 1].br < 0:
            return True
        i += 1
    return False


cdef bint typed_only(const P* p, int o, int close) noexcept nogil:
    """_parse_py._typed_only: "[Movie]", "[劇場版]", "[TV+OVA]"."""
    cdef int k, cat
    if close <= o + 1:
        return False
    for k in range(o + 1, close):
        cat = p.toks[k].cat
        if not ((cat == TYPED and p.toks[k].g == 0 and p.toks[k].a != K_EXTRA) or cat == PLUS):
            return False
    return True


cdef void find_episode(P* p, int first) noexcept nogil:
    cdef const Tok* toks = p.toks
    cdef int n = p.ntok
    cdef int gb = p.group_br
    cdef int i, j, k, cat, last_num, lead_zero, words, run_end, cls, close
    cdef const Tok* t
    cdef const Tok* u
    cdef const Tok* prev
    cdef bint any_title
    for i in range(first, n):
        t = &toks[i]
        if t.br >= 0 and t.br == gb:
            continue
        cat = t.cat
        if cat == EPNUM or cat == SEASONEP or (cat == TYPED and t.g > 0):
            p.ep = i
            return
    for i in range(first, n):
        t = &toks[i]
        if t.br >= 0 and t.br == gb:
            continue
        cat = t.cat
        if (cat == SEASON and t.br < 0) or (cat == CLOSE and is_year(&toks[i - 1])
                                            and toks[i - 2].cat == OPEN):
            j = i + 1
            if j < n and toks[j].cat == DASH:
                j += 1
            if j < n and toks[j].br < 0 and (toks[j].cat == NUM or toks[j].cat == RANGE) \
                    and not is_year(&toks[j]):
                p.ep = j
                return
    k = first
    if k < n and (toks[k].cat == NUM or toks[k].cat == RANGE) and toks[k].br < 0 and k + 2 < n \
            and toks[k + 1].cat == DASH and titleish(&toks[k + 2]) \
            and toks[k + 2].cat != NUM and toks[k + 2].cat != RANGE and toks[k + 2].cat != DASH \
            and not is_year(&toks[k]):
        p.ep = k
        return
    if k == 0 and n > 1 and toks[0].cat == NUM and toks[0].br < 0 and toks[0].b <= 3 \
            and toks[0].d < 0 and (p.s[toks[0].s + toks[0].b] == 46 or p.s[toks[0].s + toks[0].b] == 45) \
            and (toks[1].cat == WORD or toks[1].cat == EPWORD) and toks[1].br < 0 \
            and not later_number(p, 1):
        p.ep = 0
        return
    if 0 < k < n - 1 and toks[k].cat == NUM and toks[k].br < 0 and toks[k].b >= 2 \
            and p.s[toks[k].s] == 48 and toks[k].d < 0 and toks[k + 1].cat == WORD:
        p.ep = k
        return
    if first == 0 and n and toks[0].cat == NUM and not is_year(&toks[0]):
        any_title = False
        for i in range(1, n):
            if titleish(&toks[i]):
                any_title = True
                break
        if not any_title:
            p.ep = 0
            return
    for i in range(first + 1, n):
        t = &toks[i]
        if t.br < 0 and (t.cat == NUM or t.cat == RANGE) and (
                (toks[i - 1].cat == DASH and toks[i - 1].br < 0 and i - 1 > first)
                or (t.fl & GLUED and toks[i - 1].cat == WORD and toks[i - 1].e + 1 == t.s)):
            if i + 1 < n and toks[i + 1].cat == WORD and dash_number_after(p, i + 2):
                continue
            p.ep = i
            if t.cat == NUM and i + 3 < n and toks[i + 1].cat == OPEN and toks[i + 2].cat == NUM \
                    and toks[i + 3].cat == CLOSE and toks[i + 2].a < t.a \
                    and not is_year(&toks[i + 2]):
                p.ep = i + 2
                p.stop = i - 1
            return
    last_num = -1
    lead_zero = -1
    words = 0
    i = first
    while i < n:
        t = &toks[i]
        if t.cat == OPEN:
            cls = bracket_class(p, i, &close)
            if cls == B_TEXT and close + 1 < n and titleish(&toks[close + 1]):
                i = close + 1
                words += 1
                continue
            break
        if not titleish(t) and t.cat != DASH:
            break
        if t.cat == NUM or t.cat == RANGE:
            if words and lead_zero < 0 and t.cat == NUM and t.b >= 2 and p.s[t.s] == 48 \
                    and t.d < 0:
                lead_zero = i
            last_num = i if words else -1
        elif t.cat != DASH:
            words += 1
            last_num = -1
        i += 1
    run_end = i
    if last_num >= 0 and run_end < n and toks[run_end].cat == OPEN \
            and p.s[toks[run_end].s] != 40 and bracket_class(p, run_end, &close) == B_NUM:
        last_num = -1
        lead_zero = -1
    if last_num >= 0 and last_num == run_end - 1:
        t = &toks[last_num]
        prev = &toks[last_num - 1]
        if not is_year(t) and not (prev.cat == TYPED and prev.a == K_MOVIE) \
                and prev.cat != DASH and prev.cat != PLUS \
                and not lower_equals(p.s, prev.s, prev.e, "part") \
                and not lower_equals(p.s, prev.s, prev.e, "pt"):
            p.ep = last_num
            return
    if lead_zero >= 0:
        p.ep = lead_zero
        return
    i = first
    while i < n:
        t = &toks[i]
        if t.cat == OPEN and t.br != gb:
            cls = bracket_class(p, i, &close)
            if cls == B_NUM:
                for j in range(i + 1, close):
                    u = &toks[j]
                    if (u.cat == NUM or u.cat == RANGE) and not (
                            u.cat == NUM and res_height(u.a) and u.b >= 3):
                        p.ep = j
                        return
            i = close + 1
            continue
        i += 1
    for i in range(first, n):
        t = &toks[i]
        if t.br < 0 and t.cat == WORD:
            return
        if t.br < 0 and (t.cat == NUM or t.cat == RANGE) and not is_year(t) and i > first \
                and not (t.cat == NUM and res_height(t.a) and t.b >= 3):
            p.ep = i
            return
        if t.br < 0 and t.cat == NUM and i == first and lone_number_title(p, i) and first > 0:
            p.ep = i
            return


cdef bint next_is_title(const P* p, int i, int ep) noexcept nogil:
    if i >= p.ntok:
        return False
    if i == ep:
        return True
    if p.toks[i].cat == DASH and i + 1 < p.ntok:
        i += 1
        if i == ep:
            return False
    return titleish(&p.toks[i]) and p.toks[i].cat != DASH


cdef inline bint before_episode(const P* p, int i, int ep) noexcept nogil:
    return i == ep or (i + 1 == ep and p.toks[i].cat == DASH)


cdef int roman(const ucs* s, int a, int b) noexcept nogil:
    cdef int n = b - a
    if n == 1 and s[a] == 86:
        return 5
    if n == 2 and s[a] == 73 and s[a + 1] == 73:
        return 2
    if n == 2 and s[a] == 73 and s[a + 1] == 86:
        return 4
    if n == 2 and s[a] == 86 and s[a + 1] == 73:
        return 6
    if n == 3 and s[a] == 73 and s[a + 1] == 73 and s[a + 2] == 73:
        return 3
    return 0


cdef void find_title(P* p, int first) noexcept nogil:
    cdef const Tok* toks = p.toks
    cdef int n = p.ntok
    cdef const ucs* s = p.s
    cdef int i = first, ep = p.ep, a, b, cat, cls, close, k, r, close2
    cdef bint glued
    cdef const Tok* t
    if first >= n:
        return
    if ep == first and toks[ep].br < 0:
        title_after_leading_episode(p)
        return
    if toks[i].cat == OPEN and p.group_br < 0:
        cls = bracket_class(p, i, &close)
        if (cls == B_TAGS or cls == B_NUM or cls == B_YEAR or typed_only(p, i, close)) \
                and close + 1 < n and toks[close + 1].cat == WORD:
            first = close + 1
            i = first
        else:
            bracket_title(p, first)
            return
    a = toks[i].s
    b = -1
    while i < n:
        t = &toks[i]
        cat = t.cat
        if cat == TYPED and t.g > 0:
            break
        if i == ep or i == p.stop or (cat == DASH and i + 1 == ep
                                      and not (toks[ep].cat == TYPED and b >= 0)):
            break
        if cat == DASH and b >= 0 and i + 1 < n and toks[i + 1].cat == NUM \
                and toks[i + 1].br < 0 and (i + 2 >= n or not titleish(&toks[i + 2])):
            break
        if cat == OPEN:
            cls = bracket_class(p, i, &close)
            glued = t.s > 0 and Py_UNICODE_ISALNUM(s[t.s - 1])
            if b >= 0 and ((cls == B_TEXT and (glued or next_is_title(p, close + 1, ep)))
                           or (cls == B_WEAK and before_episode(p, close + 1, ep))):
                b = toks[close].e
                i = close + 1
                continue
            break
        if cat == SEASON and i + 2 < n and toks[i + 1].cat == WORD and toks[i + 1].br < 0 \
                and toks[i + 1].e == toks[i + 1].s + 1 and s[toks[i + 1].s] == 47 \
                and titleish(&toks[i + 2]):
            b = t.e
            i += 1
            continue
        if boundary(t):
            break
        if is_year(t) and b >= 0 and i + 1 < n and (boundary(&toks[i + 1]) or (
                toks[i + 1].cat == OPEN and bracket_class(p, i + 1, &close2) != B_TEXT)):
            break
        if cat == SEASON or cat == SEASONEP:
            break
        if not titleish(t) and cat != DASH:
            break
        if cat == TYPED and t.a != K_TV and not p.kind:
            if i == first:
                if t.a == K_MOVIE and titleish_word(p, i + 1, ep):
                    p.kind = t.a
                    p.xtype = i
                    i += 1
                    a = toks[i].s if toks[i].cat != DASH else toks[i + 1].s
                    continue
            elif type_ends_title(p, i, ep):
                p.kind = t.a
                p.xtype = i
                type_episode_title(p, i + 1)
                break
            else:
                p.kind = t.a
        if cat != DASH:
            b = t.e
        i += 1
    if b > a and ep >= 2 and toks[ep - 1].cat == DASH and (toks[ep].cat == NUM
                                                            or toks[ep].cat == RANGE) \
            and ep - 2 > first and toks[ep - 2].cat == WORD and toks[ep - 2].e == b:
        r = roman(s, toks[ep - 2].s, b)
        if r:
            p.season = r
            b = toks[ep - 3].e
    if b > a:
        p.title_a = a
        p.title_b = b
    elif ep >= 0 and toks[ep].br < 0:
        title_after_leading_episode(p)


cdef bint titleish_word(const P* p, int i, int ep) noexcept nogil:
    if i < p.ntok and p.toks[i].cat == DASH:
        i += 1
    return i < p.ntok and i != ep and (p.toks[i].cat == WORD or p.toks[i].cat == NUM) \
        and p.toks[i].br < 0


cdef bint type_ends_title(const P* p, int i, int ep) noexcept nogil:
    cdef const Tok* toks = p.toks
    cdef int n = p.ntok, j = i + 1
    if j < n and toks[j].cat == DASH:
        j += 1
        return j >= n or toks[j].cat != TYPED
    return j >= n or j == ep or not ((toks[j].cat == WORD or toks[j].cat == NUM
                                      or toks[j].cat == RANGE) and toks[j].br < 0)


cdef void type_episode_title(P* p, int i) noexcept nogil:
    cdef const Tok* toks = p.toks
    cdef int n = p.ntok, last = -1, j
    if i < n and toks[i].cat == DASH:
        i += 1
    j = i
    while j < n and j != p.ep and titleish(&toks[j]) and toks[j].cat != TYPED:
        if toks[j].cat != DASH:
            last = j
        j += 1
    if last >= 0 and toks[i].cat == WORD:
        p.eptitle_a = toks[i].s
        p.eptitle_b = toks[last].e


cdef int type_value(const P* p, const Tok* t) noexcept nogil:
    """_parse_py._type_value, as an index into VALUES."""
    cdef ucs key[MAX_KEY + 1]
    cdef const Entry* e
    if t.g > 0:
        e = find(&VOCAB, key, lowered(p.s, t.s, t.s + t.g, key))
        return e.value if e != NULL else -1
    return t.b


cdef int run_end(const P* p, int i) noexcept nogil:
    cdef int start = i
    cdef const Tok* t
    while i < p.ntok:
        t = &p.toks[i]
        if t.cat == DASH or (titleish(t) and not (t.cat == TYPED) and not (
                i == start and t.cat == TAG and (t.fl & WEAK))):
            i += 1
            continue
        break
    return i


cdef void title_after_leading_episode(P* p) noexcept nogil:
    cdef const Tok* toks = p.toks
    cdef int n = p.ntok
    cdef int i = p.ep + 1, j, last, k
    cdef bint dashed = False
    if i < n and toks[i].cat == DASH:
        dashed = True
        i += 1
    elif i < n and toks[i].fl & GLUED:
        dashed = True
    if i >= n or not titleish(&toks[i]) or toks[i].cat == DASH:
        return
    j = run_end(p, i)
    last = j - 1
    while last >= i and toks[last].cat == DASH:
        last -= 1
    if last < i:
        return
    if not dashed:
        p.title_a = toks[i].s
        p.title_b = toks[last].e
        return
    for k in range(i + 1, last):
        if toks[k].cat == DASH:
            p.title_a = toks[i].s
            p.title_b = toks[k - 1].e
            p.eptitle_a = toks[k + 1].s
            p.eptitle_b = toks[last].e
            return
    if p.group_br >= 0:
        p.title_a = toks[i].s
        p.title_b = toks[last].e
    else:
        p.eptitle_a = toks[i].s
        p.eptitle_b = toks[last].e


cdef bint contains_lower(const ucs* key, int n, const char* w) noexcept nogil:
    cdef int m = 0, i, j
    while w[m] != 0:
        m += 1
    for i in range(n - m + 1):
        j = 0
        while j < m and key[i + j] == <ucs>w[j]:
            j += 1
        if j == m:
            return True
    return False


cdef bint groupish(const ucs* s, int a, int b) noexcept nogil:
    cdef ucs* key
    cdef int n = b - a, i
    cdef bint ascii = True, r
    if n <= 0:
        return False
    key = <ucs*>PyMem_RawMalloc(n * sizeof(ucs))
    if key == NULL:
        return False
    for i in range(n):
        if s[a + i] >= 128:
            ascii = False
            break
    for i in range(n):
        key[i] = _ascii_lower(s[a + i]) if ascii else s[a + i]
    r = (contains_lower(key, n, "raws") or contains_lower(key, n, "subs")
         or (n >= 3 and key[n - 3] == 115 and key[n - 2] == 117 and key[n - 1] == 98)
         or contains_lower(key, n, "fansub") or contains_lower(key, n, "team")
         or contains_lower(key, n, "-") or contains_lower(key, n, "&"))
    PyMem_RawFree(key)
    return r


cdef extern from "Python.h":
    void* PyMem_RawMalloc(size_t n) nogil
    void PyMem_RawFree(void* p) nogil


cdef int content_mode(const ucs* s, int a, int b) noexcept nogil:
    if has_char(s, a, b, 32):
        return M_SPACE
    if has_char(s, a, b, 95):
        return M_UNDERSCORE
    if has_char(s, a, b, 46):
        return M_DOT
    return M_SPACE


cdef void bracket_title(P* p, int first) noexcept nogil:
    cdef const Tok* toks = p.toks
    cdef int n = p.ntok
    cdef const ucs* s = p.s
    cdef int limit = p.ep if p.ep >= 0 else n
    cdef int i = first, cls, close, j, last, k, free = -1
    cdef int ncand = 0
    # candidates: the first and the last two are all the rules look at
    cdef int c0_br = 0, c0_a = 0, c0_b = 0, cl_br = 0, cl_a = 0, cl_b = 0
    cdef const Tok* t
    while i < limit:
        t = &toks[i]
        if t.cat == OPEN:
            cls = bracket_class(p, i, &close)
            if (cls == B_TEXT or cls == B_MIXED) and i + 1 < close and not is_tag(&toks[i + 1]) \
                    and not typed_only(p, i, close):
                j = i + 1
                last = -1
                while j < close and not is_tag(&toks[j]) and not boundary(&toks[j]):
                    last = j
                    j += 1
                if last >= 0 and (p.ep < 0 or not (i < p.ep < close)):
                    if ncand == 0:
                        c0_br = t.br; c0_a = toks[i + 1].s; c0_b = toks[last].e
                    cl_br = t.br; cl_a = toks[i + 1].s; cl_b = toks[last].e
                    ncand += 1
            i = close + 1
            continue
        i += 1
    if ncand == 0:
        return
    for k in range(first, limit):
        if toks[k].br < 0 and (toks[k].cat == NUM or toks[k].cat == WORD) and k != p.ep:
            free = k
            break
    if ncand == 1 and free < 0 and p.ep >= 0 and toks[p.ep].br < 0 \
            and groupish(s, c0_a, c0_b):
        free = p.ep
        p.ep = -1
    if ncand >= 2 or (free >= 0 and groupish(s, c0_a, c0_b)):
        p.group_br = c0_br
        p.group_a = c0_a
        p.group_b = c0_b
        if free >= 0 and ncand == 1:
            p.title_a = toks[free].s
            p.title_b = toks[free].e
            p.title_mode = p.mode
            return
    p.title_a = cl_a
    p.title_b = cl_b
    p.title_mode = content_mode(s, cl_a, cl_b)


cdef void find_episode_title(P* p) noexcept nogil:
    cdef const Tok* toks = p.toks
    cdef int n = p.ntok
    cdef int ep = p.ep, i, j, last, b
    cdef const Tok* t
    if ep < 0 or p.eptitle_a >= 0 or toks[ep].br >= 0:
        return
    if p.title_b < 0 or toks[ep].s < p.title_b:
        return
    i = ep + 1
    if i < n and toks[i].cat == DASH:
        i += 1
    if i >= n or toks[i].cat != WORD:
        return
    j = i
    last = -1
    while j < n:
        t = &toks[j]
        if t.cat == DASH:
            j += 1
            continue
        if not titleish(t) or (t.cat == TYPED and j == i):
            break
        last = j
        j += 1
    if last < 0:
        return
    b = toks[last].e
    if p.mode == M_DOT and b + 1 < p.end and p.s[b] == 46 and p.s[b + 1] == 46:
        while b + 1 < p.end and p.s[b + 1] == 46:
            b += 1
    p.eptitle_a = toks[i].s
    p.eptitle_b = b


cdef bint comma_in(const ucs* s, int a, int b) noexcept nogil:
    return has_char(s, a, b, 44)


cdef void find_trailing_group(P* p) noexcept nogil:
    cdef const Tok* toks = p.toks
    cdef int n = p.ntok
    cdef const ucs* s = p.s
    cdef int after = p.title_b if p.title_b > p.eptitle_b else p.eptitle_b
    cdef int i = 0, cls, close, j, last, k
    cdef const Tok* t
    cdef const Tok* prev
    while i < n:
        t = &toks[i]
        if t.cat == OPEN:
            cls = bracket_class(p, i, &close)
            if t.s >= after and not (i < p.ep < close):
                if cls == B_TEXT and i + 1 < close:
                    p.group_br = t.br
                    p.group_a = t.e
                    p.group_b = toks[close].s
                    return
                if cls == B_MIXED and comma_in(s, t.e, toks[close].s) and not is_tag(&toks[i + 1]):
                    j = i + 1
                    while j < close and not is_tag(&toks[j]) \
                            and not comma_in(s, toks[j].s, toks[j].e + 1):
                        j += 1
                    last = j if j < close and not is_tag(&toks[j]) else j - 1
                    p.group_br = t.br
                    p.group_a = toks[i + 1].s
                    p.group_b = toks[last].e
                    return
            i = close + 1
            continue
        i += 1
    k = n - 1
    while k >= 0 and (toks[k].br >= 0 or toks[k].cat == VERSION):
        k -= 1
    if k <= 0 or k == p.ep:
        return
    t = &toks[k]
    if t.cat != WORD or t.s < after or t.s < p.title_b:
        return
    prev = &toks[k - 1]
    if t.fl & GLUED or (prev.cat == DASH and prev.br < 0):
        p.group_a = t.s
        p.group_b = t.e


cdef void run_rules(P* p, int* pair, int* stack) noexcept nogil:
    cdef int first
    split_extension(p)
    top_brackets(p, pair, stack)
    p.mode = separator_mode(p)
    p.title_mode = p.mode
    tokenize(p)
    combine(p)
    p.group_br = -1
    p.group_a = p.group_b = -1
    p.ep = -1
    p.title_a = p.title_b = -1
    p.eptitle_a = p.eptitle_b = -1
    p.season = 0
    p.kind = 0
    p.xtype = -1
    p.stop = -1
    first = find_leading_group(p)
    find_episode(p, first)
    find_title(p, first)
    find_episode_title(p)
    if p.group_br < 0:
        find_trailing_group(p)


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
DEF STR_SLOTS = 512
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

DEF MAX_OTHER = 24
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
    cdef object value, title, group, eptitle, res, extra_type
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
        if cat == SEASON and season is None:
            season = t.a
        elif cat == VERSION and version < 0:
            version = t.a
        elif cat == VOLUME and version < 0 and t.c >= 0:
            version = t.c
        elif cat == RES and resolution == 0:
            resolution = t.a
        elif cat == CRC and crc is None:
            crc = PyUnicode_Substring(name, t.s, t.e).upper()
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
    if xtype >= 0 and (kind == K_SPECIAL or kind == K_EXTRA or kind == K_MOVIE):
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


# ---------------------------------------------------------------- entry point

def parse_name(str name):
    """Parse one file name (no folders) into a ParsedName; never raises for any str."""
    return parse_name_c(name)


def parse_names(object names, object with_folders):
    """[parse_name(n) for each n without "/" or "\\", else with_folders(n)]: the batch
    behind anivault.parse.parse_many, without a Python call per plain name."""
    cdef list out = []
    cdef str name
    for name in names:
        if PyUnicode_FindChar(name, 47, 0, PyUnicode_GET_LENGTH(name), 1) >= 0 \
                or PyUnicode_FindChar(name, 92, 0, PyUnicode_GET_LENGTH(name), 1) >= 0:
            out.append(with_folders(name))
        else:
            out.append(parse_name_c(name))
    return out


cdef object parse_name_c(str name):
    """parse_name without the Python call (the _parse_c.pxd entry point)."""
    cdef Py_ssize_t length = PyUnicode_GET_LENGTH(name)
    cdef int n = <int>length
    cdef int kind = PyUnicode_KIND(name)
    cdef void* data = PyUnicode_DATA(name)
    cdef Py_ssize_t i
    cdef P p
    cdef ucs* s
    cdef int* ints
    cdef Tok* toks
    cdef ucs* buf
    if length > MAX_NAME:
        name = name[length - MAX_NAME:]  # the tail holds the episode, tags and extension
        length = MAX_NAME
        n = <int>length
        kind = PyUnicode_KIND(name)
        data = PyUnicode_DATA(name)
    # One allocation: code points, the text buffer, three int arrays, the tokens.
    cdef size_t size = (2 * (n + 1)) * sizeof(ucs) + 3 * (n + 1) * sizeof(int) \
        + (n + 2) * sizeof(Tok)
    cdef uint64_t stack_mem[STACK_WORDS]  # 8-byte aligned for the int and Tok arrays
    cdef char* mem = <char*>stack_mem
    if size > STACK_BYTES:
        mem = <char*>PyMem_Malloc(size)
        if mem == NULL:
            raise MemoryError()
    try:
        s = <ucs*>mem
        buf = s + (n + 1)
        ints = <int*>(buf + (n + 1))
        toks = <Tok*>(ints + 3 * (n + 1))
        if kind == 1:
            for i in range(n):
                s[i] = (<unsigned char*>data)[i]
        elif kind == 2:
            for i in range(n):
                s[i] = (<unsigned short*>data)[i]
        else:
            memcpy(s, data, n * sizeof(ucs))
        s[n] = 0
        p.s = s
        p.n = n
        p.toks = toks
        p.top = ints
        if n >= NOGIL_FROM:
            with nogil:
                run_rules(&p, ints + (n + 1), ints + 2 * (n + 1))
        else:
            run_rules(&p, ints + (n + 1), ints + 2 * (n + 1))
        return build_result(&p, buf, name)
    finally:
        if mem != <char*>stack_mem:
            PyMem_Free(mem)
