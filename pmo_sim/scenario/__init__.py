"""The input language: distributions, the validated scenario tree, YAML loading and overrides."""
