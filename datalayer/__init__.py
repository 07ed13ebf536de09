"""The Medeez data layer as code: entities and keys, the access-pattern catalog, PHI encryption,
lookup beacons and deterministic synthetic data."""
