"""On call: duty schedules (rotations, layers, restrictions, overrides, DST) and who is on duty."""

from watchkeeper.oncall.fields import InvalidSchedule
from watchkeeper.oncall.ical import ical_feed
from watchkeeper.oncall.model import (
    AddOverride,
    Layer,
    Override,
    RemoveOverride,
    ReplaceOverride,
    Restriction,
    Rotation,
    Schedule,
    Shift,
    SwapOverride,
)
from watchkeeper.oncall.parsing import parse_schedule
from watchkeeper.oncall.timeline import oncall_at, shifts

__all__ = [
    "AddOverride",
    "InvalidSchedule",
    "Layer",
    "Override",
    "RemoveOverride",
    "ReplaceOverride",
    "Restriction",
    "Rotation",
    "Schedule",
    "Shift",
    "SwapOverride",
    "ical_feed",
    "oncall_at",
    "parse_schedule",
    "shifts",
]
