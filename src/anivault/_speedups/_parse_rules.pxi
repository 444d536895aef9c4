# Brackets as units and the rules: group, episode, title, episode title (included by _parse_c.pyx; the spec is _parse_py.py).

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
    if last_num >= 0 and run_end < n and toks[run_end].cat == SEASON and toks[run_end].br < 0:
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
                if not titleish_word(p, i + 1, ep):
                    p.kind = t.a
                    p.xtype = i
                    break
                if t.a == K_MOVIE:
                    p.kind = t.a
                    p.xtype = i
                    i += 1
                    a = toks[i].s if toks[i].cat != DASH else toks[i + 1].s
                    continue
            elif type_ends_title(p, i, ep) and not (
                    t.a == K_MOVIE and lower_equals(s, toks[i - 1].s, toks[i - 1].e, "the")):
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
