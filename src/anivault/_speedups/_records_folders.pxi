# A folder's context (included by _records_c.pyx): what its path's folder names fill in for
# the files the index does not know. parse._dir_context is the spec; this is the same work
# compiled, from the parent folder's (a walk reaches a folder after its parent): the last
# FOLDER_DEPTH folder names of a path split plainly at each "/" (parse._plain_folders; any other
# path is split by parse._split_folders), what each folder name says (parse._folder_level), and
# those merged nearest folder first (parse._folder_context).

DEF CACHED = 16384  # entries per cache; a full cache is emptied, so memory stays flat
cdef object _UNSET = object()
cdef dict _PLAIN = {}  # folder path -> its last folder names, or None (split_path's)
cdef dict _LEVELS = {}  # folder name -> what it says
cdef dict _CONTEXTS = {}  # folder names -> their context
cdef dict _DIRS = {}  # folder path -> its context (None: no folders)
cdef Py_ssize_t FOLDER_DEPTH = 3
cdef object _split_folders = None
cdef object _make_parsed = None
cdef frozenset _GENERIC = frozenset(), _SPECIAL = frozenset(), _EXTRA = frozenset()
cdef dict _BLANK = {}  # a level's kind -> ParsedName(kind=kind)


cdef int _load_folders(object parse) except -1:
    global FOLDER_DEPTH, _split_folders, _make_parsed, _GENERIC, _SPECIAL, _EXTRA
    FOLDER_DEPTH = parse.FOLDER_DEPTH
    _split_folders = parse._split_folders
    _make_parsed = ParsedName._make
    _GENERIC, _SPECIAL, _EXTRA = parse.GENERIC_FOLDERS, parse.SPECIAL_FOLDERS, parse.EXTRA_FOLDERS
    for kind in ("", "special", "extra"):
        _BLANK[kind] = ParsedName(kind=kind)
    return 0


cdef inline object _remember(dict cache, object key, object value):
    if len(cache) >= CACHED:
        cache.clear()
    cache[key] = value
    return value


cdef object _folder_context_of(str path):
    """parse._dir_context(path)."""
    cdef object found = _DIRS.get(path, _UNSET)
    if found is not _UNSET:
        return found
    folders = _plain_folders(path)
    if folders is None:
        folders = _split_folders(path)
    return _remember(_DIRS, path, _context(<tuple>folders) if folders else None)


cdef object _plain_folders(str path):
    """parse._plain_folders(path)."""
    cdef object found = _PLAIN.get(path, _UNSET)
    if found is not _UNSET:
        return found
    return _remember(_PLAIN, path, _plain_of(path))


cdef bint _skipped_folder(str name):
    return name == "." or name == ".." or (len(name) == 2 and name[1] == ":")


cdef object _plain_of(str path):
    cdef Py_ssize_t n = len(path)
    cdef Py_ssize_t cut = PyUnicode_FindChar(path, u'/', 0, n, -1)
    if cut < 0 or cut == n - 1:
        return None
    cdef str last = path[cut + 1:]
    if PyUnicode_FindChar(last, u'\\', 0, len(last), 1) >= 0 or not _brackets_closed(last):
        return None
    cdef tuple above = ()
    cdef Py_ssize_t start
    cdef Py_UCS4 before, first = last[0]
    if cut > 0:
        found = _plain_folders(path[:cut])
        if found is None:
            return None
        above = <tuple>found
        before = path[cut - 1]
        if before == u' ' and first == u' ':
            return None  # " / ": part of a title
        if Py_UNICODE_ISDIGIT(before) and Py_UNICODE_ISDIGIT(first):
            start = PyUnicode_FindChar(path, u'/', 0, cut, -1) + 1
            if start < cut and (path[start] == u'[' or path[start] == u'【'):
                return None  # maybe a fraction ("[Group] Ranma 1/2 - 03")
    if _skipped_folder(last):
        return above
    cdef tuple folders = above + (last,)
    return folders[len(folders) - FOLDER_DEPTH:] if len(folders) > FOLDER_DEPTH else folders


cdef bint _brackets_closed(str name):
    """parse._brackets_closed(name)."""
    cdef Py_ssize_t i = 0, j, n = len(name)
    cdef Py_UCS4 c, close
    while i < n:
        c = name[i]
        if c == u'[':
            close = u']'
        elif c == u'(':
            close = u')'
        elif c == u'{':
            close = u'}'
        elif c == u'【':
            close = u'】'
        elif c == u'（':
            close = u'）'
        else:
            i += 1
            continue
        j = PyUnicode_FindChar(name, close, i + 1, n, 1)
        if j < 0:
            return False
        i = j + 1
    return True


cdef object _context(tuple folders):
    """parse._folder_context(folders)."""
    cdef object found = _CONTEXTS.get(folders)
    if found is not None:
        return found
    level = _level(<str>folders[len(folders) - 1])
    if len(folders) == 1:
        return _remember(_CONTEXTS, folders, level)
    return _remember(_CONTEXTS, folders, _merged(<tuple>level, <tuple>_context(folders[:len(folders) - 1])))


cdef object _merged(tuple near, tuple above):
    """near with its empty fields (of parse._FILLED) from above, and above's kind if it has none."""
    cdef list values = None
    cdef Py_ssize_t i
    for i in range(N_FIELDS):
        if FILLED[i] and near[i] is None and above[i] is not None:
            if values is None:
                values = list(near)
            values[i] = above[i]
    if not near[I_KIND] and above[I_KIND]:
        if values is None:
            values = list(near)
        values[I_KIND] = above[I_KIND]
    return near if values is None else _make_parsed(values)


cdef object _level(str folder):
    """parse._folder_level(folder)."""
    cdef object found = _LEVELS.get(folder)
    if found is not None:
        return found
    cdef tuple parsed = <tuple>parse_name_c(folder)
    key = folder.strip().lower()
    kind = "special" if key in _SPECIAL else "extra" if key in _EXTRA else ""
    title = parsed[I_TITLE]
    cdef list values = list(<tuple>_BLANK[kind])
    cdef Py_ssize_t i
    if title and title.lower() in _GENERIC:
        title = None  # "Specials", "Extras"
    elif folder.isascii() and folder.isdigit() and len(folder) <= 2:
        values[I_SEASON] = int(folder)  # "Show/1/01.mkv": numbered season folders
        return _remember(_LEVELS, folder, _make_parsed(values))
    for i in range(N_FIELDS):
        if FILLED[i] and parsed[i] is not None:
            values[i] = parsed[i]
    values[I_TITLE] = title
    return _remember(_LEVELS, folder, _make_parsed(values))
