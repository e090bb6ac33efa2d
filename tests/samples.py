"""Small scenario texts shared by several test modules."""

MINIMAL_YAML = """\
name: tiny
horizon: 100
resources:
  developers: {headcount: 2, day_rate: 500}
projects:
  - name: A
    tasks:
      - {name: build, skill: developers, effort: 10}
"""
