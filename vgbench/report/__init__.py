"""``vgbench report``: a static, browsable error-analysis report of a predictions file.

>>> from vgbench.report import build_report
>>> build_report("preds.jsonl", "data", "report", config="grefcoco_unc", split="val",
...              images="src/images")  # doctest: +SKIP

The folder opens from disk with no server and no network: metrics of every protocol with bootstrap
intervals, breakdowns (target type, number of targets, object size, expression length, category),
a gallery of expression cards with filters, sorting and paging, and with ``compare=`` a second model
side by side with the paired statistics of ``vgbench compare``. See docs/report.md.
"""

from __future__ import annotations

from vgbench.report.build import MARKER, build_report

__all__ = ["MARKER", "build_report"]
