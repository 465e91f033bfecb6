"""Small HTML pieces of the report, shared by the report and the methods' report parts (numbers the reader's way)."""
from __future__ import annotations

import html
import re

from . import i18n


def pct(value) -> str:
    return i18n.percent(value)


def num(value, digits=3) -> str:
    return i18n.number(value, digits)


def table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def figure(fig) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def answer_cell(text) -> str:
    """An answer in an HTML table cell: escaped, its line breaks and indentation kept (the report's <pre> is
    white-space: pre-wrap), so code written without Markdown fences stays code."""
    return f"<pre>{html.escape(str(text))}</pre>"


# Every ASCII punctuation character can be escaped in Markdown; escaping them all keeps an answer's `*`, `#`, `<`,
# `$` (Streamlit's maths) and `:` (its icons and colours) as they are.
_MARKDOWN_SPECIAL = re.compile(r"([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")


def answer_markdown(text) -> str:
    """An answer as Markdown that shows exactly its text: nothing in it is read as Markdown or HTML, each line
    break stays a line break, and leading or repeated spaces (indentation) stay, as non-breaking spaces."""
    def spaces(found):
        n = len(found.group())
        return "&nbsp;" * n if found.start() == 0 else " " + "&nbsp;" * (n - 1)

    lines = []
    for line in str(text).replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").expandtabs(4).split("\n"):
        line = re.sub(r" +", spaces, _MARKDOWN_SPECIAL.sub(r"\\\1", line))
        lines.append(line or "&nbsp;")  # an empty line stays a line, not the end of a paragraph
    return "  \n".join(lines)  # two spaces before a line break: a hard break in Markdown
