"""One invocation: the plan, each report type's part, the month pipeline, the service that composes them."""
