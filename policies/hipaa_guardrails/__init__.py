"""HIPAA guardrails for the Medeez data layer: rules, registry, pack config and docs.

The pack entry point is ``policies/__main__.py``; everything here can be imported without starting
the analyzer (tests, the offline gate, the docs generator).
"""
