"""A Pygments lexer for the book's pseudocode, so `for each`, `if`, `wait` and `send` are highlighted the same way
on the web, in the PDF and in the EPUB (all three take Pygments' output). Registered in pyproject.toml under the
`pygments.lexers` entry point, which is how pymdownx.highlight finds it by the fence name `pseudocode`.
"""
from pygments.lexer import RegexLexer, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text

KEYWORDS = (
    "for each", "for", "in", "if", "else if", "else", "while", "loop forever", "loop", "until", "repeat", "break",
    "continue", "return", "function", "procedure", "wait", "send", "receive", "emit", "yield", "and", "or", "not",
    "is", "then", "do", "end", "on", "when", "with", "try", "catch", "raise", "reject", "accept", "drop", "record",
    "report", "every",
)
CONSTANTS = ("true", "false", "none", "null", "undefined", "empty")


class PseudocodeLexer(RegexLexer):
    name = "Pseudocode"
    aliases = ["pseudocode", "pseudo"]
    filenames: list[str] = []

    tokens = {
        "root": [
            (r"#.*?$", Comment.Single),
            (r"//.*?$", Comment.Single),
            (r'"[^"\n]*"', String),
            (r"'[^'\n]*'", String),
            (words(KEYWORDS, prefix=r"\b", suffix=r"\b"), Keyword),
            (words(CONSTANTS, prefix=r"\b", suffix=r"\b"), Keyword.Constant),
            (r"\b\d+(\.\d+)?(e[+-]?\d+)?\b", Number),
            (r"[A-Za-z_][A-Za-z0-9_]*(?=\()", Name.Function),
            (r"[A-Za-z_][A-Za-z0-9_.]*", Name),
            (r"==|!=|<=|>=|[-+*/%<>=]", Operator),
            (r"[()\[\]{},:;]", Punctuation),
            (r"\s+", Text),
            (r".", Text),
        ]
    }
