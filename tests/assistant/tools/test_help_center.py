"""search_help_center over a real small HelpCenterIndex (Chroma + MiniLM), run through a Toolkit."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.tools import CustomerScope, Toolkit
from assistant.tools.help_center import hit_to_dict
from knowledge.settings import Settings

ARTICLES = {
    "returns.md": (
        "---\nid: returns-policy\ntitle: Returning an item\nurl: https://help.example.com/returns\n---\n"
        "# Returning an item\n\nDelivered orders can be returned. The refund goes to the original payment "
        "method or to a gift card. You will receive an email explaining how to send the items back.\n"
    ),
    "shipping.md": (
        "---\nid: shipping-times\ntitle: Shipping times\nurl: https://help.example.com/shipping\n---\n"
        "# Shipping times\n\nStandard shipping takes 3 to 5 business days. Express shipping arrives the "
        "next business day when ordered before noon.\n"
    ),
    "password.md": (
        "---\nid: reset-password\ntitle: Resetting your password\nurl: https://help.example.com/password\n"
        "---\n# Resetting your password\n\nUse the 'Forgot password' link on the sign-in page; we send a "
        "reset link to your email address.\n"
    ),
}


@pytest.mark.slow
def test_search_help_center_returns_cited_hits_from_a_real_index(settings: Settings, tmp_path: Path) -> None:
    from knowledge.index import HelpCenterIndex

    source = tmp_path / "articles"
    source.mkdir()
    for name, text in ARTICLES.items():
        (source / name).write_text(text)
    index = HelpCenterIndex(settings)
    report = index.ingest([source], progress=False)
    assert report.ok, report.errors

    toolkit = Toolkit(None, help_center=index)  # the help centre never opens a shop transaction
    result = toolkit.run(
        CustomerScope.customer(), "search_help_center", {"query": "how long does express delivery take?"}
    )
    assert result.ok, result.error
    top = result.output["hits"][0]
    assert top["article_id"] == "shipping-times"
    assert top["url"] == "https://help.example.com/shipping"
    assert "next business day" in top["text"]

    tools = {t.name: t for t in toolkit.langchain_tools(CustomerScope.customer())}
    assert "returns-policy" in tools["search_help_center"].invoke({"query": "refund to a gift card"})


def test_hit_to_dict_keeps_the_citation_fields_only() -> None:
    hit = {
        "article_id": "a1",
        "title": "T",
        "url": "u",
        "locale": "fr",
        "text": "x" * 5000,
        "score": 0.123456,
        "secret": 1,
    }
    assert hit_to_dict(hit) == {
        "article_id": "a1",
        "title": "T",
        "url": "u",
        "locale": "fr",
        "text": "x" * 1500,
        "score": 0.1235,
    }
