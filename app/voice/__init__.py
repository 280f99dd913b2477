"""The voice webhook blueprint (views) and what the line says (prompts)."""
