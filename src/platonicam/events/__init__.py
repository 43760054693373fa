"""Normalized camera events: model, vendor topic parsers, PullPoint/push collection, bus."""
