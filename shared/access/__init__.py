"""Who may call, and how much: API keys and principals (`auth`), tenants and their webhook
secrets (`tenants`), rate limits and running-job quotas (`ratelimit`)."""
