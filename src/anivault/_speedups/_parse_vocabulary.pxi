# Code point tables and the vocabulary as C hash tables (included by _parse_c.pyx; the spec is _parse_py.py).

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
cdef ucs SEASON_CJK[4] # 期季기
cdef ucs DI_EP[5]      # 話话集回  (after 第)
cdef ucs DI_SEASON[4]  # 期季部
cdef ucs INSIDE_SEPS[8]  # _,+/|;&
assert [ord(c) for c in "話话集화회期季回部"] == [
    0x8a71, 0x8bdd, 0x96c6, 0xd654, 0xd68c, 0x671f, 0x5b63, 0x56de, 0x90e8]
assert [ord(c) for c in tables.STARS + tables.DASHES + "〜第×"] == [
    0x2605, 0x2606, 45, 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x301c, 0x7b2c, 0xd7]
EP_CJK[:] = [0x8a71, 0x8bdd, 0x96c6, 0xd654, 0xd68c, 0]
SEASON_CJK[:] = [0x671f, 0x5b63, 0xae30, 0]
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
cdef int TYPED_VALUE[16]     # VALUES index of each prefix's type
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
        TYPED_VALUE[k] = tables.VALUE_INDEX[tables.VOCABULARY[prefix][2]]
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
