"""Urgent help: the crisis service for a caller's country, said and offered at every menu."""
