"""The Fusing Hour: a weekly hour of rotating conversations."""
