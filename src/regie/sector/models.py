"""The sector dashboard's models: registered hubs, received reports, supervisors. No personal
data of pupils, parents or staff of a school: only what signed aggregate reports say."""

from __future__ import annotations
