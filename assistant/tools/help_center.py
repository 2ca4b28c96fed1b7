"""search_help_center: a thin READ tool over knowledge.index.HelpCenterIndex (injected by the caller)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from assistant.tools.base import ToolArgs, ToolContext, ToolError, ToolKind, retail_tool

MAX_QUERY_CHARS = 1000
MAX_HIT_TEXT_CHARS = 1500  # a chunk is about 1200 characters; longer text is cut, the citation stays
HIT_FIELDS = ("article_id", "title", "section", "url", "locale", "text", "score")


class SearchArgs(ToolArgs):
    query: Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUERY_CHARS)] = Field(
        description="What to look up in the help centre, in the customer's words."
    )


def hit_to_dict(hit: Any) -> dict[str, Any]:
    """The citable parts of a knowledge.index.SearchHit (article id, title, url, text, score)."""
    out: dict[str, Any] = {}
    for name in HIT_FIELDS:
        value = hit.get(name) if isinstance(hit, dict) else getattr(hit, name, None)
        if value is None:
            continue
        if name == "text" and isinstance(value, str):
            value = value[:MAX_HIT_TEXT_CHARS]
        if name == "score":
            value = round(float(value), 4)
        out[name] = value
    return out


@retail_tool(ToolKind.READ, SearchArgs, needs_authentication=False, uses_shop=False)
def search_help_center(ctx: ToolContext, args: SearchArgs) -> dict[str, Any]:
    """Search the help centre (policies, shipping, returns, account questions). Returns the most relevant
    passages with their article id, title and url: answer from them and cite the article."""
    if ctx.help_center is None:
        raise ToolError("The help centre search is not available right now")
    if not args.query.strip():
        raise ToolError("The search query is empty")
    hits = ctx.help_center.search(args.query)
    return {"query": args.query, "hits": [hit_to_dict(hit) for hit in hits]}
