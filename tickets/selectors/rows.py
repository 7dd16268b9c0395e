"""Related rows read inside another query as JSON, and turned back into model instances.

A page that shows a handful of short lists beside one row (the ticket page: its tags, the
merchant's staff, teams and macros, the customer's other cases, links, possible duplicates)
would read each with a round trip of its own. ``rows_array`` puts such a list into the main
query as a column (``ARRAY(SELECT jsonb_build_object(...) ...)``, the ORM's ``ArraySubquery`` and
``JSONObject``), and ``instances`` makes the same model instances the ORM would have made, so
templates and forms read them unchanged.

Only for short, bounded lists of plain columns. Decimals travel as text (a JSON number would come
back as a float), so an amount reads back exactly.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from django.contrib.postgres.expressions import ArraySubquery
from django.db import models
from django.db.models import QuerySet
from django.db.models.functions import Cast, JSONObject

ModelT = TypeVar("ModelT", bound=models.Model)


def _fields(model: type[models.Model], names: Sequence[str] | None = None) -> list["models.Field[Any, Any]"]:
    fields = [field for field in model._meta.concrete_fields if field.column is not None]
    if names is not None:
        fields = [field for field in fields if field.attname in names]
    return fields


def _column(field: "models.Field[Any, Any]", path: str) -> Any:
    if isinstance(field, models.DecimalField):
        return Cast(path, output_field=models.TextField())
    return path


# A foreign key's name -> (the related model, the columns read of it).
Related = Mapping[str, tuple[type[models.Model], Sequence[str]]]


def row_object(
    model: type[models.Model], *, fields: Sequence[str] | None = None, prefix: str = "", related: Related | None = None
) -> JSONObject:
    """The columns ``fields`` (attnames; every concrete column when None) of ``model`` under
    ``prefix`` (a lookup path such as ``"source__"``), and for each foreign key in ``related`` the
    related row's. Fewer columns are less SQL to compile and less JSON to read: name what the page
    shows (the others are deferred on the instances, and reading one would be a query)."""
    columns: dict[str, Any] = {
        field.attname: _column(field, f"{prefix}{field.attname}") for field in _fields(model, fields)
    }
    for name, (related_model, related_fields) in (related or {}).items():
        columns[name] = row_object(related_model, fields=related_fields, prefix=f"{prefix}{name}__")
    return JSONObject(**columns)


def rows_array(
    queryset: QuerySet[Any], *, fields: Sequence[str] | None = None, related: Related | None = None
) -> ArraySubquery:
    """The rows of ``queryset`` (ordered and sliced as it is) as one array column of JSON objects."""
    return ArraySubquery(queryset.values(row=row_object(queryset.model, fields=fields, related=related)))


def instance(
    model: type[ModelT], row: Mapping[str, Any], *, fields: Sequence[str] | None = None, related: Related | None = None
) -> ModelT:
    read = _fields(model, fields)
    obj = model.from_db(
        "default", [field.attname for field in read], [field.to_python(row.get(field.attname)) for field in read]
    )
    for name, (related_model, related_fields) in (related or {}).items():
        nested = row.get(name)
        if nested is not None and nested.get("id") is not None:
            setattr(obj, name, instance(related_model, nested, fields=related_fields))
    return obj


def instances(
    model: type[ModelT],
    rows: Iterable[Mapping[str, Any]] | None,
    *,
    fields: Sequence[str] | None = None,
    related: Related | None = None,
) -> list[ModelT]:
    return [instance(model, row, fields=fields, related=related) for row in rows or ()]


def prefetched(obj: models.Model, name: str, related_rows: Sequence[models.Model]) -> None:
    """Make ``obj.<name>.all()`` answer ``related_rows`` without a query, as ``prefetch_related``
    leaves it (the rows came in the main query, through ``rows_array``)."""
    queryset = getattr(obj, name).get_queryset()
    queryset._result_cache = list(related_rows)
    queryset._prefetch_done = True
    cache: dict[str, Any] = obj.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = queryset
