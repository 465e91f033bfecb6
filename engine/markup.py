"""Small HTML pieces of the report, shared by the report and the methods' report parts (numbers the reader's way)."""
from __future__ import annotations

import html

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
