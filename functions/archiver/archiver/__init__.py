"""Archive Amazon Appstore sales reports into S3 and register them in Glue."""
