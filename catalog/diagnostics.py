"""What a read feed holds, as `fashionbot catalog check` shows it: counts, column coverage, warnings.

Pure analysis of a :class:`~catalog.feed.FeedReport`: nothing is downloaded and no file is read. The
products are exactly what ``index build`` would try to index (it then fetches their images); warnings
are things Merchant Center would complain about, or that make the catalog worse, yet skip nothing.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from catalog.feed import OPTIONAL, FeedReport, SkippedRow
from catalog.feed_formats import MULTI, REQUIRED
from catalog.label_coverage import LabelCoverage, label_coverage
from catalog.product import Product, is_web_url, parse_price

LONG_TITLE = 150  # Merchant Center's limit for title
_FIELDS = frozenset((*REQUIRED, *OPTIONAL))


@dataclass(frozen=True, slots=True)
class FeedWarning:
    """One kind of problem: ``count`` products (or columns) have it; ``examples`` show a few."""

    kind: str
    message: str
    count: int
    examples: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "count": self.count, "examples": self.examples}


@dataclass(frozen=True, slots=True)
class FeedDiagnosis:
    """``columns``: each attribute the feed has → how many products fill it; ``currencies``: code → products."""

    source: str | None
    products: int
    skipped: list[SkippedRow]
    columns: dict[str, int]
    currencies: dict[str, int]
    warnings: list[FeedWarning]
    labels: LabelCoverage | None = None  # the heads' labels the feed gives on its own

    @property
    def usable(self) -> bool:
        return self.products > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "products": self.products,
            "skipped": [{"line": row.line, "id": row.product_id, "reason": row.reason} for row in self.skipped],
            "columns": {
                name: {"filled": filled, "coverage": round(filled / self.products, 4) if self.products else 0.0}
                for name, filled in self.columns.items()
            },
            "currencies": self.currencies,
            "warnings": [warning.to_dict() for warning in self.warnings],
            "labels": self.labels.to_dict() if self.labels else None,
        }

    def to_json(self) -> str:
        """One JSON object: products, skipped, columns, warnings, labels (and source, currencies)."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def text(self, max_skipped: int = 20) -> str:
        """The readable report: counts, the coverage table, warnings, the first skipped rows by line."""
        lines = []
        if self.source:
            lines.append(f"feed: {self.source}")
        lines.append(f"{self.products} product{'' if self.products == 1 else 's'} would be indexed, "
                     f"{len(self.skipped)} row{'' if len(self.skipped) == 1 else 's'} skipped")
        if self.columns:
            width = max(len("column"), *(len(name) for name in self.columns))
            lines += ["", f"{'column':<{width}}  {'filled':>7}  coverage"]
            for name, filled in self.columns.items():
                share = filled / self.products if self.products else 0.0
                lines.append(f"{name:<{width}}  {filled:>7}  {share:>7.1%}")
        if self.currencies:
            lines += ["", "currencies: " + ", ".join(f"{code} ({n})" for code, n in self.currencies.items())]
        if self.labels and self.products:
            lines += ["", *self.labels.lines()]
        lines.append("")
        if self.warnings:
            lines.append(f"warnings ({len(self.warnings)}):")
            for warning in self.warnings:
                lines.append(f"  - {warning.message}")
                shown = [_example_text(example) for example in warning.examples[:3] if isinstance(example, dict)]
                if shown:
                    lines.append("      e.g. " + "; ".join(shown))
        else:
            lines.append("no warnings")
        if self.skipped:
            head = f"first {max_skipped} of {len(self.skipped)}" if len(self.skipped) > max_skipped else "all"
            lines += ["", f"skipped ({head}):"]
            for row in self.skipped[:max_skipped]:
                lines.append(f"  line {row.line}" + (f" ({row.product_id})" if row.product_id else "")
                             + f": {row.reason}")
        if not self.usable:
            lines += ["", "error: no usable product in this feed"]
        return "\n".join(lines)


