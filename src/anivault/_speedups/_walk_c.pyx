# cython: language_level=3
"""Reading one folder for the scanner, compiled twin of _walk_py.py (same results).

The folder is read and every entry stat'ed (``fstatat`` relative to the open
folder) in C with the GIL released, into one buffer; Python objects are made
afterwards in one pass. So a walker thread costs the interpreter only a few
microseconds per folder and the second core does the system calls. ``walk_folders`` hands
each folder's files as a ``FileList`` (see _walk_c.pxd): a sequence of (name, size, mtime_ns)
to Python, an array over the names on disk to the records twin, which renders them without a
Python object per file.
On Windows, where ``os.scandir`` already returns sizes and times with the
listing, this twin hands over to the pure one.
"""
import os
import sys
import threading
from collections.abc import Sequence
from operator import index as _as_index

from cpython.bytes cimport PyBytes_AS_STRING
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memset, strdup



def _pure_list_dir(path, min_size):
    from ._walk_py import list_dir  # Windows only: imported there alone
    return list_dir(path, min_size)

cdef extern from "Python.h":
    object PyUnicode_DecodeFSDefaultAndSize(const char* s, Py_ssize_t size)
    object PyUnicode_DecodeFSDefault(const char* s)

cdef extern from *:
    """
    #include <stdlib.h>
    #include <string.h>
    #include <errno.h>

    enum { AV_FILE, AV_DIR, AV_LINK, AV_SPECIAL, AV_FAILED };

    typedef struct {
        size_t name_off, name_len;
        const char *name;  /* set once the listing is complete (names no longer move) */
        int kind, code;  /* code: st_mode of a special file, errno of a failed one */
        long long size, mtime_ns;
    } av_entry;

    typedef struct {
        av_entry *items; size_t n, cap;
        char *names; size_t used, names_cap;
        long long hidden, small;
        int error;  /* errno when the listing broke off */
        int plain;  /* every name is valid UTF-8 (set by av_sort) */
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

    /* The code point at s[*i] as Python decodes file names: a strict UTF-8 sequence, or
       one byte that is not part of one as its surrogate escape (U+DC80..U+DCFF). */
    static unsigned int av_next_cp(const unsigned char *s, size_t n, size_t *i) {
        unsigned char c = s[*i];
        if (c < 0x80) { (*i)++; return c; }
        size_t k, j;
        unsigned int cp, least;
        if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; least = 0x80; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; least = 0x800; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; least = 0x10000; }
        else { (*i)++; return 0xDC00 + c; }
        if (n - *i <= k) { (*i)++; return 0xDC00 + c; }
        for (j = 1; j <= k; j++) {
            if ((s[*i + j] & 0xC0) != 0x80) { (*i)++; return 0xDC00 + c; }
            cp = (cp << 6) | (s[*i + j] & 0x3F);
        }
        if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) { (*i)++; return 0xDC00 + c; }
        *i += k + 1;
        return cp;
    }

    static int av_valid_utf8(const unsigned char *s, size_t n) {
        size_t i = 0;
        while (i < n) if (av_next_cp(s, n, &i) - 0xDC80u < 0x80u) return 0;
        return 1;
    }

    static int av_by_name(const void *a, const void *b) {
        const av_entry *x = (const av_entry *)a, *y = (const av_entry *)b;
        size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
        int c = memcmp(x->name, y->name, n);
        return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
    }

    /* By code point, surrogate escapes included: str order for any name. */
    static int av_by_code_point(const void *a, const void *b) {
        const av_entry *x = (const av_entry *)a, *y = (const av_entry *)b;
        const unsigned char *p = (const unsigned char *)x->name, *q = (const unsigned char *)y->name;
        size_t i = 0, j = 0;
        while (i < x->name_len && j < y->name_len) {
            unsigned int c = av_next_cp(p, x->name_len, &i), d = av_next_cp(q, y->name_len, &j);
            if (c != d) return c < d ? -1 : 1;
        }
        return (i < x->name_len) - (j < y->name_len);
    }

    /* Name order, as Python sorts the decoded names: for valid UTF-8 that is byte order. */
    static void av_sort(av_listing *l) {
        size_t i;
        int plain = 1;
        for (i = 0; i < l->n; i++) {
            av_entry *e = &l->items[i];
            e->name = l->names + e->name_off;
            if (plain && !av_valid_utf8((const unsigned char *)e->name, e->name_len)) plain = 0;
        }
        l->plain = plain;
        if (l->n > 1) qsort(l->items, l->n, sizeof(av_entry), plain ? av_by_name : av_by_code_point);
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
        av_sort(l);
        return 0;
    }
    #endif

    /* Walking ahead. A walk lists the tree depth first in name order, the way the
       scanner walks it by default (hidden folders and the `skip` names are not entered,
       symlinks are not followed), and hands over each folder's listing in that order.
       With a worker thread the listing runs on the second core, at most `cap` folders
       ahead of the scanner; without one the scanner takes each step itself. */
    #ifndef _WIN32
    #include <pthread.h>
    #endif

    typedef struct {
        char *path;
        int rc;
        av_listing l;
    } av_result;

    typedef struct {
        char **todo; size_t n_todo, cap_todo;  /* folders still to list: the next on top */
        av_result **ring; size_t head, count, cap;  /* listings done, in walk order */
        char **skip; size_t n_skip;
        long long min_size;
        int threaded, closing, finished, error, taker_waits, walker_waits;
    #ifndef _WIN32
        pthread_mutex_t mu;
        pthread_cond_t can_take, can_put;
    #endif
    } av_walk;

    static int av_todo(av_walk *w, char *path) {
        if (w->n_todo == w->cap_todo) {
            size_t cap = w->cap_todo ? w->cap_todo * 2 : 64;
            char **todo = (char **)realloc(w->todo, cap * sizeof(char *));
            if (!todo) return ENOMEM;
            w->todo = todo; w->cap_todo = cap;
        }
        w->todo[w->n_todo++] = path;
        return 0;
    }

    static int av_skipped(av_walk *w, const char *name, size_t len) {
        size_t i;
        for (i = 0; i < w->n_skip; i++)
            if (strlen(w->skip[i]) == len && memcmp(w->skip[i], name, len) == 0) return 1;
        return 0;
    }

    /* Queues the sub-folders of a listing, the first on top. */
    static int av_todo_children(av_walk *w, av_result *r) {
        size_t plen = strlen(r->path), i = r->l.n;
        int sep = plen > 0 && r->path[plen - 1] == '/';
        while (i-- > 0) {
            av_entry *e = &r->l.items[i];
            if (e->kind != AV_DIR || av_skipped(w, e->name, e->name_len)) continue;
            char *child = (char *)malloc(plen + 1 + e->name_len + 1);
            if (!child) return ENOMEM;
            memcpy(child, r->path, plen);
            size_t at = plen;
            if (!sep) child[at++] = '/';
            memcpy(child + at, e->name, e->name_len);
            child[at + e->name_len] = 0;
            if (av_todo(w, child)) { free(child); return ENOMEM; }
        }
        return 0;
    }

    static void av_result_free(av_result *r) {
        if (!r) return;
        av_free(&r->l);
        free(r->path);
        free(r);
    }

    /* Lists the next folder and queues its sub-folders; NULL when the walk is over
       (or w->error is set). Only the walking thread touches `todo`. */
    static av_result *av_step(av_walk *w) {
        if (w->error || w->n_todo == 0) return NULL;
        av_result *r = (av_result *)calloc(1, sizeof(av_result));
        if (!r) { w->error = ENOMEM; return NULL; }
        r->path = w->todo[--w->n_todo];
        r->rc = av_list(r->path, w->min_size, &r->l);
        if (r->rc == 0 && av_todo_children(w, r)) { av_result_free(r); w->error = ENOMEM; return NULL; }
        return r;
    }

    #ifdef _WIN32
    static int av_walk_start(av_walk *w) { return ENOSYS; }
    static void av_walk_worker(av_walk *w) {}
    static av_result *av_walk_next(av_walk *w) { return av_step(w); }
    static void av_walk_stop(av_walk *w) {}
    #else
    static int av_walk_start(av_walk *w) {
        w->cap = 256;
        w->ring = (av_result **)calloc(w->cap, sizeof(av_result *));
        if (!w->ring) return ENOMEM;
        if (pthread_mutex_init(&w->mu, NULL)) return ENOMEM;
        pthread_cond_init(&w->can_take, NULL);
        pthread_cond_init(&w->can_put, NULL);
        w->threaded = 1;
        return 0;
    }

    /* A wake-up is what the second thread costs, so each side is woken in batches:
       the scanner once 16 listings wait (or the walk is over), the walker once the
       scanner has taken half of a full ring. */
    static void av_walk_worker(av_walk *w) {
        for (;;) {
            pthread_mutex_lock(&w->mu);
            while (!w->closing && w->count == w->cap) {
                w->walker_waits = 1;
                pthread_cond_wait(&w->can_put, &w->mu);
            }
            w->walker_waits = 0;
            int closing = w->closing;
            pthread_mutex_unlock(&w->mu);
            av_result *r = closing ? NULL : av_step(w);
            pthread_mutex_lock(&w->mu);
            if (r) {
                w->ring[(w->head + w->count) % w->cap] = r;
                w->count++;
            } else {
                w->finished = 1;
            }
            if (w->taker_waits && (!r || w->count >= 16)) pthread_cond_signal(&w->can_take);
            pthread_mutex_unlock(&w->mu);
            if (!r) return;
        }
    }

    static av_result *av_walk_next(av_walk *w) {
        if (!w->threaded) return av_step(w);
        pthread_mutex_lock(&w->mu);
        while (w->count == 0 && !w->finished) {
            w->taker_waits = 1;
            pthread_cond_wait(&w->can_take, &w->mu);
        }
        w->taker_waits = 0;
        av_result *r = NULL;
        if (w->count) {
            r = w->ring[w->head];
            w->ring[w->head] = NULL;
            w->head = (w->head + 1) % w->cap;
            w->count--;
            if (w->walker_waits && w->count <= w->cap / 2) pthread_cond_signal(&w->can_put);
        }
        pthread_mutex_unlock(&w->mu);
        return r;
    }

    static void av_walk_stop(av_walk *w) {
        pthread_mutex_lock(&w->mu);
        w->closing = 1;
        pthread_cond_broadcast(&w->can_put);
        pthread_mutex_unlock(&w->mu);
    }
    #endif

    /* Frees what a stopped walk still holds. */
    static void av_walk_free(av_walk *w) {
        size_t i;
        for (i = 0; i < w->n_todo; i++) free(w->todo[i]);
        free(w->todo);
        w->todo = NULL; w->n_todo = 0;
        if (w->ring) {
            for (i = 0; i < w->cap; i++) av_result_free(w->ring[i]);
            free(w->ring);
            w->ring = NULL;
        }
        for (i = 0; i < w->n_skip; i++) free(w->skip[i]);
        free(w->skip);
        w->skip = NULL; w->n_skip = 0;
    #ifndef _WIN32
        if (w->threaded) {
            pthread_cond_destroy(&w->can_put);
            pthread_cond_destroy(&w->can_take);
            pthread_mutex_destroy(&w->mu);
            w->threaded = 0;
        }
    #endif
    }
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
        const char* name
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
        int plain
    int av_list(const char* path, long long min_size, av_listing* l) nogil
    void av_free(av_listing* l)
    ctypedef struct av_result:
        char* path
        int rc
        av_listing l
    ctypedef struct av_walk:
        char** skip
        size_t n_skip
        long long min_size
        int error
    int av_todo(av_walk* w, char* path)
    int av_walk_start(av_walk* w)
    void av_walk_worker(av_walk* w) nogil
    av_result* av_walk_next(av_walk* w) nogil
    void av_walk_stop(av_walk* w) nogil
    void av_walk_free(av_walk* w)

cdef bint _WINDOWS = sys.platform == "win32"


def list_dir(str path, min_size=0):
    """One folder's entries: (files, dirs, links, specials, failed, hidden, small, error)."""
    if _WINDOWS:
        return _pure_list_dir(path, min_size)
    cdef bytes raw = _encoded(path)
    cdef const char* c_path = PyBytes_AS_STRING(raw)
    cdef long long c_min = min_size
    cdef av_listing l
    memset(&l, 0, sizeof(l))
    cdef int rc
    with nogil:
        rc = av_list(c_path, c_min, &l)
    return _result(&l, rc, path)


