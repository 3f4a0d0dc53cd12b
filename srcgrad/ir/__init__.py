"""The IR layer: graphs of op applications, and the passes over them."""
from .graph import Graph, Node, Value, format_graph

__all__ = ["Graph", "Node", "Value", "format_graph"]
