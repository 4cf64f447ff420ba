"""A report's Markdown as one standalone HTML page, for people who open it in a browser or a CI artifact.

markdown-it-py (the CommonMark parser rich renders with) turns the Markdown
the report already writes into HTML, tables included. Raw HTML in the
Markdown is not passed through: a deployment's answer quoted in a report
(an HTML error page, say) shows as text and cannot run in the reader's browser.
"""

from __future__ import annotations

from html import escape

from markdown_it import MarkdownIt

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #c8c8c8; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
td code { white-space: pre-wrap; word-break: break-all; }
pre { background: #f4f4f4; padding: 0.5rem; overflow-x: auto; }
h2 { border-top: 1px solid #c8c8c8; padding-top: 1rem; }
"""


def page(title: str, markdown: str) -> str:
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>"
    )
