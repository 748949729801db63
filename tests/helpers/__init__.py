"""Helpers shared by tests (tiny model files the tests write themselves)."""
