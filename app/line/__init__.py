"""The call core: a call's life, the waiting pool and pairing, conference rooms, reports and
blocks, and their models."""
