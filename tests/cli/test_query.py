"""`query`: local through the DuckDB stand-in, remote through the stack's workgroup (moto's configured results)."""

from __future__ import annotations

import io

import requests
from rich.console import Console

from cli.output import print_result
from tests.cli.conftest import as_json, aws_clients, invoke
from tests.cli.healthy import Healthy
from tests.cli.remote import WORKGROUP, deploy

PER_MONTH = "SELECT year, month, count(*) AS transactions FROM sales GROUP BY 1, 2 ORDER BY 1, 2"


def test_local_query_as_json_csv_and_table(local, healthy: Healthy) -> None:
    _, state = local
    rows = as_json(invoke("query", "--state-file", str(state), PER_MONTH, "--json"))
    assert rows == [{"year": "2024", "month": f"0{m}", "transactions": 3} for m in (1, 2, 3)]
    csv_out = invoke("query", "--state-file", str(state), PER_MONTH, "--csv").stdout
    assert csv_out.splitlines()[:2] == ["year,month,transactions", "2024,01,3"]
    table = invoke("query", "--state-file", str(state), "SELECT title FROM sales LIMIT 1").stdout
    assert table.splitlines() == ["title", 'The "Quiet" Garden']  # piped: tab-separated lines, no row count


def test_local_named_query(local, healthy: Healthy) -> None:
    _, state = local
    result = invoke("query", "--state-file", str(state), "--named", "Units by country per month", "--json")
    assert result.exit_code == 0, result.output
    assert {row["year"] for row in as_json(result)} == {"2024"}


def test_a_bad_query_is_one_line_and_exit_1(local, healthy: Healthy) -> None:
    _, state = local
    result = invoke("query", "--state-file", str(state), "SELECT nope FROM sales")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_stack_query_runs_in_the_workgroup_and_pages_results(local, healthy: Healthy, moto_url: str, monkeypatch) -> None:
    stack, _ = local
    clients = aws_clients(moto_url)
    name = deploy(clients, healthy, stack.env)
    columns = [{"Name": name_, "Type": "varchar"} for name_ in ("year", "transactions")]
    rows = [
        {"Data": [{"VarCharValue": "year"}, {"VarCharValue": "transactions"}]},
        {"Data": [{"VarCharValue": "2024"}, {"VarCharValue": "9"}]},
    ]
    results = {"account_id": "123456789012", "region": "us-east-1", "results": [{"rows": rows, "column_info": columns}] * 2}
    requests.post(f"{moto_url}/moto-api/static/athena/query-results", json=results, timeout=10).raise_for_status()
    clients["athena"].create_named_query(Name="Per year", Database=healthy.database, QueryString="SELECT 1", WorkGroup=WORKGROUP)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    out = invoke("query", "--stack", name, "--region", "us-east-1", "SELECT year, count(*) AS transactions FROM sales GROUP BY 1", "--csv")
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines() == ["year,transactions", "2024,9"]
    executions = clients["athena"].list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    assert executions
    named = invoke("query", "--stack", name, "--region", "us-east-1", "--named", "Per year", "--json")
    assert as_json(named) == [{"year": "2024", "transactions": "9"}]
    missing = invoke("query", "--stack", name, "--region", "us-east-1", "--named", "Nope")
    assert missing.exit_code == 1
    assert "no saved query 'Nope'" in missing.stderr


def test_a_piped_wide_result_is_tab_separated_text_without_truncation(local, healthy: Healthy) -> None:
    _, state = local
    lines = invoke("query", "--state-file", str(state), "SELECT * FROM sales ORDER BY transaction_id LIMIT 2").stdout.splitlines()
    header = lines[0].split("\t")
    assert len(lines) == 3
    assert len(header) > 20
    first = dict(zip(header, lines[1].split("\t"), strict=True))
    assert (first["transaction_id"], first["title"], first["year"]) == ("tx-2024-01-0", 'The "Quiet" Garden', "2024")
    assert "…" not in "".join(lines)


def test_a_result_too_wide_for_the_terminal_is_folded_one_block_per_row() -> None:
    out = Console(file=io.StringIO(), force_terminal=True, width=80, color_system=None)
    columns = [f"column_number_{n}" for n in range(12)]
    print_result(out, columns, [tuple(f"value {n}" for n in range(12)), tuple([None] * 12)], "table")
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "column_number_11: value 11" in text
    assert "column_number_0 : NULL" in text
    assert "…" not in text
    assert "(2 rows)" in text


def test_a_narrow_result_on_a_terminal_is_a_table() -> None:
    out = Console(file=io.StringIO(), force_terminal=True, width=80, color_system=None)
    print_result(out, ["year", "transactions"], [("2024", 3)], "table")
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "┃ year ┃ transactions ┃" in text


def test_a_syntax_error_has_no_terminal_escapes(local, healthy: Healthy) -> None:
    _, state = local
    result = invoke("query", "--state-file", str(state), "SELEC nonsense FROM sales")
    assert result.exit_code == 1
    assert "SELEC nonsense FROM sales" in result.stderr
    assert "\x1b" not in result.stderr
