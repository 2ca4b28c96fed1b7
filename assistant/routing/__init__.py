"""The human desk's routing: teams, skills and agents; business hours; priority with ageing and rules;
assignment with capacity; SLAs and escalation; expected waits (recent ASA or Erlang C); customer effort.

Pure rules live in small modules (`hours`, `classify`, `priority`, `sla`, `erlang`, `effort`, `macros`,
`notices`), each tested allowed and refused; the database work is in `directory` (teams, agents, macros),
`assign` (who gets which conversation, safe under concurrent workers), `handover`, `queue`, `sweep` and
`feedback`; `router.Router` puts them together. docs/console.md explains the rules to a team lead.
"""
