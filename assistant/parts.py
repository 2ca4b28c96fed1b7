"""The composition root: every part of the service, built from the settings on first use.

`ServiceParts(settings, guard=..., shop=...)` replaces any part (tests, the evaluation, a benchmark)
without touching the others; each part is built once, when something first needs it, because some are slow
(the embedding model, the index) and many callers need only a few (the API's health check needs none).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from langgraph.types import Checkpointer

from assistant.agent import build_agent, build_checkpointer, build_openai_model
from assistant.breaker import CircuitBreaker
from assistant.contacts.memory import ContactMemory
from assistant.guard.guard import SentimentGuard
from assistant.identity.signin import CodeSignIn
from assistant.model_gate import ModelPool
from assistant.planner.intents import Encoder
from assistant.planner.model import OfflinePlannerChatModel
from assistant.planner.planner import OfflinePlanner
from assistant.prompts import Replies
from assistant.reply import SupportCheck
from assistant.routing.router import Router, shop_orders
from assistant.shop.store import ShopStore
from assistant.store.conversations import ConversationStore
from assistant.tools.help_center import HelpCenter
from assistant.tools.toolkit import Toolkit
from knowledge.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from knowledge.embeddings import Embedder


class GivenParts(TypedDict, total=False):
    """The parts a caller may give instead of having them built from the settings: None (or none given)
    builds it, but for primary_model None means no model."""

    conversations: ConversationStore | None
    shop: ShopStore | None
    help_center: HelpCenter | None
    embedder: Embedder | None
    encoder: Encoder | None
    guard: SentimentGuard | None
    checkpointer: Checkpointer | None
    primary_model: BaseChatModel | None


class ServiceParts:
    """The parts of a SupportService. Pass a part to use it instead of building one from the settings."""

    def __init__(self, settings: Settings, **given: Unpack[GivenParts]) -> None:
        self.settings = settings
        for name, part in given.items():
            if part is not None or name == "primary_model":
                self.__dict__[name] = part  # what cached_property would have stored

    @property
    def provider(self) -> str:
        return self.settings.effective_llm_provider

    @cached_property
    def conversations(self) -> ConversationStore:
        store = ConversationStore(str(self.settings.database_url))
        store.migrate()
        return store

    @cached_property
    def shop(self) -> ShopStore:
        store = ShopStore(str(self.settings.database_url))
        store.migrate()
        return store

    @cached_property
    def help_center(self) -> HelpCenter:
        return HelpCenter(self.settings, encoder=self.encoder)

    @cached_property
    def embedder(self) -> Embedder:
        from knowledge.embeddings import get_embedder

        return get_embedder(self.settings)

    @cached_property
    def encoder(self) -> Encoder:
        """The embedder with a cache: planner and guard embed the same sentences turn after turn."""
        from knowledge.embeddings import CachedEncoder

        return CachedEncoder(self.embedder.encode)

    @cached_property
    def contact_memory(self) -> ContactMemory:
        """Contacts with their channel identities, and what they said on other channels."""
        from assistant.contacts.store import ContactStore

        settings = self.settings
        store = ContactStore(str(settings.database_url))
        days, limit = settings.channel_memory_days, settings.channel_memory_conversations
        return ContactMemory(store, self.conversations, days=days, limit=limit)

    @cached_property
    def router(self) -> Router:
        """The desk's routing: teams, skills, capacity, priority, business hours (assistant/routing)."""
        return Router(self.settings, orders_of=shop_orders(self.shop))

    @cached_property
    def support_check(self) -> SupportCheck:
        """A model's sentences must each be supported by a retrieved passage (lexical + meaning)."""
        return SupportCheck(encode=self.encoder)

    @cached_property
    def sign_in(self) -> CodeSignIn:
        """Signing a conversation in with a one-time code mailed to the email on file (verified policy)."""
        from assistant.identity.mailer import smtp_code_sender
        from assistant.identity.otp import OneTimeCodes

        s = self.settings
        codes = OneTimeCodes(
            str(s.database_url),
            ttl_s=s.otp_ttl_s,
            max_attempts=s.otp_max_attempts,
            max_per_hour=s.otp_max_per_hour,
        )
        self.conversations  # noqa: B018  (the codes' table is created with the conversations' schema)
        shop = self.shop

        def find_user(email: str) -> str | None:
            with shop.transaction() as session:
                ids = session.find_user_ids_by_email(email)
            return ids[0] if len(ids) == 1 else None

        return CodeSignIn(codes, find_user, smtp_code_sender(s), self.replies)

    @cached_property
    def replies(self) -> Replies:
        return Replies(self.settings.shop_name)

    @cached_property
    def toolkit(self) -> Toolkit:
        return Toolkit(self.shop, self.help_center, replies=self.replies)

    @cached_property
    def planner(self) -> OfflinePlanner:
        return OfflinePlanner(
            self.encoder,
            self.toolkit,
            shop_name=self.settings.shop_name,
            min_answer_score=self.settings.min_answer_score,
            identity_policy=self.settings.identity_policy,
        )

    @cached_property
    def guard(self) -> SentimentGuard:
        model_sentiment = None
        if self.provider == "openai" and self.settings.guard_model_sentiment:
            from assistant.model_helpers import ModelSentiment

            model_sentiment = ModelSentiment(self.settings, breaker=self.model_breaker)
        return SentimentGuard(self.settings, similarity=self.encoder, model_sentiment=model_sentiment)

    @cached_property
    def checkpointer(self) -> Checkpointer:
        return build_checkpointer(self.settings)

    @cached_property
    def offline_model(self) -> OfflinePlannerChatModel:
        return OfflinePlannerChatModel(planner=self.planner)

    @cached_property
    def primary_model(self) -> BaseChatModel | None:
        """The configured remote model (provider openai), or None: the offline planner answers."""
        return build_openai_model(self.settings) if self.provider == "openai" else None

    @cached_property
    def model_pool(self) -> ModelPool:
        """The remote model's own threads: at most model_concurrency calls at once, apart from requests."""
        return ModelPool(self.settings.model_concurrency)

    @cached_property
    def model_breaker(self) -> CircuitBreaker:
        """Open while the remote model keeps failing: turns go straight to the offline planner."""
        return CircuitBreaker(self.settings.breaker_failures, self.settings.breaker_cooldown_s)

    @cached_property
    def agent(self) -> Any:
        """The customer agent: guard first, WRITE tools wait for the customer's yes."""
        return self._agent(guard=self.guard)

    @cached_property
    def copilot_agent(self) -> Any:
        """The same agent for human agents' suggestions: no guard, WRITE tools interrupt and never run."""
        return self._agent(guard=None)

    def _agent(self, guard: SentimentGuard | None) -> Any:
        return build_agent(
            self.settings,
            offline_model=self.offline_model,
            primary_model=self.primary_model,
            toolkit=self.toolkit,
            guard=guard,
            checkpointer=self.checkpointer,
            actions=self.conversations.actions,
            model_pool=self.model_pool,
            breaker=self.model_breaker,
        )
