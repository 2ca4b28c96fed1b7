"""Tests of eval.guard."""
