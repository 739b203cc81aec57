"""Pagecraft: the demo target SaaS that Goldwatch's golden flows walk.

A small site builder (landing, onboarding, preview, billing/paywall, checkout in test mode,
go-live) with fault switches and a mutation log for tests. Nothing here is used by the monitor
itself; it exists so the monitor has a real product to watch.
"""