cdef bytes _encoded(str path):
    cdef bytes raw = os.fsencode(path)
    if b"\0" in raw:
        raise ValueError("list_dir: embedded null byte")
    return raw


cdef tuple _result(av_listing* l, int rc, str path):
    """The Python lists of a C listing, which is freed (the rule-applying walk changes them)."""
    cdef tuple listing = _walk_result(l, rc, path)
    return (list(listing[0]),) + listing[1:]


include "_walk_files.pxi"


cdef class FolderWalk:
    """The folders under ``root``, depth first in name order, each with its ``list_dir``.

    Iterating gives ``(path, listing)``, or ``(path, OSError)`` for a folder that
    cannot be read. Hidden folders and those named in ``skip`` are not entered,
    symlinks not followed: the scanner's default walk. With ``ahead`` a worker
    thread does the listing (without the GIL) up to 256 folders ahead of the
    caller; ``close()`` stops it, and must be called.
    """
    cdef av_walk w
    cdef object thread
    cdef bint running

    def __cinit__(self, str root, min_size=0, skip=(), bint ahead=True):
        memset(&self.w, 0, sizeof(self.w))
        self.w.min_size = min_size
        cdef bytes raw = _encoded(root)
        cdef char* path = strdup(PyBytes_AS_STRING(raw))
        if path == NULL or av_todo(&self.w, path) != 0:
            free(path)
            raise MemoryError()
        names = [os.fsencode(name) for name in skip]
        self.w.skip = <char**>calloc(max(len(names), 1), sizeof(char*))
        if self.w.skip == NULL:
            raise MemoryError()
        for name in names:
            self.w.skip[self.w.n_skip] = strdup(PyBytes_AS_STRING(name))
            if self.w.skip[self.w.n_skip] == NULL:
                raise MemoryError()
            self.w.n_skip += 1
        if ahead and not _WINDOWS and av_walk_start(&self.w) == 0:
            self.running = True
            self.thread = threading.Thread(target=self._work, name="anivault-walk", daemon=True)
            self.thread.start()

    def _work(self):
        with nogil:
            av_walk_worker(&self.w)

    def __iter__(self):
        return self

    def __next__(self):
        cdef av_result* r
        with nogil:
            r = av_walk_next(&self.w)
        if r == NULL:
            if self.w.error:
                raise MemoryError("the folder walk ran out of memory")
            raise StopIteration
        path = PyUnicode_DecodeFSDefault(r.path)
        cdef av_listing l = r.l
        cdef int rc = r.rc
        free(r.path)
        free(r)
        try:
            return path, _walk_result(&l, rc, path)
        except OSError as e:
            return path, e

    def close(self):
        """Stops the worker and frees every listing not taken."""
        if self.running:
            with nogil:
                av_walk_stop(&self.w)
            self.thread.join()
            self.running = False
        av_walk_free(&self.w)

    def __dealloc__(self):
        if not self.running:  # a running worker holds a reference: close() is the way out
            av_walk_free(&self.w)


def walk_folders(str root, min_size=0, skip=(), ahead=True):
    """A ``FolderWalk`` (on Windows the pure twin's, where scandir gives sizes with names)."""
    if _WINDOWS:
        from ._walk_py import walk_folders as pure
        return pure(root, min_size, skip, ahead)
    return FolderWalk(root, min_size, skip, ahead)
