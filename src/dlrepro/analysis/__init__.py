"""From run folders to evidence: tidy tables (aggregate) and verdicts (verdict)."""
