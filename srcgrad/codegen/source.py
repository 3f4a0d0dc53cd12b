"""One ast statement → source lines (through astor), with an optional trailing comment."""
import astor

COMMENT_COLUMN = 56


def statement_lines(stmt, indent="    ", comment=""):
    text = astor.to_source(stmt).rstrip("\n")
    lines = [indent + line for line in text.split("\n")]
    if comment:
        last = lines[-1]
        lines[-1] = (last.ljust(COMMENT_COLUMN) if len(last) < COMMENT_COLUMN else last) + "  # " + comment
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
