"""Helpers to make test and benchmark material from real footage (film-like degradations with known truth)."""
