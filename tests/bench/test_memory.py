"""The one peak-memory figure the benchmarks report, against the kernel's own account."""

from __future__ import annotations

from pathlib import Path

import pytest

from smhr.bench.memory import peak_rss_mib

STATUS = Path("/proc/self/status")


@pytest.mark.skipif(not STATUS.is_file(), reason="needs Linux /proc")
def test_peak_rss_is_the_kernels_high_water_mark_in_mib():
    ours = peak_rss_mib()
    line = next(line for line in STATUS.read_text().splitlines() if line.startswith("VmHWM:"))
    kib = float(line.split()[1])
    assert line.split()[2] == "kB"
    assert ours == pytest.approx(kib / 1024, abs=2.0)
