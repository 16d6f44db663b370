"""The only Jinja a chapter may hold: calls of the book's macros with literal arguments.

Chapters arrive as pull requests, and mkdocs-macros renders a page as a full Jinja template: `{{ config }}` would
print the build's configuration and `{{ cycler.__init__.__globals__.os.popen("id").read() }}` would run a command.
So before a page renders, its template is parsed with Jinja's own parser and every construct is checked here.
Allowed: `{{ macro("literal", 2, key=["a", "b"]) }}` for the book's macros, `{% call recap(...) %}...{% endcall %}`,
`{{ "{{" }}` (a string literal, the escape for printing braces), `{% raw %}` and Jinja comments. Anything else is
refused with its line, before anything runs: no page variable (config, page, navigation, environment...) is ever
reachable, because no name but a macro's gets through.

Each accepted call is recorded with its source line, so that an error raised later by the macro names the line of
the call itself; and its arguments are bound to the macro's signature and checked against its type hints here,
so that `term()` or `figure("x")` is one line with the expected form instead of a Python traceback.
"""
import inspect
import typing
from dataclasses import dataclass

from jinja2 import Environment, TemplateSyntaxError, nodes

BLOCK_MACROS = frozenset({"recap"})   # macros written as {% call name(...) %} ... {% endcall %}
ESCAPE_HINT = "write it inside a code span (`{{ ... }}`), or escape the opening braces as {{ '{{' }}"
LITERALS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class MacroCall:
    """One call of a macro in a page, as written: its name, literal arguments and source line."""
    name: str
    args: tuple
    kwargs: tuple   # sorted (name, value) pairs
    line: int

    def matches(self, name: str, args: tuple, kwargs: dict) -> bool:
        return (self.name, self.args, self.kwargs) == (name, _frozen(args), _frozen_kwargs(kwargs))


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


class _NotLiteral(Exception):
    pass


def check_template(environment: Environment, source: str, macros: dict) -> tuple[list[MacroCall], list[Problem]]:
    """The macro calls of a page template in source order, and what in it is not allowed (with lines)."""
    try:
        tree = environment.parse(source)
    except TemplateSyntaxError as error:
        return [], [Problem(error.lineno or 0, f"not valid Jinja ({error.message}); to show braces as text, "
                                               + ESCAPE_HINT)]
    checker = _Checker(macros)
    checker.body(tree.body)
    return checker.calls, checker.problems


class _Checker:
    def __init__(self, macros: dict):
        self.macros = macros
        self.calls: list[MacroCall] = []
        self.problems: list[Problem] = []

    def refuse(self, node: nodes.Node, what: str) -> None:
        self.problems.append(Problem(node.lineno, f"{what} is not allowed in a chapter: a chapter may only call "
                                                  f"the book's macros with literal arguments; {ESCAPE_HINT}"))

    def body(self, body: list) -> None:
        for node in body:
            if isinstance(node, nodes.Output):
                for child in node.nodes:
                    self.output(child)
            elif isinstance(node, nodes.CallBlock) and not node.args and not node.defaults:
                self.call(node.call, block=True)
                self.body(node.body)
            else:
                self.refuse(node, f"{{% {type(node).__name__.lower()} %}}")

    def output(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.TemplateData):
            return
        if isinstance(node, nodes.Const) and isinstance(node.value, str):
            return  # {{ "{{" }}: the escape for literal braces
        if isinstance(node, nodes.Call):
            self.call(node, block=False)
            return
        self.refuse(node, f"{{{{ {_describe(node)} }}}}")

    def call(self, node: nodes.Node, block: bool) -> None:
        if not (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name)):
            self.refuse(node, f"{{{{ {_describe(node)} }}}}")
            return
        name = node.node.name
        if name not in self.macros:
            self.refuse(node, f"{name}(), which is not one of the book's macros ({', '.join(sorted(self.macros))}),")
            return
        if block != (name in BLOCK_MACROS):
            form = (f"{{% call {name}(...) %}} ... {{% endcall %}}" if name in BLOCK_MACROS
                    else f"{{{{ {name}(...) }}}}")
            self.problems.append(Problem(node.lineno, f"{name}() is written {form}"))
            return
        try:
            args = tuple(_literal(arg) for arg in node.args)
            kwargs = {keyword.key: _literal(keyword.value) for keyword in node.kwargs}
            if node.dyn_args or node.dyn_kwargs:
                raise _NotLiteral
        except _NotLiteral:
            self.problems.append(Problem(node.lineno, f"{name}() takes only literal arguments (strings, numbers, "
                                                      f"true/false, lists of them): {name}{shown_signature(self.macros[name])}"))
            return
        mistake = argument_mistake(name, self.macros[name], args, kwargs)
        if mistake:
            self.problems.append(Problem(node.lineno, mistake))
            return
        self.calls.append(MacroCall(name, _frozen(args), _frozen_kwargs(kwargs), node.lineno))


def _literal(node: nodes.Node):
    if isinstance(node, nodes.Const) and isinstance(node.value, LITERALS):
        return node.value
    if isinstance(node, nodes.Neg) and isinstance(node.node, nodes.Const) and type(node.node.value) in (int, float):
        return -node.node.value
    if isinstance(node, (nodes.List, nodes.Tuple)):
        return [_literal(item) for item in node.items]
    raise _NotLiteral


def _describe(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_describe(node.node)}.{node.attr}"
    if isinstance(node, nodes.Call):
        return f"{_describe(node.node)}(...)"
    return f"an expression ({type(node).__name__})"


def _frozen(value):
    return tuple(_frozen(item) for item in value) if isinstance(value, (list, tuple)) else value


def _frozen_kwargs(kwargs: dict) -> tuple:
    return tuple(sorted((key, _frozen(value)) for key, value in kwargs.items() if key != "caller"))


# ── signatures ──────────────────────────────────────────────────────────────
def _author_signature(macro) -> inspect.Signature:
    """The macro's signature as an author writes it: without the `caller` Jinja passes to a call block."""
    signature = inspect.signature(macro)
    return signature.replace(parameters=[p for p in signature.parameters.values() if p.name != "caller"])


def shown_signature(macro) -> str:
    """`(key: str, form: str = '')`, the expected form quoted in error messages."""
    return str(_author_signature(macro))


def argument_mistake(name: str, macro, args: tuple, kwargs: dict) -> str:
    """What is wrong with calling the macro with these arguments ('' if nothing), from its signature and hints."""
    signature = _author_signature(macro)
    expected = f"write {name}{signature}"
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:
        return f"{name}(): {error}; {expected}"
    hints = typing.get_type_hints(inspect.unwrap(macro))
    for parameter_name, value in bound.arguments.items():
        parameter = signature.parameters[parameter_name]
        hint = hints.get(parameter_name)
        values = value if parameter.kind is inspect.Parameter.VAR_POSITIONAL else (value,)
        for one in values:
            if hint is not None and not isinstance(one, hint):
                return f"{name}(): {parameter_name} must be {_type_name(hint)}, not {one!r}; {expected}"
    return ""


def _type_name(hint) -> str:
    names = {str: "a string", int: "a number", bool: "true or false", float: "a number", type(None): "none",
             list: "a list"}
    options = typing.get_args(hint) or (hint,)
    return " or ".join(names.get(option, getattr(option, "__name__", str(option))) for option in options)
