"""Layer 1 — SLO data: what each configured SLO promises; no SLI is measured yet."""

from __future__ import annotations

from typing import Any, Final

from watchkeeper.config.durations import parse_duration
from watchkeeper.quality.catalog import Catalog
from watchkeeper.quality.scope import Scope

NO_SLI: Final = (
    "no SLI data is recorded yet: Watchkeeper stores no SLI measurements, so the SLI ratio,"
    " error budget, burn rates, time to exhaustion and budget per ticket are not computed"
)
BURN_WINDOWS: Final = ("5m", "30m", "1h", "6h", "1d", "3d")


def _seconds(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_duration(value).total_seconds()
        except ValueError:
            return None
    return None


def slo_layer(scope: Scope, catalog: Catalog) -> dict[str, Any]:
    rows = []
    for spec in catalog.objects.get("slo", []):
        if not scope.includes(str(spec.get("service"))):
            continue
        objective = float(spec["objective"])
        sli = spec.get("sli") or {}
        rows.append(
            {
                "id": spec["id"],
                "name": spec.get("name"),
                "service": spec.get("service"),
                "objective_percent": objective,
                "target": objective / 100.0,
                "window_seconds": _seconds(spec.get("window")),
                "sli_kind": sli.get("kind") if isinstance(sli, dict) else None,
                "sli_ratio": None,
                "error_budget_remaining": None,
                "burn_rates": dict.fromkeys(BURN_WINDOWS),
                "time_to_exhaustion_seconds": None,
                "budget_consumed_per_ticket": None,
                "note": NO_SLI,
            }
        )
    note = NO_SLI if rows else "no SLOs are configured for the services in scope"
    return {"slos": rows, "note": note}
