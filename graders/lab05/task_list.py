"""Task list items of a Markdown file (the PR template's checklist), read as GitHub renders them."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from mdit_py_plugins.tasklists import tasklists_plugin

HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def task_items(markdown: str) -> list[str]:
    """The text of every task list item, as GitHub renders them.

    markdown-it-py with the tasklists plugin follows GitHub's rule: a list item, bulleted or ordered
    (``1. [ ] ...``), whose first paragraph starts with ``[ ]`` or ``[x]``; items in code blocks or
    HTML comments do not show on the pull request and do not count.
    """
    tokens = MarkdownIt("commonmark").use(tasklists_plugin).parse(HTML_COMMENT.sub("", markdown))
    items = []
    for i, token in enumerate(tokens):
        if token.type == "list_item_open" and "task-list-item" in str(token.attrs.get("class", "")):
            inline = next((t for t in tokens[i + 1 : i + 3] if t.type == "inline"), None)
            if inline is not None:
                items.append(inline.content.strip())
    return items
