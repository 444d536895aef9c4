# cython: language_level=3
"""What other compiled twins may cimport from the parser (e.g. the scanner's records twin):

    from ._parse_c cimport parse_name_c

parse_name_c(name) is _parse_c.parse_name without a Python-level call: the ParsedName of
one file name (no folders; only its last MAX_NAME characters are read). It raises only
MemoryError.
"""

cdef object parse_name_c(str name)
