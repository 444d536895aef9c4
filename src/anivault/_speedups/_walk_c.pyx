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
import threading

from cpython.bytes cimport PyBytes_AS_STRING
from libc.stdlib cimport calloc, free
from libc.string cimport memset, strdup



def _pure_list_dir(path, min_size):
    from ._walk_py import list_dir  # Windows only: imported there alone
    return list_dir(path, min_size)

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
        const char *name;  /* set once the listing is complete (names no longer move) */
        int kind, code;  /* code: st_mode of a special file, errno of a failed one */
        long long size, mtime_ns;
    } av_entry;

    typedef struct {
        av_entry *items; size_t n, cap;
        char *names; size_t used, names_cap;
        long long hidden, small;
        int error;  /* errno when the listing broke off */
        int unsorted;  /* a name is not valid UTF-8: byte order is not str order */
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

    static int av_valid_utf8(const unsigned char *s, size_t n) {
        size_t i = 0;
        while (i < n) {
            unsigned char c = s[i];
            if (c < 0x80) { i++; continue; }
            size_t k, j;
            unsigned int cp, least;
            if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; least = 0x80; }
            else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; least = 0x800; }
            else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; least = 0x10000; }
            else return 0;
            if (n - i <= k) return 0;
            for (j = 1; j <= k; j++) {
                if ((s[i + j] & 0xC0) != 0x80) return 0;
                cp = (cp << 6) | (s[i + j] & 0x3F);
            }
            if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
            i += k + 1;
        }
        return 1;
    }

    static int av_by_name(const void *a, const void *b) {
        const av_entry *x = (const av_entry *)a, *y = (const av_entry *)b;
        size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
        int c = memcmp(x->name, y->name, n);
        return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
    }

    /* Name order, as Python sorts the names: for valid UTF-8, byte order is code point
       order; a folder with a name that is not is left for Python to sort. */
    static void av_sort(av_listing *l) {
        size_t i;
        for (i = 0; i < l->n; i++) {
            av_entry *e = &l->items[i];
            e->name = l->names + e->name_off;
            if (!l->unsorted && !av_valid_utf8((const unsigned char *)e->name, e->name_len))
                l->unsorted = 1;
        }
        if (!l->unsorted && l->n > 1) qsort(l->items, l->n, sizeof(av_entry), av_by_name);
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

    /* Read-ahead: a worker thread lists the folders the scanner will want next.
       Jobs wait on a stack (the scanner's own depth-first order: the top is
       wanted first); the scanner takes a job when it reaches that folder, and
       lists it itself if the worker has not started on it. */
    enum { AV_PENDING, AV_RUNNING, AV_DONE, AV_MINE };

    typedef struct {
        char *path;
        int state, rc;
        av_listing l;
    } av_job;

    #ifdef _WIN32
    typedef struct { int unused; } av_queue;
    static int av_queue_init(av_queue *q) { return ENOSYS; }
    static void av_queue_destroy(av_queue *q) {}
    static void av_worker(av_queue *q, long long min_size) {}
    static int av_want(av_queue *q, av_job *j) { return ENOSYS; }
    static int av_claim(av_queue *q, av_job *j, long long min_size) { return 0; }
    static void av_close(av_queue *q) {}
    #else
    #include <pthread.h>
    typedef struct {
        pthread_mutex_t mu;
        pthread_cond_t work;   /* the worker waits here for jobs, or for room */
        pthread_cond_t ready;  /* the scanner waits here for a job the worker is on */
        av_job **stack; size_t n, cap;
        size_t done, ahead;  /* finished and not yet taken; the most allowed */
        int closing, sleeping, full;  /* full: the worker stopped at `ahead` (see av_claim) */
    } av_queue;

    static int av_queue_init(av_queue *q) {
        memset(q, 0, sizeof(*q));
        q->ahead = 256;
        if (pthread_mutex_init(&q->mu, NULL)) return ENOMEM;
        if (pthread_cond_init(&q->work, NULL)) { pthread_mutex_destroy(&q->mu); return ENOMEM; }
        if (pthread_cond_init(&q->ready, NULL)) {
            pthread_cond_destroy(&q->work); pthread_mutex_destroy(&q->mu); return ENOMEM;
        }
        return 0;
    }

    static void av_queue_destroy(av_queue *q) {
        free(q->stack);
        pthread_cond_destroy(&q->ready);
        pthread_cond_destroy(&q->work);
        pthread_mutex_destroy(&q->mu);
    }

    /* Lists the top job of the stack; called and returns with the lock held. */
    static void av_run_top(av_queue *q, long long min_size) {
        av_job *j = q->stack[--q->n];
        j->state = AV_RUNNING;
        pthread_mutex_unlock(&q->mu);
        j->rc = av_list(j->path, min_size, &j->l);
        pthread_mutex_lock(&q->mu);
        j->state = AV_DONE;
        q->done++;
        pthread_cond_signal(&q->ready);
    }

    /* Wakes are what a second thread costs on a busy machine, so the worker is woken
       only when it has something to do: a job after an empty stack, or, once it has
       filled its `ahead` listings, when half of them have been taken. */
    static void av_worker(av_queue *q, long long min_size) {
        pthread_mutex_lock(&q->mu);
        for (;;) {
            while (!q->closing && (q->n == 0 || q->done >= q->ahead || q->full)) {
                if (q->done >= q->ahead) q->full = 1;
                q->sleeping = 1;
                pthread_cond_wait(&q->work, &q->mu);
                q->sleeping = 0;
            }
            if (q->closing) break;
            av_run_top(q, min_size);
        }
        pthread_mutex_unlock(&q->mu);
    }

    static int av_want(av_queue *q, av_job *j) {
        pthread_mutex_lock(&q->mu);
        if (q->n == q->cap) {
            size_t cap = q->cap ? q->cap * 2 : 256;
            av_job **stack = (av_job **)realloc(q->stack, cap * sizeof(av_job *));
            if (!stack) { pthread_mutex_unlock(&q->mu); return ENOMEM; }
            q->stack = stack; q->cap = cap;
        }
        j->state = AV_PENDING;
        q->stack[q->n++] = j;
        if (q->sleeping && !q->full) pthread_cond_signal(&q->work);
        pthread_mutex_unlock(&q->mu);
        return 0;
    }

    /* The scanner's turn for ``j``: returns 1 when the worker had not started it (it is
       off the stack and the caller lists it), 0 once the worker's listing is ready. */
    static int av_claim(av_queue *q, av_job *j, long long min_size) {
        if (j->state == AV_MINE) return 1;  /* never queued */
        pthread_mutex_lock(&q->mu);
        if (j->state == AV_PENDING) {
            size_t i = q->n;
            while (i > 0 && q->stack[i - 1] != j) i--;  /* near the top: wanted next */
            if (i > 0) {
                memmove(q->stack + i - 1, q->stack + i, (q->n - i) * sizeof(av_job *));
                q->n--;
            }
            j->state = AV_MINE;
            pthread_mutex_unlock(&q->mu);
            return 1;
        }
        while (j->state == AV_RUNNING) {
            /* The worker has it: rather than wait, list what is wanted after it. */
            if (q->n > 0 && q->done < q->ahead) av_run_top(q, min_size);
            else pthread_cond_wait(&q->ready, &q->mu);
        }
        q->done--;
        if (q->full && q->done <= q->ahead / 2) {
            q->full = 0;
            if (q->sleeping) pthread_cond_signal(&q->work);
        }
        pthread_mutex_unlock(&q->mu);
        return 0;
    }

    static void av_close(av_queue *q) {
        pthread_mutex_lock(&q->mu);
        q->closing = 1;
        pthread_cond_broadcast(&q->work);
        pthread_cond_broadcast(&q->ready);
        pthread_mutex_unlock(&q->mu);
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
        int unsorted
    int av_list(const char* path, long long min_size, av_listing* l) nogil
    void av_free(av_listing* l)
    enum:
        AV_PENDING
        AV_RUNNING
        AV_DONE
        AV_MINE
    ctypedef struct av_job:
        char* path
        int state
        int rc
        av_listing l
    ctypedef struct av_queue:
        pass
    int av_queue_init(av_queue* q)
    void av_queue_destroy(av_queue* q)
    void av_worker(av_queue* q, long long min_size) nogil
    int av_want(av_queue* q, av_job* j)
    int av_claim(av_queue* q, av_job* j, long long min_size) nogil
    void av_close(av_queue* q)

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
    """The Python lists of a C listing, which is freed."""
    if rc:
        av_free(l)
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
        hidden, small, error, unsorted = l.hidden, l.small, l.error, l.unsorted
    finally:
        av_free(l)
    if unsorted:  # C sorted by bytes, unless a name was not valid UTF-8
        files.sort()
        dirs.sort()
        links.sort()
        specials.sort()
        failed.sort()
    return files, dirs, links, specials, failed, hidden, small, error


cdef class ReadAhead:
    """``list_dir`` of the folders a depth-first walk will visit, done ahead on a worker thread.

    ``want(path)`` (in the order the walk pushes folders on its stack) queues a
    folder and returns a ticket; ``take(ticket)`` returns what ``list_dir``
    would (raising the same OSError), listing the folder itself when the
    worker has not got to it. The worker runs without the GIL and stays at
    most 256 listings ahead. ``close()`` stops it; call it when done.
    With ``ahead=False`` there is no worker: each folder is listed when taken.
    """
    cdef av_queue q
    cdef bint ready
    cdef long long min_size
    cdef dict jobs  # ticket -> job address
    cdef Py_ssize_t next_ticket
    cdef object thread

    def __cinit__(self, min_size=0, bint ahead=True):
        self.min_size = min_size
        self.jobs = {}
        self.next_ticket = 0
        self.ready = ahead and not _WINDOWS and av_queue_init(&self.q) == 0
        if self.ready:
            self.thread = threading.Thread(target=self._work, name="anivault-readahead", daemon=True)
            self.thread.start()

    def _work(self):
        with nogil:
            av_worker(&self.q, self.min_size)

    def want(self, str path):
        """Queue ``path``; the ticket to take its listing with."""
        ticket = self.next_ticket
        self.next_ticket += 1
        cdef bytes raw = _encoded(path)
        cdef av_job* j = <av_job*>calloc(1, sizeof(av_job))
        if j == NULL:
            raise MemoryError()
        j.path = strdup(PyBytes_AS_STRING(raw))
        if j.path == NULL:
            free(j)
            raise MemoryError()
        j.state = AV_MINE
        if self.ready and av_want(&self.q, j) != 0:
            j.state = AV_MINE  # not queued: listed when taken
        self.jobs[ticket] = (<size_t>j, path)
        return ticket

    def take(self, ticket):
        """The folder's listing: (files, dirs, links, specials, failed, hidden, small, error)."""
        address, path = self.jobs.pop(ticket)
        cdef av_job* j = <av_job*><size_t>address
        cdef int mine = 1
        if self.ready:
            with nogil:
                mine = av_claim(&self.q, j, self.min_size)
        if _WINDOWS:
            free(j.path)
            free(j)
            return _pure_list_dir(path, self.min_size)
        if mine:
            with nogil:
                j.rc = av_list(j.path, self.min_size, &j.l)
        cdef av_listing l = j.l
        cdef int rc = j.rc
        free(j.path)
        free(j)
        return _result(&l, rc, path)

    def close(self):
        """Stops the worker and frees every listing not taken."""
        if not self.ready:
            return
        av_close(&self.q)
        self.thread.join()
        self.ready = False
        for ticket in list(self.jobs):
            address, _ = self.jobs.pop(ticket)
            _free_job(<av_job*><size_t>address)
        av_queue_destroy(&self.q)


cdef void _free_job(av_job* j):
    av_free(&j.l)
    free(j.path)
    free(j)
