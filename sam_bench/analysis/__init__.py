"""Measurements beyond a task score: curvature (Hessian-vector products), loss landscapes of
finished cells, and the paired bootstrap significance test. See docs/analyses.md."""
