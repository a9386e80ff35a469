"""Diagnostics of trained weights: curvature (Hessian-vector products) and loss landscapes."""
