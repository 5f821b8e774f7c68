"""The vocabulary every stage shares: months and periods, report types, settings, results."""
