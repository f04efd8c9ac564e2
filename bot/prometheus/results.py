"""Query results as plain data: a Table for an instant vector, Series for a range.

Values are floats (Prometheus sends strings; "NaN", "+Inf" and "-Inf" become float nan/inf);
timestamps are Unix seconds as floats; labels are plain dicts and include `__name__` when
the result keeps the metric name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class Row:
    labels: Mapping[str, str]
    value: float
    timestamp: float


@dataclass(frozen=True, slots=True)
class Table:
    """An instant query's answer: one row per series (a scalar or string is one row without labels).

    `columns` are the label names that appear in any row, `__name__` first and then sorted;
    the value is not a column (every row has one). `string_value` is set for a string result.
    """

    expr: str
    time: float
    result_type: Literal["vector", "scalar", "string"]
    rows: tuple[Row, ...]
    columns: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    elapsed: float = 0.0
    string_value: str | None = None
    datasource: str = ""

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True, slots=True)
class Series:
    labels: Mapping[str, str]
    timestamps: tuple[float, ...]
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Matrix:
    """A range query's answer (or an instant query of a range selector such as `x[5m]`)."""

    expr: str
    start: float
    end: float
    step: float
    series: tuple[Series, ...]
    warnings: tuple[str, ...] = ()
    elapsed: float = 0.0
    datasource: str = ""
    points: int = field(default=0)

    def __len__(self) -> int:
        return len(self.series)


def columns_of(label_sets: list[Mapping[str, str]]) -> tuple[str, ...]:
    names: set[str] = set()
    for labels in label_sets:
        names.update(labels)
    ordered = sorted(names - {"__name__"})
    return (("__name__",) if "__name__" in names else ()) + tuple(ordered)
