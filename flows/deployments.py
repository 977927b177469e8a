"""Deployments of the pipeline: a daily pull at 07:00 Asia/Shanghai and a run on demand.

`sanpi serve` serves both from this process. Schedules need a real Prefect API (`prefect server start`,
see the README): the temporary API a plain run starts never fires them. Stopping `sanpi serve` leaves the
schedule active (pause_on_shutdown=False), so it is never paused without anyone saying so.
"""
from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from flows.pipeline import pipeline_flow

DAILY_CRON = "0 7 * * *"
TIMEZONE = "Asia/Shanghai"
DAILY = "sanpi-daily"
ON_DEMAND = "sanpi-on-demand"


def pipeline_deployments(source: str | None = None, cron: str = DAILY_CRON) -> list:
    parameters = {"source": source} if source else {}
    return [
        pipeline_flow.to_deployment(
            name=DAILY, schedule=Cron(cron, timezone=TIMEZONE), parameters=parameters,
            description=f"Pull new bulletins and submissions and rebuild the warehouse ({cron}, {TIMEZONE}).",
            tags=["sanpi", "scheduled"]),
        pipeline_flow.to_deployment(
            name=ON_DEMAND, parameters=parameters,
            description="The same pipeline, run when someone asks (UI, `prefect deployment run`).",
            tags=["sanpi", "on-demand"]),
    ]


def serve_pipeline(source: str | None = None, cron: str = DAILY_CRON) -> None:
    # limit=1: one run at a time from this server; the warehouse lock covers runs started elsewhere.
    serve(*pipeline_deployments(source, cron), pause_on_shutdown=False, limit=1)
