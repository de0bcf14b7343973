"""CSAT / NPS surveys: their YAML definitions, the questions sent and the answers kept."""
