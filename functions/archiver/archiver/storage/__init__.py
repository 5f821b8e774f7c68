"""S3 and Glue: the month transaction, its markers, settling, the lease, the catalog."""
