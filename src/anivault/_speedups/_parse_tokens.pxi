# Parse state, extension, brackets, numbers, word classification and tokens (included by _parse_c.pyx; the spec is _parse_py.py).

# ---------------------------------------------------------------- token

cdef struct Tok:
    int s, e, cat, br, a, b, c, d, x, f, g, fl


cdef inline Tok mk(int ws, int we, int br, int cat, int a=0, int b=0, int c=-1, int d=-1,
                   int x=0, int f=0, int g=0, int fl=0) noexcept nogil:
    cdef Tok t
    t.s = ws; t.e = we; t.cat = cat; t.br = br; t.a = a; t.b = b; t.c = c; t.d = d
    t.x = x; t.f = f; t.g = g; t.fl = fl
    return t

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
        for k in range(NTYPED):  # "NCEDv3": _parse_py._TYPED_VERSION
            plen = TYPED_LEN[k]
            if plen + 2 <= kn <= plen + 3 and key[plen] == 118 and isdigit(key[plen + 1]) \
                    and (kn == plen + 2 or isdigit(key[plen + 2])):
                j = 0
                while j < plen and key[j] == TYPED_PREFIX[k][j]:
                    j += 1
                if j == plen:
                    return mk(ws, we, br, TYPED, TYPED_KIND[k], TYPED_VALUE[k],
                              digits_value(key, plen + 1, kn))
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
