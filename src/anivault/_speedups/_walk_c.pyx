# cython: language_level=3
"""Reading one folder for the scanner, compiled twin of _walk_py.py (same results).

The folder is read and every entry stat'ed (``fstatat`` relative to the open
folder) in C with the GIL released, into one buffer; Python objects are made
afterwards in one pass. So a walker thread costs the interpreter only a few
microseconds per folder and the second core does the system calls.
On Windows, where ``os.scandir`` already returns sizes and times with the
listing, this twin hands over to the pure one.
"""
import os
import sys

from cpython.bytes cimport PyBytes_AS_STRING
from libc.string cimport memset

from ._walk_py import list_dir as _pure_list_dir

cdef extern from "Python.h":
    object PyUnicode_DecodeFSDefaultAndSize(const char* s, Py_ssize_t size)

cdef extern from *:
    """
    #include <stdlib.h>
    #include <string.h>
    #include <errno.h>

    enum { AV_FILE, AV_DIR, AV_LINK, AV_SPECIAL, AV_FAILED };

    typedef struct {
        size_t name_off, name_len;
        int kind, code;  /* code: st_mode of a special file, errno of a failed one */
        long long size, mtime_ns;
    } av_entry;

    typedef struct {
        av_entry *items; size_t n, cap;
        char *names; size_t used, names_cap;
        long long hidden, small;
        int error;  /* errno when the listing broke off */
    } av_listing;

    static int av_push(av_listing *l, const char *name, size_t len, int kind, int code,
                       long long size, long long mtime_ns) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 64;
            av_entry *items = (av_entry *)realloc(l->items, cap * sizeof(av_entry));
            if (!items) return ENOMEM;
            l->items = items; l->cap = cap;
        }
        if (l->used + len > l->names_cap) {
            size_t cap = l->names_cap ? l->names_cap * 2 : 4096;
            while (cap < l->used + len) cap *= 2;
            char *names = (char *)realloc(l->names, cap);
            if (!names) return ENOMEM;
            l->names = names; l->names_cap = cap;
        }
        memcpy(l->names + l->used, name, len);
        av_entry *e = &l->items[l->n++];
        e->name_off = l->used; e->name_len = len;
        e->kind = kind; e->code = code; e->size = size; e->mtime_ns = mtime_ns;
        l->used += len;
        return 0;
    }

    static void av_free(av_listing *l) {
        free(l->items); free(l->names);
        l->items = NULL; l->names = NULL;
    }

    #ifdef _WIN32
    static int av_list(const char *path, long long min_size, av_listing *l) { return ENOSYS; }
    #else
    #include <dirent.h>
    #include <fcntl.h>
    #include <sys/stat.h>
    #include <unistd.h>
    #ifndef O_CLOEXEC
    #define O_CLOEXEC 0
    #endif
    #if defined(__APPLE__)
    #define AV_MTIME_NS(st) ((long long)(st).st_mtimespec.tv_sec * 1000000000LL + (st).st_mtimespec.tv_nsec)
    #else
    #define AV_MTIME_NS(st) ((long long)(st).st_mtim.tv_sec * 1000000000LL + (st).st_mtim.tv_nsec)
    #endif

    /* Lists ``path`` into ``l``; returns errno when it cannot be opened, else 0. */
    static int av_list(const char *path, long long min_size, av_listing *l) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return errno;
        DIR *d = fdopendir(fd);
        if (!d) { int e = errno; close(fd); return e; }
        for (;;) {
            errno = 0;
            struct dirent *de = readdir(d);
            if (!de) { l->error = errno; break; }
            const char *name = de->d_name;
            if (name[0] == '.') {
                if (name[1] == 0 || (name[1] == '.' && name[2] == 0)) continue;
                l->hidden++;
                continue;
            }
            size_t len = strlen(name);
            int rc;
            struct stat st;
    #ifdef DT_DIR
            /* The listing already says so: no stat needed. */
            if (de->d_type == DT_DIR) { rc = av_push(l, name, len, AV_DIR, 0, 0, 0); goto next; }
            if (de->d_type == DT_LNK) { rc = av_push(l, name, len, AV_LINK, 0, 0, 0); goto next; }
    #endif
            if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
                rc = av_push(l, name, len, AV_FAILED, errno, 0, 0);
            else if (S_ISREG(st.st_mode)) {
                rc = 0;
                if ((long long)st.st_size >= min_size)
                    rc = av_push(l, name, len, AV_FILE, 0, (long long)st.st_size, AV_MTIME_NS(st));
                else
                    l->small++;
            }
            else if (S_ISDIR(st.st_mode)) rc = av_push(l, name, len, AV_DIR, 0, 0, 0);
            else if (S_ISLNK(st.st_mode)) rc = av_push(l, name, len, AV_LINK, 0, 0, 0);
            else rc = av_push(l, name, len, AV_SPECIAL, (int)st.st_mode, 0, 0);
        next:
            if (rc) { l->error = rc; break; }
        }
        closedir(d);  /* closes fd too */
        return 0;
    }
    #endif
    """
    enum:
        AV_FILE
        AV_DIR
        AV_LINK
        AV_SPECIAL
        AV_FAILED
    ctypedef struct av_entry:
        size_t name_off
        size_t name_len
        int kind
        int code
        long long size
        long long mtime_ns
    ctypedef struct av_listing:
        av_entry* items
        size_t n
        size_t cap
        char* names
        size_t used
        size_t names_cap
        long long hidden
        long long small
        int error
    int av_list(const char* path, long long min_size, av_listing* l) nogil
    void av_free(av_listing* l)

cdef bint _WINDOWS = sys.platform == "win32"


def list_dir(str path, min_size=0):
    """One folder's entries: (files, dirs, links, specials, failed, hidden, small, error)."""
    if _WINDOWS:
        return _pure_list_dir(path, min_size)
    cdef bytes raw = os.fsencode(path)
    if b"\0" in raw:
        raise ValueError("list_dir: embedded null byte")
    cdef const char* c_path = PyBytes_AS_STRING(raw)
    cdef long long c_min = min_size
    cdef av_listing l
    memset(&l, 0, sizeof(l))
    cdef int rc
    with nogil:
        rc = av_list(c_path, c_min, &l)
    if rc:
        av_free(&l)
        raise OSError(rc, os.strerror(rc), path)
    cdef list files = [], dirs = [], links = [], specials = [], failed = []
    cdef size_t i
    cdef av_entry* e
    try:
        for i in range(l.n):
            e = &l.items[i]
            name = PyUnicode_DecodeFSDefaultAndSize(l.names + e.name_off, <Py_ssize_t>e.name_len)
            if e.kind == AV_FILE:
                files.append((name, e.size, e.mtime_ns))
            elif e.kind == AV_DIR:
                dirs.append(name)
            elif e.kind == AV_LINK:
                links.append(name)
            elif e.kind == AV_SPECIAL:
                specials.append((name, e.code))
            else:
                failed.append((name, e.code))
        hidden, small, error = l.hidden, l.small, l.error
    finally:
        av_free(&l)
    files.sort()
    dirs.sort()
    links.sort()
    specials.sort()
    failed.sort()
    return files, dirs, links, specials, failed, hidden, small, error
