"""The one Settings object: read once from the environment (prefix PARLEY_) and .env, passed down."""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARLEY_", env_file=".env", extra="ignore")

    # Where local state lives (SQLite files, the embedded Chroma index) unless a URL says otherwise.
    data_dir: Path = Path(".parley")

    # --- storage -------------------------------------------------------------------------------
    # Conversations and shop data share one database; SQLite by default, PostgreSQL by URL.
    database_url: str | None = None
    # LangGraph checkpointer: a SQLite file by default, a postgresql:// URL when configured.
    checkpoint_url: str | None = None

    # --- knowledge index -----------------------------------------------------------------------
    chroma_path: Path | None = None
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000 -> chromadb.HttpClient
    help_collection: str = "help_center"
    orders_collection: str = "orders"
    chunk_size: int = 1200  # characters per chunk (about 250 MiniLM tokens)
    chunk_overlap: int = 150
    search_k: int = 5
    hybrid_search: bool = True  # BM25 + vectors fused by reciprocal rank
    # Source files larger than this are reported and skipped by `parley ingest` (a help article is
    # kilobytes; a huge file is a mistake or hostile, and would stall embedding).
    max_source_file_bytes: int = 10_000_000
    # Below this relevance the agent says it does not know instead of answering.
    min_answer_score: float = 0.35

    # --- embeddings ----------------------------------------------------------------------------
    embedding_provider: Literal["local", "openai"] = "local"
    embedding_model: str = "all-MiniLM-L6-v2"
    embedding_base_url: str | None = None
    embedding_api_key: str | None = None
    embedding_batch_size: int = 64
    # Local model runtime: "onnx" (default: ONNX Runtime, fp32, the same vectors as torch at about half the
    # CPU and no torch import), "onnx-int8" (faster again, but τ² banking hit@5 fell 0.04 below torch's, so
    # not the default: docs/benchmarks.md) or "torch" (sentence-transformers).
    embedding_backend: Literal["onnx-int8", "onnx", "torch"] = "onnx"
    # ONNX Runtime intra-op threads per encode. 1: on 2 cores two concurrent requests each encode on their
    # own core, where 2 threads per encode made them queue (docs/benchmarks.md, "Threads").
    embedding_threads: int = 1
    # Where the ONNX export is cached (default: <data_dir>/models).
    embedding_cache_dir: Path | None = None

    # --- the shop ------------------------------------------------------------------------------
    shop_name: str = "Maple & Moss"  # how the assistant introduces itself

    # --- language model ------------------------------------------------------------------------
    # "auto": openai when llm_base_url is set, offline otherwise.
    llm_provider: Literal["auto", "offline", "openai"] = "auto"
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str | None = None
    llm_timeout_s: float = 30.0
    llm_max_retries: int = 2
    llm_temperature: float = 0.0
    # Deadlines (issue 11): a turn never waits on the model past turn_deadline_s (then the offline planner
    # answers); at most model_concurrency model calls run at once, in their own pool, and a turn that finds
    # no free slot within model_slot_wait_s is answered offline; after breaker_failures failures in a row
    # the circuit opens and turns skip the model for breaker_cooldown_s, then one call probes it.
    turn_deadline_s: float = 20.0
    model_concurrency: int = 4
    model_slot_wait_s: float = 0.5
    breaker_failures: int = 3
    breaker_cooldown_s: float = 30.0
    max_reply_chars: int = 4000  # a longer model reply is cut before it is stored or served
    # Customer turns an API worker runs at once (0: automatic). An offline turn is all CPU under one GIL:
    # more threads than cores only queue on the GIL and cost CPU; a turn waiting on a remote model does not.
    turn_threads: int = 0

    # --- sentiment guard -----------------------------------------------------------------------
    guard_negative_threshold: float = -0.6  # VADER compound of one message
    guard_trajectory_turns: int = 3
    guard_trajectory_threshold: float = -0.35  # mean compound over the last turns
    guard_repeat_similarity: float = 0.9  # cosine similarity of two customer messages = a repeat
    guard_repeat_count: int = 2  # repeats that count as a loop
    guard_failed_answers: int = 2  # bot failures in a row that count as a loop
    guard_shouting_ratio: float = 0.7  # share of upper-case letters in a long message
    # "Long" for shouting: "OK" or "DHL?" is not shouting, "WHERE IS MY ORDER" (15 letters) is.
    guard_shouting_min_letters: int = 12
    # A run of this many "!" in a negative message is shouting too ("still nothing!!!"; not "thanks!!!").
    guard_exclamation_run: int = 3
    # Weighted swear words (strong 1.0, mild 0.5): one strong word, or two mild ones, hand over.
    guard_profanity_threshold: float = 1.0
    # Earlier customer messages compared for repeats (bounds the embedding work per message).
    guard_history_turns: int = 10
    # The model's sentiment of each message instead of the lexicon's (provider openai only): one more model
    # call before every reply, so opt-in; the lexicon is used whenever the model fails.
    guard_model_sentiment: bool = False
    guard_model_timeout_s: float = 5.0  # also the timeout of the queue's model summaries
    expected_wait_minutes: int = 5

    # --- identity (docs/security.md) ------------------------------------------------------------
    # "verified": account data and changes need a proof (a shop-signed token, or a one-time code sent to the
    # email on file and typed back); knowing an email or a name + zip proves nothing. "tau2_benchmark":
    # τ²-bench's policy (an email, or name + zip, signs a conversation in), for the offline evaluation and
    # benchmarks only; the server logs a WARNING naming it at start.
    identity_policy: Literal["verified", "tau2_benchmark"] = "verified"
    # A customer token whose lifetime (exp - iat) is longer than this is refused, whatever its signature.
    customer_token_max_lifetime_s: int = Field(default=86_400, gt=0)

    # --- HTTP API ------------------------------------------------------------------------------
    # Both are refused by `parley serve` (exit code 2) while they are these defaults or under 32 bytes,
    # unless it runs as a demo (`parley demo`, `parley serve --insecure-demo`).
    customer_token_secret: str = "change-me-in-production"
    agent_keys: dict[str, str] = Field(default_factory=lambda: {"demo-agent": "demo-agent-key"})
    max_message_chars: int = 2000
    max_request_bytes: int = 16_384
    rate_limit_per_conversation: int = 20  # messages per minute
    rate_limit_per_ip: int = 120  # requests per minute
    cors_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:8000", "http://localhost:8000"]
    )
    api_url: str = "http://127.0.0.1:8000"  # where the console finds the API
    agent_key: str | None = None  # the console's own key

    # --- channels (docs/channels.md) ----------------------------------------------------------
    # Where customers and providers reach this deployment (links in SMS answers, Twilio's signed URL).
    public_url: str = "http://127.0.0.1:8000"
    # Email: the support address, outbound SMTP, inbound IMAP (polled by `parley worker`).
    email_address: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_timeout_s: float = 20.0
    imap_host: str | None = None
    imap_port: int = 993
    imap_username: str | None = None
    imap_password: str | None = None
    imap_ssl: bool = True
    imap_folder: str = "INBOX"
    imap_idle_s: float = 60.0  # IDLE wait per round when the server offers IDLE; 0 = plain polling
    imap_poll_s: float = 30.0
    # Inbound-parse webhook of a mail provider: Basic-auth password (JSON) / HMAC signing key (form).
    email_inbound_secret: str | None = None
    # WhatsApp (Meta Cloud API).
    whatsapp_verify_token: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_access_token: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_api_base: str = "https://graph.facebook.com/v21.0"
    # SMS (Twilio).
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_base: str = "https://api.twilio.com"
    sms_max_segments: int = 3
    # Generic signed API channel: HMAC-SHA256 secret in both directions, and where replies are posted.
    api_channel_secret: str | None = None
    api_channel_outbound_url: str | None = None
    # Delivery: attempts before a message is marked undelivered, and the backoff between them.
    channel_delivery_attempts: int = 5
    channel_retry_base_s: float = 2.0
    channel_retry_max_s: float = 300.0
    channel_provider_timeout_s: float = 15.0
    channel_worker_poll_s: float = 1.0
    # Memory across channels: how far back and how many earlier conversations the bot and agents see.
    channel_memory_days: int = 30
    channel_memory_conversations: int = 5
    # One-time codes (assistant/identity/otp.py).
    otp_ttl_s: int = 600
    otp_max_attempts: int = 5
    otp_max_per_hour: int = 5
    # --- desk (assistant/routing: teams, priority, SLAs, business hours; docs/console.md) ------------
    # Queue priority = guard severity + matching rules + bonuses; waiting adds this much per minute (ageing,
    # uncapped, so nobody starves).
    desk_ageing_per_minute: float = 0.02
    # A customer whose identity is proven (signed token) ranks above unverified ones: more than the most an
    # unverified chat gains by its words (abusive wording: severity 1.0 + complaint 0.1, against 0.5 for a
    # polite request for a person), so a polite verified customer is not behind anonymous abuse.
    desk_verified_bonus: float = 0.7
    # Conversations queued while the team was closed are first in line when it opens.
    desk_after_hours_bonus: float = 1.0
    # Fair share: each earlier waiting conversation from the same origin (IP, or verified customer) costs
    # this much; beyond the caps the handover is held (queued last until the earlier ones are served).
    desk_origin_penalty: float = 0.5
    desk_max_waiting_per_ip: int = 3
    desk_max_waiting_per_contact: int = 2
    # Unverified conversations (any IP, or none) share one pool: each pays this much per unverified one
    # waiting ahead of it (not held), so a flood from many IPs sinks instead of burying verified customers.
    desk_unverified_pool_penalty: float = 0.1
    # Rules that raise priority: [{"kind": "order_value_above", "value": 500, "boost": 0.15}, ...]
    # (kinds: order_value_above, repeat_contact, stage, topic, trigger, language).
    desk_priority_rules: list[dict[str, Any]] = Field(
        default_factory=lambda: [
            {"kind": "order_value_above", "value": 500.0, "boost": 0.15},
            {"kind": "repeat_contact", "value": 7, "boost": 0.2},
            {"kind": "stage", "value": "complaint", "boost": 0.1},
        ]
    )
    # SLA targets per priority band (seconds): first human response and resolution, counted from the
    # handover (or from the team's opening when it came in while closed).
    desk_sla: dict[str, dict[str, int]] = Field(
        default_factory=lambda: {
            "urgent": {"first_response_s": 120, "resolution_s": 3600},
            "high": {"first_response_s": 300, "resolution_s": 4 * 3600},
            "normal": {"first_response_s": 600, "resolution_s": 8 * 3600},
            "low": {"first_response_s": 1800, "resolution_s": 24 * 3600},
        }
    )
    desk_escalation_boost: float = 0.3  # priority added when a conversation breaches its first-response SLA
    desk_webhook_timeout_s: float = 3.0  # escalation webhooks to team leads
    # An auto-assigned conversation the agent has not answered within this time goes to someone else.
    desk_reassign_after_s: int = 180
    # Expected wait: the team's recent ASA when it has this many answered handovers in the window,
    # otherwise Erlang C from arrivals, handle time and online capacity.
    desk_asa_window_s: int = 2 * 3600
    desk_asa_min_samples: int = 5
    desk_default_handle_s: int = 480  # mean handle time when there is no history yet
    # Who may manage teams, agents and assignments over the API and console; empty: every agent key.
    desk_managers: list[str] = Field(default_factory=list)
    # At most one sweep (SLA, re-assignment, opening hours) per process per interval.
    desk_sweep_interval_s: float = 5.0
    # --- HTTP edges (issue 11; docs/api.md "Edges") -------------------------------------------------
    # Proxies whose X-Forwarded-For is believed (IPs or CIDRs, e.g. ["10.0.0.0/8"]). Empty (the default):
    # the TCP peer is the client whatever the header says, so the per-IP limits cannot be dodged with it.
    trusted_proxies: list[str] = Field(default_factory=list)
    # All request headers of one request together (`parley serve` runs uvicorn's h11 with this limit).
    max_header_bytes: int = 65_536
    # /metrics (Prometheus) and /docs, /redoc, /openapi.json: off unless asked for, since both tell an
    # outsider about the deployment. `parley demo` turns the docs on.
    expose_metrics: bool = False
    expose_docs: bool = False

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError as exc:
                raise ValueError(f"trusted_proxies: {entry!r} is not an IP address or network") from exc
        return value

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.data_dir / 'parley.db'}"
        if self.checkpoint_url is None:
            self.checkpoint_url = str(self.data_dir / "checkpoints.sqlite")
        if self.chroma_path is None:
            self.chroma_path = self.data_dir / "chroma"
        if self.embedding_cache_dir is None:
            self.embedding_cache_dir = self.data_dir / "models"
        return self

    @property
    def effective_llm_provider(self) -> Literal["offline", "openai"]:
        if self.llm_provider == "auto":
            return "openai" if self.llm_base_url else "offline"
        return self.llm_provider

    @property
    def effective_turn_threads(self) -> int:
        """`turn_threads`, or the cores (offline) / the cores plus the model's slots (a remote model)."""
        if self.turn_threads > 0:
            return self.turn_threads
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 2
        extra = self.model_concurrency if self.effective_llm_provider == "openai" else 0
        return max(2, cores) + extra

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide Settings, read once. Tests build their own Settings and pass it down instead."""
    return Settings()
