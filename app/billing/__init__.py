"""Membership: first conversation free, then EUR 4 a month."""
