"""One ast statement → source lines (through astor), with an optional trailing comment."""
import ast

import astor

COMMENT_COLUMN = 56


def comment_text(text):
    """Text safe inside a `#` comment: one line, printable characters only (file names
    and source lines come from the user and must never become code)."""
    return "".join(c if c.isprintable() else " " for c in str(text))


def statement_lines(stmt, indent="    ", comment=""):
    comment = comment_text(comment)
    text = astor.to_source(stmt).rstrip("\n")
    lines = [indent + line for line in text.split("\n")]
    if comment:
        # on the line that does the work: the last of a wrapped statement, the head of a block
        at = 0 if isinstance(stmt, (ast.If, ast.For, ast.While)) else len(lines) - 1
        line = lines[at]
        lines[at] = (line.ljust(COMMENT_COLUMN) if len(line) < COMMENT_COLUMN else line) + "  # " + comment
    return lines


def expr_source(expr):
    """Source of one ast expression, without the outer parentheses astor adds."""
    text = astor.to_source(expr).strip()
    if text.startswith("(") and text.endswith(")"):
        inner = text[1:-1]
        try:
            compile(inner, "<expr>", "eval")
            return inner
        except SyntaxError:
            pass
    return text
