"""Evaluation of the takeover guard: labelled messages, multi-turn conversations, and Bitext (unseen)."""
