"""What the desk knows across articles: template clusters, the death register, fact-checks,
reviews and source lists. Each module owns its tables' queries, through the store's connection."""
