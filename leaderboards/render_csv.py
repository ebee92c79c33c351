"""CSV rendering: one line per table row, the table's layout flattened (no highlighting).

Columns: ``group``, ``kind`` (published / reproduced / delta / computed, see `leaderboards.build.Row`:
``computed`` rows come from computed-only tables, not from re-scoring a published model), the label
columns, then one column per value column named by its key (``dataset/split/metric``). Values are the
shown texts, exactly as printed. A table with cross-source conflicts has a last column ``footnotes``: for each footnoted cell
of the row, ``<column key>: <footnote>``, joined by `` | ``.
"""

from __future__ import annotations

import csv
import io

from leaderboards.build import BuiltTable

__all__ = ["render_csv"]


def render_csv(table: BuiltTable) -> str:
    """The CSV text of one table part (``\\n`` line ends)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    extra = ["footnotes"] if table.footnotes else []
    writer.writerow(["group", "kind", *table.header.labels, *table.header.leaf_keys, *extra])
    group = ""
    for row in table.rows:
        if row.kind == "group":
            group = row.labels[0]
            continue
        notes = [
            f"{key}: {table.footnotes[i - 1]}"
            for key, cell in zip(table.header.leaf_keys, row.cells)
            for i in cell.notes
        ]
        writer.writerow(
            [
                group,
                row.kind,
                *row.labels,
                *(c.text for c in row.cells),
                *([" | ".join(notes)] if extra else []),
            ]
        )
    return buf.getvalue()
