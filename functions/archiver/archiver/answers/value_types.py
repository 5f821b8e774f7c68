"""The type of a schema-free value: the narrowest of bigint, decimal, date or varchar every archived value parses as.

Rules (docs/reference.md "Typed views" repeats them): a value is stripped of spaces first; an empty one says nothing.
Only what every engine reading the view parses the same way counts: ASCII digits, and spaces as the only padding
(the engines' trim functions agree on spaces, not on other blanks such as a no-break space), so a value never reads
NULL in a typed column for its padding or its digits: a column holding such a value stays varchar.
- bigint: digits with optional `,` thousands groups (`3,121`), negative with a leading `-` or in
  parentheses (`(12)`), at most 18 digits, no leading zero (`007` is an identifier: varchar).
- decimal: the same with a `.` and fraction digits (`(4.18)` is -4.18); the scale is the most fraction
  digits seen, at most 12; bigint and decimal values together are decimal.
- date: every value `YYYY-MM-DD` (date `iso`), or every value `M/D/YYYY` (date `mdy`, month first), each a
  real calendar day; the two forms mixed are varchar.
- varchar: anything else, and a key whose values are all empty; read as served.
The view reads each value as the decision parsed it (`sql_value`), with try/try_cast: a value archived after
the decision that does not parse reads NULL until the run that archived it retypes the column to varchar.
"""

from __future__ import annotations

import re
from datetime import date

EMPTY, BIGINT, VARCHAR, ISO, MDY = "empty", "bigint", "varchar", "date:iso", "date:mdy"
RULES = 2  # the decision rules' version: a period summarised under other rules is summarised again
MAX_SCALE = 12
_NUMBER = re.compile(r"(\()?(-)?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(\))?", re.ASCII)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_MDY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)


def _day(year: str, month: str, day: str) -> bool:
    """Whether the parts name a real calendar day."""
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def kind_of(value: str) -> str:
    """The kind of one value: empty, bigint, `decimal:S`, date:iso, date:mdy or varchar."""
    text = value.strip(" ")
    if not text:
        return EMPTY
    if number := _NUMBER.fullmatch(text):
        opened, minus, whole, fraction, closed = number.groups()
        digits = whole.replace(",", "")
        if bool(opened) == bool(closed) and not (opened and minus) and not (len(digits) > 1 and digits.startswith("0")):
            if fraction is None:
                return BIGINT if len(digits) <= 18 else VARCHAR
            return f"decimal:{len(fraction)}" if len(fraction) <= MAX_SCALE and len(digits) <= 38 - MAX_SCALE else VARCHAR
    if (iso := _ISO.fullmatch(text)) and _day(*iso.groups()):
        return ISO
    if (mdy := _MDY.fullmatch(text)) and _day(mdy[3], mdy[1], mdy[2]):
        return MDY
    return VARCHAR


def merge(a: str, b: str) -> str:
    """The narrowest kind both kinds' values parse as."""
    if a == b or b == EMPTY:
        return a
    if a == EMPTY:
        return b
    numbers = [k for k in (a, b) if k == BIGINT or k.startswith("decimal:")]
    if len(numbers) == 2:
        return f"decimal:{max(int(k.partition(':')[2] or 0) for k in numbers)}"
    return VARCHAR


def sql_type(kind: str) -> str:
    """The view column's type in Athena's SQL (and its Presto view definition)."""
    if kind.startswith("decimal:"):
        return f"decimal(38,{kind.partition(':')[2]})"
    return {BIGINT: "bigint", ISO: "date", MDY: "date"}.get(kind, "varchar")


def hive_type(kind: str) -> str:
    """The view column's type as the Glue table lists it."""
    found = sql_type(kind)
    return "string" if found == "varchar" else found


def sql_value(kind: str, text: str) -> str:
    """Athena SQL reading the text expression `text` as `kind` parsed it; NULL where it does not parse."""
    value = f"nullif(trim({text}), '')"
    if kind == BIGINT or kind.startswith("decimal:"):  # `(4.18)` is -4.18, `3,121` is 3121
        signed = f"CASE WHEN {value} LIKE '(%)' THEN concat('-', substr({value}, 2, length({value}) - 2)) ELSE {value} END"
        return f"try_cast(replace({signed}, ',', '') AS {sql_type(kind)})"
    if kind == ISO:
        return f"try_cast({value} AS date)"
    if kind == MDY:
        return f"try(CAST(date_parse({value}, '%c/%e/%Y') AS date))"
    return text  # as served
