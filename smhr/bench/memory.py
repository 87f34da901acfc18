"""Peak resident memory of the running process, the one memory figure every benchmark reports."""

from __future__ import annotations

import resource
import sys


def peak_rss_mib() -> float:
    """The process's peak resident set size so far, in MiB (``getrusage(RUSAGE_SELF).ru_maxrss``).

    ``ru_maxrss`` is in KiB on Linux and in bytes on macOS. The figure never decreases; a case's
    own memory is the difference between two calls around it in a fresh process.
    """
    per_mib = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / per_mib
