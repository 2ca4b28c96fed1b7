"""The baseline to beat: a plain LangChain retrieval chain over the SAME Chroma collection.

retriever (langchain-chroma, vector similarity, k=5) -> "stuff" prompt -> model. Offline there is no
generative model, so the offline baseline's answer is the stuffed context's first document: what a naive
RAG returns without our planner, hybrid search, thresholds or grounding checks. It never declines and
always "cites" its top document. With the openai provider the stuffed prompt goes to ChatOpenAI (the
same model and endpoint as the assistant).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from knowledge.settings import Settings

STUFF_PROMPT = (
    "Answer the customer's question using only the context below. If the context does not contain the "
    "answer, say you don't know.\n\nContext:\n{context}\n\nQuestion: {question}\nAnswer:"
)


class EmbedderAsLangChain(Embeddings):
    """Our embedder (MiniLM from the PyPI package, or OpenAI-compatible) as LangChain Embeddings."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return list(self.embedder.embed_documents(texts))

    def embed_query(self, text: str) -> list[float]:
        return list(self.embedder.embed_query(text))


@dataclass
class BaselineAnswer:
    answer: str
    retrieved: list[str] = field(default_factory=list)  # article ids, best first
    cited: list[str] = field(default_factory=list)


class NaiveRagBaseline:
    def __init__(self, settings: Settings, embedder: Any, client: Any | None = None, k: int = 5) -> None:
        from langchain_chroma import Chroma

        from knowledge.index import get_chroma_client

        self.settings = settings
        self.k = k
        self.store = Chroma(
            client=client or get_chroma_client(settings),
            collection_name=settings.help_collection,
            embedding_function=EmbedderAsLangChain(embedder),
        )
        self.retriever = self.store.as_retriever(search_kwargs={"k": k})
        self.llm: Any = None
        if settings.effective_llm_provider == "openai":
            from assistant.agent import build_openai_model

            self.llm = build_openai_model(settings, streaming=False)

    def answer(self, question: str) -> BaselineAnswer:
        docs = self.retriever.invoke(question)
        retrieved = [str(d.metadata.get("article_id", "")) for d in docs]
        if not docs:
            return BaselineAnswer(answer="", retrieved=[])
        if self.llm is None:
            return BaselineAnswer(answer=docs[0].page_content, retrieved=retrieved, cited=retrieved[:1])
        context = "\n\n".join(d.page_content for d in docs)
        reply = self.llm.invoke(STUFF_PROMPT.format(context=context, question=question))
        return BaselineAnswer(answer=str(reply.content), retrieved=retrieved, cited=retrieved[:1])
