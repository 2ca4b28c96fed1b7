"""search_help_center: a thin READ tool over the help-centre index, and the index as the tool sees it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, StringConstraints

from assistant.tools.base import ToolArgs, ToolContext, ToolError, ToolKind, tool
from knowledge.language import detect_language

if TYPE_CHECKING:
    from knowledge.index import HelpCenterIndex
    from knowledge.settings import Settings

MAX_QUERY_CHARS = 1000
MAX_HIT_TEXT_CHARS = 1500  # a chunk is about 1200 characters; longer text is cut, the citation stays
HIT_FIELDS = ("article_id", "title", "section", "url", "locale", "text", "score")


SEARCH_UNAVAILABLE = "The help centre search is unavailable right now"


class SearchUnavailable(ToolError):
    """The index cannot be read (damaged, moved, being repaired): hand over rather than guess."""


class HelpCenter:
    """search_help_center's view of the index: top-k hits, and an empty list when nothing is indexed yet.

    Articles in the customer's language come first; all languages are searched when those do not answer.
    """

    def __init__(
        self,
        settings: Settings,
        index: HelpCenterIndex | None = None,
        encoder: Callable[[list[str]], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.encoder = encoder  # the conversation's cached encoder: one encode of a message serves all
        if index is not None:
            self.__dict__["index"] = index  # a given index (the eval wraps one to break it on purpose)

    @cached_property
    def index(self) -> HelpCenterIndex:
        from knowledge.index import HelpCenterIndex

        return HelpCenterIndex(self.settings, query_encoder=self.encoder)

    def search(self, query: str) -> list[Any]:
        """The hits; [] when nothing is indexed yet. A damaged or missing index raises SearchUnavailable:
        the agent cannot search, so the customer is handed to a person instead of told "I don't know"."""
        from knowledge.index import IndexUnavailable, KnowledgeIndexError

        try:
            k = self.settings.search_k
            hits = list(self.index.search(query, k=k, locale=detect_language(query)))
            if not hits or max(h.score for h in hits) < self.settings.min_answer_score:
                hits = list(self.index.search(query, k=k))
            return hits
        except IndexUnavailable as exc:
            raise SearchUnavailable(SEARCH_UNAVAILABLE) from exc
        except KnowledgeIndexError:
            return []


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


@tool(ToolKind.READ, SearchArgs, needs_authentication=False, uses_shop=False)
def search_help_center(ctx: ToolContext, args: SearchArgs) -> dict[str, Any]:
    """Search the help centre (policies, shipping, returns, account questions). Returns the most relevant
    passages with their article id, title and url: answer from them and cite the article."""
    if ctx.help_center is None:
        raise SearchUnavailable(SEARCH_UNAVAILABLE)
    if not args.query.strip():
        raise ToolError("The search query is empty")
    hits = ctx.help_center.search(args.query)
    return {"query": args.query, "hits": [hit_to_dict(hit) for hit in hits]}


SPECS = (search_help_center,)
