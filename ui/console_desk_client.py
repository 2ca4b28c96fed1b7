"""The desk's part of the console's HTTP client: who am I, status, transfer, teams and agents, canned
responses, insights as CSV. Same rules as ui.console_client: typed results, errors as ConsoleError."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from pydantic import Field

from ui.console_client import AgentApiClient, ConversationInfo, QueueItem, _Lenient

AgentStatus = Literal["online", "away", "offline"]


class DeskAgentInfo(_Lenient):
    name: str
    display_name: str = ""
    status: str = "offline"
    capacity: int = 0
    load: int = 0
    hours: dict[str, Any] | None = None
    teams: list[str] = Field(default_factory=list)
    lead_of: list[str] = Field(default_factory=list)


class Me(_Lenient):
    agent: str
    manager: bool = False
    desk: DeskAgentInfo | None = None


class TeamInfo(_Lenient):
    id: str
    name: str
    languages: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)
    hours: dict[str, Any] | None = None
    lead_webhook_url: str | None = None
    members: list[dict[str, str]] = Field(default_factory=list)


class MacroInfo(_Lenient):
    id: int
    title: str
    body: str
    tags: list[str] = Field(default_factory=list)
    language: str | None = None


class RenderedMacro(_Lenient):
    macro: MacroInfo
    text: str
    missing: list[str] = Field(default_factory=list)


class DeskConfig(_Lenient):
    topics: list[str] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)
    bands: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    variables: list[str] = Field(default_factory=list)


class DeskClient(AgentApiClient):
    """AgentApiClient plus the desk's routes."""

    def me(self) -> Me:
        result: Me = self._parse(Me, self._request("GET", "/v1/agent/me"))
        return result

    def set_status(self, status: AgentStatus) -> DeskAgentInfo:
        if status not in ("online", "away", "offline"):
            raise ValueError(f"status must be online, away or offline (got {status!r})")
        result: DeskAgentInfo = self._parse(
            DeskAgentInfo, self._request("POST", "/v1/agent/me/status", json={"status": status})
        )
        return result

    def transfer(
        self, conversation_id: str, *, to_agent: str | None = None, to_team: str | None = None, note: str = ""
    ) -> ConversationInfo:
        if (to_agent is None) == (to_team is None):
            raise ValueError("transfer to an agent or to a team")
        body = {"to_agent": to_agent, "to_team": to_team, "note": note.strip()[:1000]}
        return self._conversation_result(
            self._request("POST", f"/v1/agent/conversations/{self._cid(conversation_id)}/transfer", json=body)
        )

    def queue_for(self, team: str | None) -> list[Any]:
        if not team:
            return self.queue()
        payload = self._request("GET", "/v1/agent/queue", params={"team": team})
        return [self._parse(QueueItem, item) for item in payload or []]

    # --- teams and agents --------------------------------------------------------------------------
    def config(self) -> DeskConfig:
        result: DeskConfig = self._parse(DeskConfig, self._request("GET", "/v1/desk/config"))
        return result

    def teams(self) -> list[TeamInfo]:
        return [self._parse(TeamInfo, t) for t in self._request("GET", "/v1/desk/teams") or []]

    def _put(self, collection: str, key: str, record: dict[str, Any], missing: str) -> Any:
        """PUT /v1/desk/{collection}/{record[key]}: a team or an agent, refused here without its key."""
        name = str(record.get(key) or "").strip()
        if not name:
            raise ValueError(missing)
        return self._request("PUT", f"/v1/desk/{collection}/{quote(name, safe='')}", json=record)

    def save_team(self, team: dict[str, Any]) -> TeamInfo:
        result: TeamInfo = self._parse(TeamInfo, self._put("teams", "id", team, "a team needs an id"))
        return result

    def delete_team(self, team_id: str) -> None:
        self._request("DELETE", f"/v1/desk/teams/{quote(team_id, safe='')}")

    def agents(self) -> list[DeskAgentInfo]:
        return [self._parse(DeskAgentInfo, a) for a in self._request("GET", "/v1/desk/agents") or []]

    def save_agent(self, agent: dict[str, Any]) -> DeskAgentInfo:
        saved = self._put("agents", "name", agent, "an agent needs the name of its key")
        result: DeskAgentInfo = self._parse(DeskAgentInfo, saved)
        return result

    def delete_agent(self, name: str) -> None:
        self._request("DELETE", f"/v1/desk/agents/{quote(name, safe='')}")

    # --- canned responses --------------------------------------------------------------------------
    def macros(self, query: str = "", language: str | None = None) -> list[MacroInfo]:
        params = {"q": query[:200]} | ({"language": language} if language else {})
        found = self._request("GET", "/v1/desk/macros", params=params) or []
        return [self._parse(MacroInfo, m) for m in found]

    def create_macro(self, title: str, body: str, tags: list[str] | None = None) -> MacroInfo:
        payload = {"title": title.strip(), "body": body.strip(), "tags": tags or []}
        result: MacroInfo = self._parse(MacroInfo, self._request("POST", "/v1/desk/macros", json=payload))
        return result

    def render_macro(self, macro_id: int, conversation_id: str) -> RenderedMacro:
        result: RenderedMacro = self._parse(
            RenderedMacro,
            self._request(
                "GET",
                f"/v1/desk/macros/{int(macro_id)}/render",
                params={"conversation_id": self._cid(conversation_id)},
            ),
        )
        return result

    # --- insights ----------------------------------------------------------------------------------
    def insights_csv(self, by: str | None = None) -> str:
        """One row per conversation, or per day / team / channel / agent."""
        params = {"format": "csv"} | ({"by": by} if by else {})
        return self._text_request("GET", "/insights", params=params)
