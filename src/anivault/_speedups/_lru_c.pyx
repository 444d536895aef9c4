# cython: language_level=3
"""In-memory LRU + TTL index, compiled twin of _lru_py.py (same behaviour).

A dict maps each key to a node of a circular doubly-linked list (the root's
``nxt`` is the least recently used entry), so a hit is one dict lookup and
four pointer moves; the clock is only read for entries that can expire.
"""
import time

from libc.math cimport INFINITY


cdef class _Node:
    cdef _Node prev
    cdef _Node nxt
    cdef object key
    cdef object value
    cdef double expires


cdef class LRUCache:
    """At most ``capacity`` entries; the least recently used one leaves first.

    ``ttl`` is the default lifetime in seconds (None: entries never expire);
    ``put(..., ttl=...)`` overrides it per entry.
    """

    cdef dict _map
    cdef _Node _root
    cdef Py_ssize_t _capacity
    cdef double _ttl
    cdef object _clock
    cdef Py_ssize_t _hits, _misses, _evictions, _expirations

    def __init__(self, capacity, ttl=None, clock=time.monotonic):
        if capacity < 1:
            raise ValueError(f"LRUCache capacity must be at least 1, got {capacity}")
        self._capacity = int(capacity)
        self._ttl = INFINITY if ttl is None else float(ttl)
        self._clock = clock
        self._map = {}
        self._root = _Node()
        self._root.prev = self._root
        self._root.nxt = self._root
        self._hits = self._misses = self._evictions = self._expirations = 0

    cdef inline void _unlink(self, _Node node):
        node.prev.nxt = node.nxt
        node.nxt.prev = node.prev

    cdef inline void _append(self, _Node node):
        # Most recently used sits just before the root.
        cdef _Node last = self._root.prev
        node.prev = last
        node.nxt = self._root
        last.nxt = node
        self._root.prev = node

    cdef inline bint _expired(self, _Node node) except -1:
        return node.expires != INFINITY and node.expires <= <double>self._clock()

    cdef inline void _drop(self, _Node node):
        self._unlink(node)
        del self._map[node.key]
        node.prev = node.nxt = None

    def get(self, key, default=None):
        """The live value (now the most recently used), or ``default``."""
        cdef object found = self._map.get(key)
        cdef _Node node
        if found is None:
            self._misses += 1
            return default
        node = <_Node>found
        if self._expired(node):
            self._drop(node)
            self._expirations += 1
            self._misses += 1
            return default
        if node is not self._root.prev:
            self._unlink(node)
            self._append(node)
        self._hits += 1
        return node.value

    def put(self, key, value, ttl=None):
        """Store ``value`` as the most recently used entry, evicting the LRU one when full."""
        cdef double lifetime = self._ttl if ttl is None else float(ttl)
        cdef double expires = INFINITY if lifetime == INFINITY else <double>self._clock() + lifetime
        cdef object found = self._map.get(key)
        cdef _Node node
        if found is not None:
            node = <_Node>found
            node.value = value
            node.expires = expires
            self._unlink(node)
            self._append(node)
            return
        node = _Node()
        node.key = key
        node.value = value
        node.expires = expires
        self._map[key] = node
        self._append(node)
        if len(self._map) > self._capacity:
            self._drop(self._root.nxt)
            self._evictions += 1

    def pop(self, key, default=None):
        """Remove ``key``; its live value, or ``default`` (also when it had expired)."""
        cdef object found = self._map.get(key)
        cdef _Node node
        if found is None:
            return default
        node = <_Node>found
        expired = self._expired(node)
        self._drop(node)
        if expired:
            self._expirations += 1
            return default
        return node.value

    def __contains__(self, key):
        """Live membership; does not count as a use."""
        cdef object found = self._map.get(key)
        return found is not None and not self._expired(<_Node>found)

    def __len__(self):
        """Entries held, including expired ones not yet dropped."""
        return len(self._map)

    def purge_expired(self):
        """Drop every expired entry; how many went."""
        cdef double now = self._clock()
        cdef _Node node = self._root.nxt
        cdef _Node following
        cdef Py_ssize_t dropped = 0
        while node is not self._root:
            following = node.nxt
            if node.expires != INFINITY and node.expires <= now:
                self._drop(node)
                dropped += 1
            node = following
        self._expirations += dropped
        return dropped

    def clear(self):
        cdef _Node node = self._root.nxt
        cdef _Node following
        while node is not self._root:  # break the cycles so nodes are freed at once
            following = node.nxt
            node.prev = node.nxt = None
            node = following
        self._root.prev = self._root
        self._root.nxt = self._root
        self._map.clear()

    def keys(self):
        """Held keys, least recently used first."""
        cdef list out = []
        cdef _Node node = self._root.nxt
        while node is not self._root:
            out.append(node.key)
            node = node.nxt
        return out

    @property
    def capacity(self):
        return self._capacity

    @property
    def stats(self):
        return {"hits": self._hits, "misses": self._misses, "evictions": self._evictions,
                "expirations": self._expirations, "size": len(self._map),
                "capacity": self._capacity}
