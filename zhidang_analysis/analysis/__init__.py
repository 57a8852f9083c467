"""Analysis of a loaded dataset: indicator functions, county standing (ranks, medians, scores), the problem
model, per-county memoisation, Chinese numerals and text similarity."""
