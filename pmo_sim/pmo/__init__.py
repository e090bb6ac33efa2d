"""The PMO's roles: one module per role, each a small piece of policy the engine calls."""