def diagnose(report: FeedReport, *, source: str | None = None, examples: int = 5,
             long_title: int = LONG_TITLE) -> FeedDiagnosis:
    """Coverage of every column the feed has, the currencies seen, and warnings about what was read."""
    products = report.products
    names = list(report.columns) or _columns_of(products)
    columns = {name: sum(1 for product in products if _filled(product, name)) for name in names}
    currencies = Counter(p.price_currency for p in products if p.price_currency)
    warnings: list[FeedWarning] = []

    def per_product(kind: str, what: str, test: Callable[[Product], Any]) -> None:
        hits = [(product, value) for product in products if (value := test(product))]
        if hits:
            shown = [{"id": product.id, "value": _clip(value)} for product, value in hits[:examples]]
            warnings.append(FeedWarning(kind, f"{len(hits)} product{_s(hits)} {what}", len(hits), shown))

    if len(currencies) > 1:
        listed = ", ".join(f"{code} ({n})" for code, n in currencies.most_common())
        warnings.append(FeedWarning("currencies", f"{len(currencies)} currencies in one feed: {listed}",
                                    len(currencies), [code for code, _ in currencies.most_common()]))
    if products:
        per_product("price_missing", "without a price (Merchant Center requires one)",
                    lambda p: "(none)" if not p.price else None)
    per_product("price_unparseable", "with a price that is not a readable amount (the text is shown as is)",
                lambda p: p.price if p.price and p.price_amount is None else None)
    per_product("price_without_currency", "with a price that names no currency (Merchant Center wants "
                "an ISO 4217 code: '12.99 USD')",
                lambda p: p.price if p.price and p.price_amount is not None and not p.price_currency else None)
    per_product("price_not_positive", "with a price of zero or less",
                lambda p: p.price if p.price_amount is not None and p.price_amount <= 0 else None)
    per_product("sale_price_unparseable", "with a sale_price that is not a readable amount",
                lambda p: p.extra.get("sale_price") if p.extra.get("sale_price")
                and parse_price(p.extra["sale_price"])[0] is None else None)
    per_product("sale_price_not_lower", "with a sale_price not below the price", _sale_not_lower)
    per_product("empty_title", "with an empty title", lambda p: "(empty)" if not p.title.strip() else None)
    per_product("long_title", f"with a title over {long_title} characters (Merchant Center cuts it)",
                lambda p: p.title if len(p.title) > long_title else None)
    per_product("link_not_http", "whose link is not an http(s) URL",
                lambda p: p.link if not is_web_url(p.link) else None)
    for name in ("link", "image_link"):
        warning = _duplicates(name, ((p.id, getattr(p, name)) for p in products), examples)
        if warning:
            warnings.append(warning)
    if products:
        empty = [name for name, filled in columns.items() if filled == 0]
        if empty:
            warnings.append(FeedWarning("empty_column", f"{len(empty)} column{_s(empty)} empty in every "
                                        f"product: {', '.join(empty)}", len(empty), empty))
    return FeedDiagnosis(source, len(products), list(report.skipped), columns,
                         dict(currencies.most_common()), warnings, label_coverage(products))


def _filled(product: Product, name: str) -> bool:
    if name == MULTI:
        return bool(product.additional_image_links)
    if name in _FIELDS:
        return bool(getattr(product, name))
    return bool(product.extra.get(name))


def _columns_of(products: list[Product]) -> list[str]:
    """A hand-made report has no header: the attributes its products fill stand in for it."""
    names = dict.fromkeys(REQUIRED)
    for product in products:
        names.update(dict.fromkeys(name for name in OPTIONAL if getattr(product, name)))
        if product.additional_image_links:
            names[MULTI] = None
        names.update(dict.fromkeys(product.extra))
    return list(names)


def _sale_not_lower(product: Product) -> str | None:
    sale = product.extra.get("sale_price")
    if not sale or product.price_amount is None:
        return None
    amount, currency = parse_price(sale)
    if amount is None or (currency or product.price_currency) != product.price_currency:
        return None
    return f"{sale} (price {product.price})" if amount >= product.price_amount else None


def _duplicates(name: str, pairs: Iterable[tuple[str, str]], examples: int) -> FeedWarning | None:
    ids: dict[str, list[str]] = defaultdict(list)
    for product_id, value in pairs:
        ids[value].append(product_id)
    repeated = {value: found for value, found in ids.items() if len(found) > 1}
    if not repeated:
        return None
    extra = sum(len(found) - 1 for found in repeated.values())
    shown = [{"value": _clip(value), "ids": found[:5], "count": len(found)}
             for value, found in list(repeated.items())[: min(examples, 3)]]
    message = (f"{extra} product{'' if extra == 1 else 's'} repeat another's {name} "
               f"({len(repeated)} value{_s(repeated)} shared)")
    return FeedWarning(f"duplicate_{name}", message, extra, shown)


def _example_text(example: dict[str, Any]) -> str:
    if "ids" in example:
        more = ", …" if example["count"] > 3 else ""
        return f"{_clip(example['value'], 80)} ({', '.join(example['ids'][:3])}{more})"
    return f"{example['id']}: {_clip(example['value'], 80)}"


def _clip(value: Any, limit: int = 120) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def _s(items: Any) -> str:
    return "" if len(items) == 1 else "s"
