"""Mutating actions: plan → validate → confirm (UI) → audit intent → execute → verify → audit result."""
