# cython: language_level=3
"""Path hashing, compiled twin of _hash_py.py (same results, bit for bit).

xxh3_64 comes from the vendored single-header xxHash (include/xxhash.h, the
same version the xxhash package bundles), inlined so a hash is one call.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_AsEncodedString
from libc.stdint cimport int64_t, uint64_t
from libc.string cimport memcpy

cdef extern from *:
    """
    #define XXH_INLINE_ALL
    #include "xxhash.h"
    """
    uint64_t XXH3_64bits(const void* data, size_t length) nogil

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object s, Py_ssize_t* size) except? NULL
    int PyUnicode_IS_ASCII(object s)
    void* PyUnicode_DATA(object s)
    Py_ssize_t PyUnicode_GET_LENGTH(object s)


cdef inline uint64_t _hash_str(str path) except? 0:
    cdef Py_ssize_t n
    cdef const char* utf8
    cdef bytes raw
    if PyUnicode_IS_ASCII(path):
        # ASCII strings store their bytes directly: hash in place, no copy.
        return XXH3_64bits(PyUnicode_DATA(path), <size_t>PyUnicode_GET_LENGTH(path))
    try:
        # CPython caches a str's UTF-8 form: no allocation when it is asked again.
        utf8 = PyUnicode_AsUTF8AndSize(path, &n)
        return XXH3_64bits(utf8, <size_t>n)
    except UnicodeEncodeError:  # lone surrogates: a name that is not valid UTF-8 on disk
        raw = PyUnicode_AsEncodedString(path, "utf-8", "surrogateescape")
        return XXH3_64bits(PyBytes_AS_STRING(raw), <size_t>PyBytes_GET_SIZE(raw))


def path_hash(str path):
    """xxh3_64 of the path's UTF-8 (surrogateescape) bytes, as an unsigned int."""
    return _hash_str(path)


def path_hashes(paths):
    """path_hash of each path, in order (a list or tuple is hashed without an iterator)."""
    cdef list out
    cdef Py_ssize_t i, n
    cdef str p
    if type(paths) is list or type(paths) is tuple:
        n = len(paths)
        out = [None] * n
        for i in range(n):
            p = paths[i]
            out[i] = _hash_str(p)
        return out
    out = []
    for p in paths:
        out.append(_hash_str(p))
    return out


def change_key(size, mtime_ns):
    """xxh3_64 of (size, mtime_ns) as two little-endian int64: changes when the file does."""
    cdef int64_t v[2]
    cdef unsigned char buf[16]
    cdef int i
    try:
        v[0] = size
        v[1] = mtime_ns
    except OverflowError as e:
        raise OverflowError(f"size or mtime_ns out of int64 range: {size}, {mtime_ns}") from e
    # Byte by byte so the key is little-endian on every platform.
    for i in range(8):
        buf[i] = <unsigned char>((<uint64_t>v[0] >> (8 * i)) & 0xFF)
        buf[8 + i] = <unsigned char>((<uint64_t>v[1] >> (8 * i)) & 0xFF)
    return XXH3_64bits(buf, 16)
