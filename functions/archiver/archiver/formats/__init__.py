"""From Amazon's bytes to curated rows: decoding, the sales schema, schema-free sections."""
