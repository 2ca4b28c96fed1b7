"""Channels: email, WhatsApp, SMS, a signed API channel and the widget behind one adapter interface.

Inbound: verify -> persist (de-duplicated by the provider's id) -> acknowledge; the worker then resolves the
contact and runs the turn. Outbound: every bot or agent message of a channel conversation becomes a delivery
that the worker renders and sends, retried with backoff, marked undelivered when it keeps failing.
"""
