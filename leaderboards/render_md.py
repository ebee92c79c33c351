"""Markdown rendering of built tables (GitHub-flavoured; bold best, <u>underline</u> second)."""

from __future__ import annotations

from collections.abc import Sequence

from leaderboards.build import BuiltTable

__all__ = ["leaf_labels", "render_markdown"]


def leaf_labels(table: BuiltTable) -> list[str]:
    """One header text per value column: its level labels joined by spaces ("RefCOCO val")."""
    per_col: list[list[str]] = [[] for _ in table.header.leaf_keys]
    for level in table.header.levels:
        i = 0
        for label, span in level:
            for j in range(i, i + span):
                if label:
                    per_col[j].append(label)
            i += span
    return [" ".join(parts) for parts in per_col]


def _esc(text: str) -> str:
    return text.replace("|", "\\|")


_MARKUP = ("**{}**", "<u>{}</u>", "<sup>{}</sup>")  # best, second, footnote numbers


def _part(table: BuiltTable, level: int) -> list[str]:
    lines = [f"{'#' * level} {table.title}", ""]
    about = " ".join(
        x
        for x in (table.caption, "; ".join(table.header.constant) + "." if table.header.constant else "")
        if x
    )
    lines += [x for x in (about, f"*{table.source}.*") if x]
    lines.append("")
    heads = [*table.header.labels, *leaf_labels(table)]
    nlab = len(table.header.labels)
    lines.append("| " + " | ".join(_esc(h) for h in heads) + " |")
    lines.append("|" + "|".join([":--"] * nlab + ["--:"] * len(table.header.leaf_keys)) + "|")
    for row in table.rows:
        if row.kind == "group":
            cells = [f"*{_esc(row.labels[0])}*"] + [""] * (len(heads) - 1)
        else:
            labels = [_esc(t) for t in row.labels]
            if row.kind == "delta":
                labels[0] = f"*{labels[0]}*"
            cells = labels + [c.render(_esc, *_MARKUP) for c in row.cells]
        lines.append("| " + " | ".join(cells) + " |")
    if table.notes:
        lines.append("")
        lines += [f"- Note: {n}" for n in table.notes]
    if table.footnotes:
        lines += [
            "",
            "Printed differently by another source (numbers above are as this source prints them):",
            "",
        ]
        lines += [f"- <sup>{i}</sup> {_esc(text)}" for i, text in enumerate(table.footnotes, 1)]
    lines.append("")
    return lines


def render_markdown(title: str, tables: Sequence[BuiltTable]) -> str:
    """The Markdown document of one table name: a title, then each part as a section."""
    if len(tables) == 1:
        return "\n".join(_part(tables[0], 2)).rstrip("\n") + "\n"
    lines = [f"# {title}", ""]
    for t in tables:
        lines += _part(t, 2)
    return "\n".join(lines).rstrip("\n") + "\n"
