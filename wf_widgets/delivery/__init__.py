"""Delivery of results: stored downloads with signed links, email, catalog uploads."""
