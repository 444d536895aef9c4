# cython: language_level=3
"""What other compiled twins may cimport from the walk twin (the scanner's records twin):

    from ._walk_c cimport FileList, FileItem

A FileList is a folder's files as ``walk_folders`` lists them: a sequence of
(name, size, mtime_ns) tuples to Python, made on demand, and to C an array of
FileItem over the names as read from disk, so the records twin renders a
folder without a Python object per file.
"""

cdef struct FileItem:
    const char* name  # the name's bytes on disk (not NUL-terminated)
    Py_ssize_t name_len
    long long size
    long long mtime_ns


cdef class FileList:
    cdef FileItem* items
    cdef Py_ssize_t n
    cdef char* names  # owned: the buffer every item's name points into
    cdef readonly bint utf8  # every name is valid UTF-8 (its str is the decoded bytes)
    cdef tuple item(self, Py_ssize_t i)
