"""Owning llama.cpp / mtmd native handles from Python, and keeping their logs quiet.

The audio engine drives llama.cpp through its C bindings (llama_cpp, llama_cpp.mtmd_cpp), so
every model, context, adapter and bitmap it creates must be freed by hand, in the reverse
order of creation, whatever fails in between; `NativeHandles` is that one owner.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

from core.models.manifest import ModelAssetError


def quiet_native_logs(mtmd_cpp) -> None:
    """Route llama.cpp and mtmd logs through llama-cpp-python's logger at ERROR level: load
    errors (e.g. a width mismatch) still reach stderr, the per-turn progress lines do not."""
    from llama_cpp import _logger

    _logger.set_verbose(False)
    mtmd_cpp.mtmd_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
    mtmd_cpp.mtmd_helper_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))


class NativeHandles:
    """Native handles with one owner: `add` in creation order, `close` frees in reverse."""

    def __init__(self) -> None:
        self._stack: list[tuple[str, Callable[[object], None], object]] = []

    def add(self, name: str, handle: object, free: Callable[[object], None]) -> object:
        if not handle:
            self.close()
            raise ModelAssetError(f"llama.cpp could not create the {name}; see the lines it printed above")
        self._stack.append((name, free, handle))
        return handle

    def close(self) -> None:
        while self._stack:
            _, free, handle = self._stack.pop()
            free(handle)
