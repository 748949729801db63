"""Hand the memory a finished turn freed back to the operating system (glibc's malloc_trim).

A spoken turn allocates and frees a lot of native memory on several threads (the recogniser,
the language model's batches, the voice, numpy buffers). glibc keeps what is freed in
per-thread arenas for reuse and returns it to the system only from the top of a heap, so the
resident size of a long conversation climbs in steps. bench/soak.py (issue 14, same machine,
same hour): without a trim 755.6 MB at turn 10 and 815.0 MB at turn 40; with one after every
turn 660.9 and 699.3 MB. What still grows follows the conversation's length in the language
model's context (its KV cache is touched as positions fill) and stops at n_ctx.
`malloc_trim(0)` walks every arena and releases its free pages; it costs a few milliseconds,
once per turn, when no other turn is running.
Where the C library is not glibc (macOS, Windows, musl) there is no such call and this does
nothing: those allocators return memory on their own terms. Python's ctypes is the only way
to reach the call; no library wraps it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)


class HeapTrimmer:
    """`trim()` releases freed heap pages to the system; a no-op where glibc is absent."""

    def __init__(self) -> None:
        self._trim = None
        if sys.platform.startswith("linux"):
            try:
                self._trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
                self._trim.argtypes = [ctypes.c_size_t]
                self._trim.restype = ctypes.c_int
            except (OSError, AttributeError):  # musl and other C libraries have no malloc_trim
                log.debug("malloc_trim is not available; freed memory stays with the allocator")
                self._trim = None

    @property
    def available(self) -> bool:
        return self._trim is not None

    def trim(self) -> bool:
        """True when memory was handed back (glibc's own answer)."""
        return bool(self._trim(0)) if self._trim is not None else False
