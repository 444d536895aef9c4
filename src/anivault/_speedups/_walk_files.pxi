# A folder's files as the compiled walk hands them (included by _walk_c.pyx; declared in
# _walk_c.pxd, where the records twin cimports them from).

cdef class FileList:
    """A folder's files, (name, size, mtime_ns) in name order: a read-only sequence of tuples made
    on demand over the listing's C array (see _walk_c.pxd), which the records twin reads directly."""

    def __dealloc__(self):
        free(self.items)
        free(self.names)

    cdef tuple item(self, Py_ssize_t i):
        cdef FileItem* f = &self.items[i]
        return PyUnicode_DecodeFSDefaultAndSize(f.name, f.name_len), f.size, f.mtime_ns

    def __len__(self):
        return self.n

    def __getitem__(self, at):
        if isinstance(at, slice):
            return [self.item(k) for k in range(*at.indices(self.n))]
        cdef Py_ssize_t k = _as_index(at)
        if k < 0:
            k += self.n
        if k < 0 or k >= self.n:
            raise IndexError("FileList index out of range")
        return self.item(k)

    def __iter__(self):
        cdef Py_ssize_t k
        for k in range(self.n):
            yield self.item(k)

    def __eq__(self, other):
        if isinstance(other, (FileList, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        return f"FileList({list(self)!r})"


Sequence.register(FileList)


cdef tuple _walk_result(av_listing* l, int rc, str path):
    """_result, with the files as a FileList that takes over the listing's names."""
    if rc:
        av_free(l)
        raise OSError(rc, os.strerror(rc), path)
    cdef FileList files = FileList.__new__(FileList)
    cdef list dirs = [], links = [], specials = [], failed = []
    cdef size_t i, n_files = 0
    cdef av_entry* e
    cdef FileItem* f
    try:
        for i in range(l.n):
            if l.items[i].kind == AV_FILE:
                n_files += 1
        files.items = <FileItem*>malloc(max(n_files, 1) * sizeof(FileItem))
        if files.items == NULL:
            raise MemoryError()
        files.names, l.names = l.names, NULL  # (freed with the FileList)
        files.utf8 = l.plain
        for i in range(l.n):
            e = &l.items[i]
            if e.kind == AV_FILE:
                f = &files.items[files.n]
                f.name, f.name_len, f.size, f.mtime_ns = e.name, <Py_ssize_t>e.name_len, e.size, e.mtime_ns
                files.n += 1
                continue
            name = PyUnicode_DecodeFSDefaultAndSize(e.name, <Py_ssize_t>e.name_len)
            if e.kind == AV_DIR:
                dirs.append(name)
            elif e.kind == AV_LINK:
                links.append(name)
            elif e.kind == AV_SPECIAL:
                specials.append((name, e.code))
            else:
                failed.append((name, e.code))
        hidden, small, error = l.hidden, l.small, l.error
    finally:
        av_free(l)
    return files, dirs, links, specials, failed, hidden, small, error
