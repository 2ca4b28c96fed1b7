"""Prompt templates of the evaluation (package data)."""
