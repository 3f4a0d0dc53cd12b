"""One ast statement → source lines (through astor), with an optional trailing comment."""
import ast

import astor
import astor.source_repr

COMMENT_COLUMN = 56


def comment_text(text):
    """Text safe inside a `#` comment: one line, printable characters only (file names
    and source lines come from the user and must never become code)."""
    return "".join(c if c.isprintable() else " " for c in str(text))


#: a statement longer than this is wrapped by a linear rule of srcgrad's own: astor's
#: pretty printer takes time quadratic in a line's length (minutes for a formula of a few
#: thousand terms), while shorter lines keep astor's layout
LONG_STATEMENT = 2000
#: where the linear rule breaks a line (at a space inside brackets)
WIDTH = 79


def statement_lines(stmt, indent="    ", comment=""):
    comment = comment_text(comment)
    fragments = []

    def keep(source):
        fragments.append(source)
        return "".join(source)
    flat = astor.to_source(stmt, pretty_source=keep)
    if len(flat) <= LONG_STATEMENT:
        text = astor.source_repr.pretty_source(fragments[0]).rstrip("\n")
    else:
        text = _wrapped(_bracketed(stmt, flat.rstrip("\n")))
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


def _bracketed(stmt, flat):
    """`t = a + b + ...` as `t = (a + b + ...)`, so that it can break inside the brackets."""
    if isinstance(stmt, (ast.Assign, ast.AugAssign)) and "\n" not in flat:
        value = astor.to_source(stmt.value, pretty_source=lambda source: "".join(source)).strip()
        if flat.endswith(value):
            head = flat[:len(flat) - len(value)]
            return head + value if value.startswith("(") and value.endswith(")") else head + "(" + value + ")"
    return flat


def _wrapped(flat):
    """Break a long line at spaces inside brackets (never inside a string), at WIDTH
    columns, continuation lines indented by four: linear in the line's length."""
    out, line, depth, quote = [], [], 0, None
    width = 0
    for k, c in enumerate(flat):
        if quote:
            if c == quote and flat[k - 1] != "\\":
                quote = None
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "\n":
            out.append("".join(line))
            line, width = [], 0
            continue
        elif c == " " and depth > 0 and width >= WIDTH - 8:
            line.append(" ")
            out.append("".join(line).rstrip())
            line, width = ["    "], 4
            continue
        line.append(c)
        width += 1
    out.append("".join(line))
    return "\n".join(out)
