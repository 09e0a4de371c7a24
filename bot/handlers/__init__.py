"""Telegram handlers: short adapters from updates onto the conversation; no logic of their own."""
