"""The one place the pipeline is assembled: stages, ticket lifecycle and its listeners."""

from __future__ import annotations

from collections.abc import Sequence

from watchkeeper.pipeline.flow import Pipeline
from watchkeeper.pipeline.listeners import TicketListener
from watchkeeper.pipeline.ticket import Lifecycle


def build_pipeline(listeners: Sequence[TicketListener] = ()) -> Pipeline:
    return Pipeline(Lifecycle(listeners))
