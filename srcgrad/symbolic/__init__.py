"""The sympy bridge: elementwise regions as scalar formulas, derivatives, simplification."""
