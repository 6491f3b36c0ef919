"""Feature engine (pure arrays in, arrays out). Filled in below."""
