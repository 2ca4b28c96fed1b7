"""The toolkit: a set of tool specs bound to a shop and a help centre, and the one way to run a tool.

Every caller (the agent's LLM path through `langchain_tools`, the offline planner, the replay, the
evaluation) runs tools through `Toolkit.run`, so argument validation, customer scoping and the
one-transaction-per-call rule are the same everywhere. Which tools are WRITEs, which order statuses a
change needs, how a change is put to the customer and how it is reported: all read from the specs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from langchain.tools import ToolRuntime
from langchain_core.tools import InjectedToolArg, StructuredTool
from pydantic import ConfigDict, ValidationError

from assistant.prompts import Replies
from assistant.tools import help_center, lookups, orders, wording
from assistant.tools.base import (
    NOT_AUTHENTICATED,
    PROOF_NEEDED,
    CustomerScope,
    HelpCenterSearch,
    Say,
    ToolContext,
    ToolError,
    ToolKind,
    ToolResult,
    ToolSpec,
)
from assistant.tools.outcomes import Facts, ToolOutcome

if TYPE_CHECKING:
    from assistant.shop.store import ShopStore

TRANSFER_TOOL_NAME = "transfer_to_human_agents"
SEARCH_TOOL_NAME = "search_help_center"


def default_specs() -> tuple[ToolSpec, ...]:
    """The τ²-bench retail tools plus the help-centre search."""
    return (*lookups.SPECS, *orders.SPECS, *help_center.SPECS)


def _argument_error(name: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        problems.append(f"{where}: {error['msg']}")
    return f"Invalid arguments for {name}: " + "; ".join(problems)


class Toolkit:
    """Tool specs bound to a shop store and (optionally) a help centre."""

    def __init__(
        self,
        shop: ShopStore | None,
        help_center: HelpCenterSearch | None = None,
        specs: Iterable[ToolSpec] | None = None,
        replies: Replies | None = None,
    ) -> None:
        self.shop = shop
        self.help_center = help_center
        self.specs: dict[str, ToolSpec] = {}
        for spec in default_specs() if specs is None else specs:
            if spec.name in self.specs:
                raise ValueError(f"tool {spec.name} given twice")
            self.specs[spec.name] = spec
        self.replies = replies or Replies("")

    # --- vocabulary ------------------------------------------------------------------------------
    def spec(self, name: str) -> ToolSpec | None:
        return self.specs.get(name)

    def names(self, kind: ToolKind | None = None) -> list[str]:
        return [n for n, s in self.specs.items() if kind is None or s.kind is kind]

    @property
    def write_names(self) -> frozenset[str]:
        """The WRITE tools: the customer's explicit yes comes first, and each run is recorded."""
        return frozenset(self.names(ToolKind.WRITE))

    def kinds(self) -> dict[str, str]:
        return {n: s.kind.value for n, s in self.specs.items()}

    def statuses(self, names: Iterable[str]) -> frozenset[str]:
        """The order statuses under which any of these tools can act."""
        return frozenset().union(*(self.specs[n].statuses for n in names if n in self.specs))

    def say(self, language: str) -> Say:
        return lambda key, **values: self.replies(key, language, **values)

    def describe(self, name: str, args: dict[str, Any], facts: Facts, language: str) -> str:
        """The change a WRITE call would make, in the customer's language, for their explicit yes."""
        spec = self.specs.get(name)
        say = self.say(language)
        if spec is None or spec.describe is None:
            return wording.describe_generic(name, args, say)
        return spec.describe(args, facts, say)

    def report(self, outcome: ToolOutcome, facts: Facts, language: str) -> str:
        """What a successful WRITE did, in the customer's language, from the tool's own result."""
        spec = self.specs.get(outcome.name)
        if spec is None or spec.report is None:
            return wording.report_generic(outcome)
        return spec.report(outcome, facts, self.say(language))

    # --- running ---------------------------------------------------------------------------------
    def run(
        self,
        scope: CustomerScope,
        name: str,
        arguments: Mapping[str, Any] | None,
        *,
        authenticate_on_lookup: bool = True,
    ) -> ToolResult:
        """Run one tool call: validate arguments, apply the scope, and run it in one shop transaction.

        A refused call (unknown tool, bad arguments, not authenticated, a policy rule) comes back as
        ok=False with a clear message and writes nothing: the transaction is rolled back. Successful
        find_user_* calls bind a customer scope to the user found (unless authenticate_on_lookup=False,
        for an agent layer that authenticates itself through `scope.authenticate`).
        """
        spec = self.specs.get(name)
        if spec is None:
            return ToolResult(name=name, ok=False, error=f"Unknown tool {name!r}")
        failed = ToolResult(name=name, ok=False, kind=spec.kind)
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, Mapping):
            return failed.model_copy(update={"error": f"Arguments of {name} must be a JSON object"})
        try:
            args = spec.args_model.model_validate(dict(arguments))
        except ValidationError as exc:
            return failed.model_copy(update={"error": _argument_error(name, exc)})
        if spec.needs_authentication and not scope.is_authenticated:
            return failed.model_copy(update={"error": NOT_AUTHENTICATED})
        if spec.authenticates and not scope.lookup_signs_in and not scope.trusted_operator:
            return failed.model_copy(update={"error": PROOF_NEEDED})  # nothing looked up: no oracle
        try:
            if spec.uses_shop:
                if self.shop is None:
                    raise ToolError("The shop is not available right now")
                with self.shop.transaction() as shop:  # an exception inside rolls the whole call back
                    output = spec.func(ToolContext(scope, shop, self.help_center), args)
            else:
                output = spec.func(ToolContext(scope, None, self.help_center), args)
            if spec.authenticates and authenticate_on_lookup and not scope.trusted_operator:
                scope.authenticate(output)
        except ToolError as exc:
            return failed.model_copy(update={"error": str(exc)})
        return ToolResult(name=name, ok=True, output=output, kind=spec.kind, handover=spec.hands_over)

    # --- the one LangChain adapter -----------------------------------------------------------------
    def langchain_tools(
        self, scope: CustomerScope | None = None, names: Sequence[str] | None = None
    ) -> list[StructuredTool]:
        """The tools as LangChain StructuredTools returning (content, artifact): the text for the model and
        the ToolResult as a dict. metadata["kind"] and the tags say READ or WRITE; metadata["hands_over"]
        marks the transfer to a person.

        The customer scope is `scope` when given; otherwise each call reads it from the agent run's context
        (`runtime.context.scope`), so one compiled agent serves every conversation.
        """
        wanted = list(self.specs) if names is None else list(names)
        unknown = [n for n in wanted if n not in self.specs]
        if unknown:
            raise ValueError(f"unknown tools: {', '.join(unknown)}")
        if self.help_center is None and names is None:
            wanted = [n for n in wanted if n != SEARCH_TOOL_NAME]  # nothing to search without an index

        def bind(spec: ToolSpec) -> StructuredTool:
            def run(runtime: ToolRuntime[Any] = None, **kwargs: Any) -> tuple[str, dict[str, Any]]:  # type: ignore[assignment]
                call_scope = scope if scope is not None else runtime.context.scope
                result = self.run(call_scope, spec.name, kwargs)
                return result.content, result.model_dump(mode="json")

            # The tool node validates the injected `runtime` with the arguments; the strict model (unknown
            # arguments are errors) still checks what the model sent, in `run` and the agent's
            # RejectInvalidToolCalls.
            namespace: dict[str, Any] = {"model_config": ConfigDict(extra="ignore")}
            if not spec.args_model.model_fields:
                # LangChain calls a tool whose schema has no fields with no arguments at all, which would
                # drop the injected runtime; declared here it is still injected and hidden from the model.
                namespace["__annotations__"] = {"runtime": Annotated[Any, InjectedToolArg]}
            lenient = type(spec.args_model.__name__, (spec.args_model,), namespace)
            return StructuredTool.from_function(
                func=run,
                name=spec.name,
                description=spec.description,
                args_schema=lenient,
                response_format="content_and_artifact",
                metadata={"kind": spec.kind.value, "hands_over": spec.hands_over},
                tags=[spec.kind.value],
            )

        return [bind(self.specs[n]) for n in wanted]
