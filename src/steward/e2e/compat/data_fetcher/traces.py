"""X-Ray traces of Powertools Tracer (Powertools' ``data_fetcher.traces``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import BaseModel

from steward.e2e import aws
from steward.e2e.compat.data_fetcher.common import retry_on, retry_window

BATCH = 5  # BatchGetTraces takes at most 5 trace ids


class TraceSubsegment(BaseModel):
    id: str
    name: str
    start_time: float
    end_time: float
    aws: dict[str, Any] | None = None
    subsegments: list[TraceSubsegment] | None = None
    annotations: dict[str, Any] | None = None
    metadata: dict[str, dict[str, Any]] | None = None


class TraceDocument(BaseModel):
    id: str
    name: str
    start_time: float
    end_time: float
    trace_id: str
    parent_id: str | None = None
    aws: dict[str, Any]
    origin: str
    subsegments: list[TraceSubsegment] | None = None


class TraceFetcher:
    """Fetches at construction: summaries, trace ids, documents, nested subsegments (with
    their annotations and metadata). ``ValueError`` while fewer than ``minimum_traces``."""

    default_exclude_seg_name: ClassVar[list[str]] = ["Initialization", "Invocation", "Overhead"]

    def __init__(  # noqa: PLR0917 (Powertools' signature)
        self,
        filter_expression: str,
        start_date: datetime,
        end_date: datetime | None = None,
        xray_client: Any = None,
        exclude_segment_name: list[str] | None = None,
        resource_name: str | list[str] | None = None,
        origin: list[str] | None = None,
        minimum_traces: int = 1,
    ) -> None:
        self.filter_expression = filter_expression
        self.start_date = start_date
        self.end_date = end_date or self.start_date + timedelta(minutes=5)
        self.xray_client = xray_client or aws.client("xray")
        self.exclude_segment_name = exclude_segment_name or self.default_exclude_seg_name
        self.resource_name = resource_name
        self.origin = origin or ["AWS::Lambda::Function"]
        self.annotations: list[dict[str, Any]] = []
        self.metadata: list[dict[str, dict[str, Any]]] = []
        self.minimum_traces = minimum_traces

        pages = self.xray_client.get_paginator("get_trace_summaries").paginate(
            StartTime=self.start_date,
            EndTime=self.end_date,
            TimeRangeType="Event",
            Sampling=False,
            FilterExpression=self.filter_expression,
        )
        trace_ids = self._get_trace_ids(pages)
        self.trace_documents: dict[str, TraceDocument] = self._get_trace_documents(trace_ids)
        self.subsegments: list[TraceSubsegment] = self._get_subsegments()

    def get_annotation(self, key: str, value: Any = None) -> list[dict[str, Any]]:
        if value is None:
            return [a for a in self.annotations if key in a]
        return [a for a in self.annotations if a.get(key) == value]

    def get_metadata(self, key: str, namespace: str = "") -> list[dict[str, Any]]:
        return [m[namespace] for m in self.metadata if key in m.get(namespace, {})]

    def get_subsegment(self, name: str) -> list[TraceSubsegment]:
        return [seg for seg in self.subsegments if seg.name == name]

    def _find_nested_subsegments(
        self, subsegments: list[TraceSubsegment]
    ) -> Iterator[TraceSubsegment]:
        """Every subsegment at any depth except the excluded names; collects annotations
        and metadata on the way."""
        for seg in subsegments:
            if seg.name not in self.exclude_segment_name:
                if seg.annotations:
                    self.annotations.append(seg.annotations)
                if seg.metadata:
                    self.metadata.append(seg.metadata)
                yield seg
            if seg.subsegments:
                yield from self._find_nested_subsegments(seg.subsegments)

    def _get_subsegments(self) -> list[TraceSubsegment]:
        seen: list[TraceSubsegment] = []
        for document in self.trace_documents.values():
            if document.subsegments:
                seen.extend(self._find_nested_subsegments(document.subsegments))
        return seen

    def _get_trace_ids(self, pages: Any) -> list[str]:
        """The ids of the first page of summaries, as Powertools reads them."""
        summaries = [page["TraceSummaries"] for page in pages if page["TraceSummaries"]]
        if not summaries:
            raise ValueError("Empty response from X-Ray. Repeating...")
        trace_ids = [trace["Id"] for trace in summaries[0]]
        if len(trace_ids) < self.minimum_traces:
            raise ValueError(
                "Number of traces found doesn't meet minimum required "
                f"({self.minimum_traces}). Repeating...",
            )
        return trace_ids

    def _get_trace_documents(self, trace_ids: list[str]) -> dict[str, TraceDocument]:
        """Segment documents of the wanted origins (or named ``resource_name``), by id."""
        documents: dict[str, TraceDocument] = {}
        for start in range(0, len(trace_ids), BATCH):
            traces = self.xray_client.batch_get_traces(TraceIds=trace_ids[start : start + BATCH])
            for trace in traces["Traces"]:
                for seg in trace["Segments"]:
                    doc = TraceDocument(**json.loads(seg["Document"]))
                    if doc.origin in self.origin or doc.name == self.resource_name:
                        documents[doc.id] = doc
        return documents


def get_traces(  # noqa: PLR0917 (Powertools' signature)
    filter_expression: str,
    start_date: datetime,
    end_date: datetime | None = None,
    xray_client: Any = None,
    exclude_segment_name: list[str] | None = None,
    resource_name: str | list[str] | None = None,
    origin: list[str] | None = None,
    minimum_traces: int = 1,
    *,
    timeout: float | None = None,
) -> TraceFetcher:
    """A `TraceFetcher` once enough traces arrived; ``ValueError`` after Powertools' window
    (10 tries, 5 s delay, 1.5 s jitter)."""
    return retry_on(
        ValueError,
        lambda: TraceFetcher(
            filter_expression=filter_expression,
            start_date=start_date,
            end_date=end_date,
            xray_client=xray_client,
            exclude_segment_name=exclude_segment_name,
            resource_name=resource_name,
            origin=origin,
            minimum_traces=minimum_traces,
        ),
        what=f"traces matching {filter_expression!r}",
        timeout=retry_window(10, 5, 1.5) if timeout is None else timeout,
        interval=5,
    )
