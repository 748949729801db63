"""Blocks and records every network attempt of a Python process (and its Python children).

Put this folder on PYTHONPATH and set COGAUDIO_NETLOG=<file>: Python imports `sitecustomize`
at start-up, so every IP socket connect/send and every name lookup of the process is refused
(OSError ENETUNREACH, like a machine without network) and written to the log, one line each.
Unix sockets (D-Bus, X, PulseAudio) are local and pass. Used by tests/integration/test_no_network.py
and bench/no_network.py; the only sound-card/GPU/network stand-in is this refusal.
"""

import errno
import os
import socket

_LOG = os.environ.get("COGAUDIO_NETLOG")

if _LOG:
    _IP = (socket.AF_INET, socket.AF_INET6)

    def _record(what: str, target) -> None:
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {what} {target!r}\n")

    def _guard(name: str):
        original = getattr(socket.socket, name)

        def guarded(self, *args, **kwargs):
            if self.family in _IP:
                _record(name, args[-1] if args else kwargs)
                raise OSError(errno.ENETUNREACH, "network blocked (test)")
            return original(self, *args, **kwargs)

        return guarded

    for _name in ("connect", "connect_ex", "sendto", "sendmsg"):
        setattr(socket.socket, _name, _guard(_name))

    def _no_lookup(host, *args, **kwargs):
        _record("getaddrinfo", host)
        raise socket.gaierror(socket.EAI_NONAME, "name lookup blocked (test)")

    socket.getaddrinfo = _no_lookup
