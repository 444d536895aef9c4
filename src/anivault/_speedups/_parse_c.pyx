# cython: language_level=3
"""Release-name parser, compiled twin of _parse_py.py (identical results).

_parse_py.py is the spec: read it first. This module is split like it, with ``include``:
_parse_enums.pxi (the shared constants, generated from _parse_tables.ENUMS),
_parse_vocabulary.pxi (code point and vocabulary tables), _parse_tokens.pxi (extension,
brackets, numbers, classification, tokens), _parse_rules.pxi (group, episode, title...)
and _parse_output.pxi (the ParsedName); the entry points stay here.

The same steps as the pure twin (read its docstring first), done in C: the
name's code points are copied once into a ucs array; brackets, words and
tokens are C arrays of positions; the vocabulary is an open-addressing hash
table over code points built at import from _parse_tables. Python objects are
made only at the end, for the fields of the ParsedName. The scanning and the
rules hold no Python references, so long names are parsed without the GIL.
"""
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport uint32_t, uint64_t

ctypedef uint32_t ucs  # a code point (plain C integer arithmetic, unlike ucs)
from libc.string cimport memcpy

from ..models import ParsedName
from . import _parse_tables as tables
from ._parse_tables import cjk_title

cdef extern from "Python.h":
    Py_ssize_t PyUnicode_FindChar(object s, Py_UCS4 ch, Py_ssize_t start, Py_ssize_t end,
                                  int direction) except -2
    int PyUnicode_KIND(object s)
    Py_UCS4 PyUnicode_MAX_CHAR_VALUE(object s)
    void* PyUnicode_DATA(object s)
    Py_ssize_t PyUnicode_GET_LENGTH(object s)
    object PyUnicode_FromKindAndData(int kind, const void* buffer, Py_ssize_t size)
    int PyUnicode_4BYTE_KIND
    bint Py_UNICODE_ISALNUM(uint32_t ch) nogil

include "_parse_enums.pxi"

cdef enum:
    MAX_KEY = 48         # longer words are in no table
    NOGIL_FROM = 256     # names this long are parsed with the GIL released
    STACK_WORDS = 4096   # 32 KiB of working memory: names up to ~500 characters need no malloc
    STACK_BYTES = 32768

include "_parse_vocabulary.pxi"
include "_parse_tokens.pxi"
include "_parse_rules.pxi"
include "_parse_output.pxi"


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


cdef inline ucs ascii_digit(ucs c) noexcept nogil:
    """Full-width digits (０-９) read as ASCII ones, as in _parse_py.parse_name."""
    return c - (0xFF10 - 48) if 0xFF10 <= c <= 0xFF19 else c


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
                s[i] = ascii_digit((<unsigned short*>data)[i])
        else:
            for i in range(n):
                s[i] = ascii_digit((<uint32_t*>data)[i])
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
