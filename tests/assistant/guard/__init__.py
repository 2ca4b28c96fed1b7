"""Tests of assistant.guard."""
