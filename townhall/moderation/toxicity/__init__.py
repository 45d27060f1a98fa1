"""Local toxicity scoring (issue 4)."""
