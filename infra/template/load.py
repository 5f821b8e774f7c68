"""Load template.yaml and resolve its values: the entry point the tests, local stack and benchmarks import."""

from __future__ import annotations

import sys

from infra.template.parse import REPO_ROOT, TEMPLATE_PATH, load_template, parse_template, resource, resources_of_type
from infra.template.resolve import DEFAULT_PSEUDO_PARAMETERS, Context, ResolveError, parameter_defaults
from infra.template.translate import MANAGED_POLICY_ARNS, main, translate

# The local stack provisions the bucket, secret, Glue database and table (in moto) from the
# template's own definitions instead of a copy. Example:
#
#     template = load_template()
#     ctx = Context.for_template(template, {"ArchivePrefix": ""},
#                                physical_ids={"ArchiveBucket": "local-archive"})
#     table_input = ctx.resolve(resource(template, "SalesTable")["Properties"]["TableInput"])

__all__ = [
    "DEFAULT_PSEUDO_PARAMETERS",
    "MANAGED_POLICY_ARNS",
    "REPO_ROOT",
    "TEMPLATE_PATH",
    "Context",
    "ResolveError",
    "function_environment",
    "load_template",
    "main",
    "named_queries",
    "noncurrent_expiry_prefixes",
    "parameter_defaults",
    "parse_template",
    "resource",
    "resources_of_type",
    "translate",
]


def function_environment(context: Context, logical_id: str = "ArchiverFunction") -> dict[str, str]:
    """The function's resolved environment variables."""
    variables = resource(context.template, logical_id)["Properties"]["Environment"]["Variables"]
    return {name: str(value) for name, value in context.resolve(variables).items()}


def named_queries(context: Context) -> dict[str, str]:
    """Each Athena named query's resolved SQL, by its Name."""
    queries: dict[str, str] = {}
    for definition in resources_of_type(context.template, "AWS::Athena::NamedQuery").values():
        properties = definition["Properties"]
        queries[str(context.resolve(properties["Name"]))] = str(context.resolve(properties["QueryString"]))
    return queries


def noncurrent_expiry_prefixes(context: Context, logical_id: str = "ArchiveBucket") -> tuple[str, ...]:
    """The key prefixes whose noncurrent versions the bucket's lifecycle expires (never raw/ or quarantine/)."""
    rules = context.resolve(resource(context.template, logical_id)["Properties"]["LifecycleConfiguration"]["Rules"])
    return tuple(str(rule["Prefix"]) for rule in rules if "NoncurrentVersionExpiration" in rule)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
