"""Static checks: what can be proved wrong in a template before it runs.

Go reports many mistakes only when a template executes. Alertmanager renders at
notification time, so a typo surfaces at 3 a.m.; we check at config load instead.
The checker follows the text and every template it calls, tracking the Go type of
dot and of variables where it is known (a notification template's dot is
`*template.Data`), and reports — with the message Go would give at run time —

* a {{template}} whose name is not defined;
* a function or method called with the wrong number of arguments, or with a literal
  or a value of a known type it cannot accept;
* a field that the type cannot have (`.Alerts.firing`, `.CommonLabel`), an unexported one;
* a range over something that is not a slice or map (`{{ range 5 }}`), `{{ nil }}`;
* and, our own message, templates that call each other unconditionally for ever.

Anything whose type is not statically known is left to run time: the checker never
rejects a template that could execute.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.templates.data import T_DATA_PTR
from bot.templates.errors import TemplateError, go_byte_column, line_column
from bot.templates.gostrconv import quote
from bot.templates.gotypes import (
    COMPLEX_KINDS,
    FLOAT_KINDS,
    INT_KINDS,
    T_BOOL,
    T_COMPLEX128,
    T_EMPTY_INTERFACE,
    T_FLOAT64,
    T_INT,
    T_REFLECT_VALUE,
    T_STRING,
    T_UINT8,
    UINT_KINDS,
    GoCallError,
    GoFunc,
    GoType,
    Kind,
    assignable,
)
from bot.templates.nodes import (
    ActionNode,
    BoolNode,
    ChainNode,
    CommandNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    RangeNode,
    StringNode,
    TemplateNode,
    VariableNode,
    WithNode,
)
from bot.templates.parser import Tree

Lookup = Callable[[str], Tree | None]
_COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})
_IMPURE = frozenset({"since", "call"})  # results depend on the clock, or on values not seen here


def _comparison_kind(t: GoType | None, node: Node | None) -> str | None:
    """The basic kind eq/lt compare by, or None when unknown ("other" for non-basic types)."""
    if node is not None and isinstance(node, NilNode):
        return None
    if t is None or t is T_REFLECT_VALUE or t.kind == Kind.INTERFACE:
        return None
    k = t.kind
    if k == Kind.BOOL:
        return "bool"
    if k in INT_KINDS:
        return "int"
    if k in UINT_KINDS:
        return "uint"
    if k in FLOAT_KINDS:
        return "float"
    if k in COMPLEX_KINDS:
        return "complex"
    if k == Kind.STRING:
        return "string"
    return "other"
_LEN_KINDS = frozenset({Kind.ARRAY, Kind.CHAN, Kind.MAP, Kind.SLICE, Kind.STRING, Kind.POINTER, Kind.INTERFACE})


class _Scope:
    __slots__ = ("vars",)

    def __init__(self, dot_type: GoType | None) -> None:
        self.vars: list[tuple[str, GoType | None]] = [("$", dot_type)]

    def get(self, name: str) -> GoType | None:
        for var, t in reversed(self.vars):
            if var == name:
                return t
        return None


class _Checker:
    def __init__(self, lookup: Lookup, funcs: Mapping[str, GoFunc]) -> None:
        self.lookup = lookup
        self.funcs = funcs
        self.done: set[tuple[int, GoType | None]] = set()
        self.reached: dict[str, Tree] = {}
        self.template_name = ""

    # -- reporting ---------------------------------------------------------------
    def fail(self, node: Node, message: str) -> None:
        tree = node.tree
        assert tree is not None
        line, column = line_column(tree.text, node.pos)
        location = f"{tree.parse_name}:{line}:{go_byte_column(tree.text, node.pos)}"
        go = f"template: {location}: executing {quote(self.template_name)} at <{node}>: {message}"
        raise TemplateError(go, name=tree.parse_name, line=line, column=column, message=message, phase="check")

    # -- traversal -------------------------------------------------------------------
    def check_tree(self, name: str, tree: Tree, dot: GoType | None) -> None:
        key = (id(tree), dot)
        if key in self.done or tree.root is None:
            return
        self.done.add(key)
        self.reached[name] = tree
        outer = self.template_name
        self.template_name = name
        try:
            self.walk_list(tree.root, dot, _Scope(dot))
        finally:
            self.template_name = outer

    def walk_list(self, lst: ListNode, dot: GoType | None, scope: _Scope) -> None:
        for node in lst.nodes:
            self.walk(node, dot, scope)

    def walk(self, node: Node, dot: GoType | None, scope: _Scope) -> None:
        if isinstance(node, ActionNode):
            self.pipe_type(node.pipe, dot, scope)
        elif isinstance(node, (IfNode, WithNode)):
            mark = len(scope.vars)
            t = self.pipe_type(node.pipe, dot, scope)
            self.walk_list(node.list, t if isinstance(node, WithNode) else dot, scope)
            if node.else_list is not None:
                self.walk_list(node.else_list, dot, scope)
            del scope.vars[mark:]
        elif isinstance(node, RangeNode):
            self.walk_range(node, dot, scope)
        elif isinstance(node, TemplateNode):
            mark = len(scope.vars)
            callee = self.lookup(node.name)
            if callee is None:
                self.fail(node, f"template {quote(node.name)} not defined")
            t = self.pipe_type(node.pipe, dot, scope) if node.pipe is not None else None
            del scope.vars[mark:]
            self.check_tree(node.name, callee, t)  # type: ignore[arg-type]
        elif isinstance(node, ListNode):
            self.walk_list(node, dot, scope)

    def walk_range(self, node: RangeNode, dot: GoType | None, scope: _Scope) -> None:
        mark = len(scope.vars)
        pipe = node.pipe
        literal = _single_literal(pipe)
        t = self.pipe_type(pipe, dot, scope)
        key_type: GoType | None = None
        elem: GoType | None = None
        if t is not None:
            k = t.kind
            if k == Kind.POINTER and t.elem is not None:
                t, k = t.elem, t.elem.kind
            if k in (Kind.SLICE, Kind.ARRAY):
                key_type, elem = T_INT, t.elem
            elif k == Kind.MAP:
                key_type, elem = t.key, t.elem
            elif k not in (Kind.INTERFACE, Kind.CHAN, Kind.INVALID) and t is not T_REFLECT_VALUE:
                if literal is not None:
                    self.fail(literal, f"range can't iterate over {_literal_text(literal)}")
                self.fail(pipe, f"range can't iterate over a value of type {t}")
        # Declared variables: the last is the element, the one before it the index/key.
        decl = pipe.decl
        if decl:
            names = [v.ident[0] for v in decl]
            del scope.vars[len(scope.vars) - len(names) :]
            if len(names) == 2:
                scope.vars.append((names[0], key_type))
            scope.vars.append((names[-1], elem))
        self.walk_list(node.list, elem, scope)
        del scope.vars[mark:]
        if node.else_list is not None:
            self.walk_list(node.else_list, dot, scope)

    # -- typing ------------------------------------------------------------------------
    def pipe_type(self, pipe: PipeNode, dot: GoType | None, scope: _Scope) -> GoType | None:
        t: GoType | None = None
        has_final = False
        for cmd in pipe.cmds:
            t = self.command_type(cmd, dot, scope, t, has_final)
            has_final = True
        for var in pipe.decl:
            if not pipe.is_assign:
                scope.vars.append((var.ident[0], t))
            else:
                # An assignment may change a variable's type; stop trusting it.
                for i in range(len(scope.vars) - 1, -1, -1):
                    if scope.vars[i][0] == var.ident[0]:
                        if scope.vars[i][1] is not t:
                            scope.vars[i] = (var.ident[0], None)
                        break
        return t

    def command_type(
        self, cmd: CommandNode, dot: GoType | None, scope: _Scope, final: GoType | None, has_final: bool
    ) -> GoType | None:
        first = cmd.args[0]
        if isinstance(first, FieldNode):
            return self.chain_type(dot, first.ident, first, cmd.args, final, has_final)
        if isinstance(first, IdentifierNode):
            return self.call_type(first, cmd.args, dot, scope, final, has_final, cmd)
        if isinstance(first, (DotNode, NumberNode, StringNode, BoolNode, PipeNode)) or (
            isinstance(first, VariableNode) and len(first.ident) == 1
        ):
            if len(cmd.args) > 1 or has_final:
                self.fail(first, f"can't give argument to non-function {first}")
        if isinstance(first, VariableNode):
            base = scope.get(first.ident[0])
            if len(first.ident) == 1:
                return base
            return self.chain_type(base, first.ident[1:], first, cmd.args, final, has_final)
        if isinstance(first, ChainNode):
            base = self.arg_type(first.node, dot, scope)
            return self.chain_type(base, first.field, first, cmd.args, final, has_final)
        if isinstance(first, PipeNode):
            return self.pipe_type(first, dot, scope)
        if isinstance(first, NilNode):
            self.fail(first, "nil is not a command")
        return _literal_type(first, dot)

    def arg_type(self, node: Node, dot: GoType | None, scope: _Scope) -> GoType | None:
        if isinstance(node, FieldNode):
            return self.chain_type(dot, node.ident, node, [node], None, False)
        if isinstance(node, VariableNode):
            base = scope.get(node.ident[0])
            return base if len(node.ident) == 1 else self.chain_type(base, node.ident[1:], node, None, None, False)
        if isinstance(node, ChainNode):
            base = self.arg_type(node.node, dot, scope)
            return self.chain_type(base, node.field, node, None, None, False)
        if isinstance(node, PipeNode):
            mark = len(scope.vars)
            t = self.pipe_type(node, dot, scope)
            del scope.vars[mark + len(node.decl) :]  # a parenthesized declaration stays in scope
            return t
        if isinstance(node, IdentifierNode):
            return self.call_type(node, None, dot, scope, None, False, node)
        if isinstance(node, NilNode):
            return None
        return _literal_type(node, dot)

    def chain_type(
        self,
        t: GoType | None,
        idents: list[str],
        node: Node,
        args: list[Node] | None,
        final: GoType | None,
        has_final: bool,
    ) -> GoType | None:
        last = len(idents) - 1
        for i, name in enumerate(idents):
            if t is None:
                return None
            if i == last:
                return self.field_type(t, name, node, args, final, has_final)
            t = self.field_type(t, name, node, None, None, False)
        return t

    def field_type(
        self,
        t: GoType,
        name: str,
        node: Node,
        args: list[Node] | None,
        final: GoType | None,
        has_final: bool,
    ) -> GoType | None:
        typ = t
        methods = dict(t.methods)
        if t.kind == Kind.POINTER and t.elem is not None and not t.methods.get(name):
            methods = {**t.elem.methods, **t.methods}
            t = t.elem
        if t.kind == Kind.INTERFACE or t is T_REFLECT_VALUE:
            return None
        method = methods.get(name)
        if method is not None:
            self.check_call(method, name, node, args, final, has_final, None, None)
            result = method.results[0]
            return None if result is T_REFLECT_VALUE or result is T_EMPTY_INTERFACE else result
        n_args = (len(args) - 1 if args else 0) + (1 if has_final else 0)
        if t.kind == Kind.STRUCT:
            if name in t.field_index:
                if not name[0].isupper():
                    self.fail(node, f"{name} is an unexported field of struct type {typ}")
                if n_args:
                    self.fail(node, f"{name} has arguments but cannot be invoked as function")
                return t.fields[t.field_index[name]][1]
        elif t.kind == Kind.MAP and t.key is not None and t.key.kind == Kind.STRING:
            if n_args:
                self.fail(node, f"{name} is not a method but has arguments")
            return t.elem
        self.fail(node, f"can't evaluate field {name} in type {typ}")
        return None

    def call_type(
        self,
        ident: IdentifierNode,
        args: list[Node] | None,
        dot: GoType | None,
        scope: _Scope,
        final: GoType | None,
        has_final: bool,
        call_node: Node,
    ) -> GoType | None:
        fn = self.funcs.get(ident.ident)
        if fn is None:
            self.fail(ident, f"{quote(ident.ident)} is not a defined function")
        self.check_call(fn, ident.ident, ident, args, final, has_final, dot, scope, call_node)  # type: ignore[arg-type]
        if fn.builtin and ident.ident in ("index", "slice"):  # type: ignore[union-attr]
            return self.index_type(ident.ident, args, final, has_final, dot, scope)
        result = fn.results[0]  # type: ignore[union-attr]
        if result is T_REFLECT_VALUE or result is T_EMPTY_INTERFACE or result is None:
            return None
        return result

    def check_call(
        self,
        fn: GoFunc,
        name: str,
        node: Node,
        args: list[Node] | None,
        final: GoType | None,
        has_final: bool,
        dot: GoType | None,
        scope: _Scope | None,
        call_node: Node | None = None,
    ) -> None:
        call_args = args[1:] if args else []
        params = fn.params
        num_in = len(call_args) + (1 if has_final else 0)
        if fn.variadic:
            if num_in < len(params) - 1:
                self.fail(node, f"wrong number of args for {name}: want at least {len(params) - 1} got {len(call_args)}")
        elif num_in != len(params):
            self.fail(node, f"wrong number of args for {name}: want {len(params)} got {num_in}")
        if not fn.good:
            self.fail(node, f"can't call method/function {quote(name)} with {fn.num_out} results")
        for i, arg in enumerate(call_args):
            param = params[i] if i < len(params) - 1 or not fn.variadic else params[-1]
            if scope is not None:
                arg_t = self.literal_or_value(arg, param, dot, scope)
            else:
                arg_t = None
            if arg_t is not None:
                self.check_assignable(arg, arg_t, param)
        if scope is not None and call_node is not None:
            self.check_constant_call(fn, name, call_node, args, has_final)
            if fn.builtin and name in _COMPARISONS:
                self.check_comparison(fn, name, call_node, call_args, final, has_final, dot, scope)
            if fn.builtin and name == "call":
                fn_t = final if has_final and not call_args else (
                    self.arg_type(call_args[0], dot, scope) if call_args else None)
                if fn_t is not None and fn_t.kind != Kind.FUNC and fn_t.kind != Kind.INTERFACE:
                    self.fail(call_node, f"error calling call: non-function of type {fn_t}")
        if fn.builtin and name == "len" and scope is not None:
            arg_t = final if has_final else (self.arg_type(call_args[0], dot, scope) if call_args else None)
            if arg_t is not None and arg_t.kind not in _LEN_KINDS and arg_t is not T_REFLECT_VALUE:
                self.fail(call_node or node, f"error calling len: len of type {arg_t}")
        if has_final and final is not None:
            t = params[-1]
            if fn.variadic and num_in - 1 < len(params) - 1:
                t = params[num_in - 1]
            self.check_assignable(node, final, t)

    def index_type(
        self, name: str, args: list[Node] | None, final: GoType | None, has_final: bool, dot: GoType | None,
        scope: _Scope,
    ) -> GoType | None:
        """The type `index x i…` / `slice x i…` returns when x's type is known."""
        operands = list(args[1:]) if args else []
        if operands:
            t = self.arg_type(operands[0], dot, scope)
            n_indexes = len(operands) - 1 + (1 if has_final else 0)
        else:
            t, n_indexes = (final if has_final else None), 0
        if t is None:
            return None
        if name == "slice":
            return t if t.kind in (Kind.SLICE, Kind.STRING) else None
        for _ in range(n_indexes):
            if t.kind == Kind.POINTER and t.elem is not None:
                t = t.elem
            if t.kind in (Kind.SLICE, Kind.ARRAY, Kind.MAP) and t.elem is not None:
                t = t.elem
            elif t.kind == Kind.STRING:
                t = T_UINT8
            else:
                return None
        return t

    def check_constant_call(
        self, fn: GoFunc, name: str, call_node: Node, args: list[Node] | None, has_final: bool
    ) -> None:
        """A pure function called with literals only is evaluated now: its error is certain."""
        if not has_final and args and name in ("match", "reReplaceAll") and isinstance(args[1:2] and args[1], StringNode):
            # A literal regular expression is compiled now (Go compiles it on every call).
            try:
                if name == "match":
                    fn.impl(args[1].text, "")  # type: ignore[attr-defined]
                else:
                    fn.impl(args[1].text, "", "")  # type: ignore[attr-defined]
            except GoCallError as exc:
                self.fail(call_node, f"error calling {name}: {exc}")
        if has_final or not args or name in _IMPURE or (fn.builtin and name in ("and", "or")):
            return
        call_args = args[1:]
        if not call_args or not all(isinstance(a, (NumberNode, StringNode, BoolNode)) for a in call_args):
            return
        from bot.templates.exec import MISSING, NO_RECEIVER, Executor

        executor = Executor(self.lookup, self.funcs)
        executor.name = self.template_name
        executor.node = call_node
        try:
            executor.eval_call(None, fn, NO_RECEIVER, fn.builtin, call_node, name, args, MISSING)
        except TemplateError as exc:
            exc.phase = "check"
            raise

    def check_comparison(
        self,
        fn: GoFunc,
        name: str,
        call_node: Node,
        call_args: list[Node],
        final: GoType | None,
        has_final: bool,
        dot: GoType | None,
        scope: _Scope,
    ) -> None:
        kinds = [_comparison_kind(self.arg_type(a, dot, scope), a) for a in call_args]
        if has_final:
            kinds.append(_comparison_kind(final, None))
        if name == "eq" and len(kinds) == 1:
            self.fail(call_node, "error calling eq: missing argument for comparison")
        if len(kinds) < 2 or kinds[0] is None:
            return
        first = kinds[0]
        for k in kinds[1:]:
            if k is None:
                continue
            if name in ("eq", "ne"):
                if first != k and {first, k} != {"int", "uint"}:
                    self.fail(call_node, f"error calling {name}: incompatible types for comparison")
                continue
            if first == "other" or k == "other":
                self.fail(call_node, f"error calling {name}: invalid type for comparison")
            if first != k and {first, k} != {"int", "uint"}:
                self.fail(call_node, f"error calling {name}: incompatible types for comparison")
            if first == k and first in ("bool", "complex"):
                self.fail(call_node, f"error calling {name}: invalid type for comparison")

    def literal_or_value(self, arg: Node, param: GoType, dot: GoType | None, scope: _Scope) -> GoType | None:
        """Check a literal against the parameter as Go's evalArg does; return a value's type."""
        if isinstance(arg, (NumberNode, StringNode, BoolNode)):
            if param is T_EMPTY_INTERFACE or param is T_REFLECT_VALUE:
                return None
            kind = param.kind
            if kind == Kind.STRING and not isinstance(arg, StringNode):
                self.fail(arg, f"expected string; found {arg}")
            if kind == Kind.BOOL and not isinstance(arg, BoolNode):
                self.fail(arg, f"expected bool; found {arg}")
            if kind in INT_KINDS and not (isinstance(arg, NumberNode) and arg.is_int):
                self.fail(arg, f"expected integer; found {arg}")
            if kind in UINT_KINDS and not (isinstance(arg, NumberNode) and arg.is_uint):
                self.fail(arg, f"expected unsigned integer; found {arg}")
            if kind in FLOAT_KINDS and not (isinstance(arg, NumberNode) and arg.is_float):
                self.fail(arg, f"expected float; found {arg}")
            if kind not in (Kind.STRING, Kind.BOOL) and kind not in INT_KINDS | UINT_KINDS | FLOAT_KINDS | COMPLEX_KINDS:
                self.fail(arg, f"can't handle {arg} for arg of type {param}")
            return None
        if isinstance(arg, DotNode):
            return dot
        if isinstance(arg, NilNode):
            if param.kind not in (Kind.CHAN, Kind.FUNC, Kind.INTERFACE, Kind.MAP, Kind.POINTER, Kind.SLICE) and (
                param is not T_REFLECT_VALUE
            ):
                self.fail(arg, f"cannot assign nil to {param}")
            return None
        return self.arg_type(arg, dot, scope)

    def check_assignable(self, node: Node, value_type: GoType, param: GoType) -> None:
        if param is T_EMPTY_INTERFACE or param is T_REFLECT_VALUE:
            return
        if value_type.kind == Kind.INTERFACE:
            return
        if assignable(value_type, param):
            return
        if value_type.kind == Kind.POINTER and value_type.elem is not None and assignable(value_type.elem, param):
            return
        self.fail(node, f"wrong type for value; expected {param}; got {value_type}")

    # -- recursion ------------------------------------------------------------------------
    def check_recursion(self) -> None:
        graph = {name: _unconditional_calls(tree.root) for name, tree in self.reached.items() if tree.root}
        state: dict[str, int] = {}

        def visit(name: str, path: list[tuple[str, TemplateNode | None]]) -> None:
            state[name] = 1
            for callee, call in graph.get(name, []):
                if state.get(callee) == 1:
                    names = [n for n, _ in path] + [name]
                    cycle = names[names.index(callee) :] + [callee]
                    outer = self.template_name
                    self.template_name = name
                    self.fail(call, "recursion without end: " + " → ".join(quote(n) for n in cycle)
                              + " (each calls the next unconditionally)")
                    self.template_name = outer
                if state.get(callee) is None and callee in graph:
                    visit(callee, path + [(name, call)])
            state[name] = 2

        for name in list(graph):
            if state.get(name) is None:
                visit(name, [])


def _unconditional_calls(node: Node | None) -> list[tuple[str, TemplateNode]]:
    """{{template}} calls made every time `node` runs (not under if/with/range)."""
    calls: list[tuple[str, TemplateNode]] = []
    if isinstance(node, ListNode):
        for n in node.nodes:
            calls.extend(_unconditional_calls(n))
    elif isinstance(node, TemplateNode):
        calls.append((node.name, node))
    return calls


def _single_literal(pipe: PipeNode) -> Node | None:
    if len(pipe.cmds) == 1 and len(pipe.cmds[0].args) == 1:
        arg = pipe.cmds[0].args[0]
        if isinstance(arg, (NumberNode, StringNode, BoolNode)):
            return arg
    return None


def _literal_text(node: Node) -> str:
    if isinstance(node, StringNode):
        return node.text
    if isinstance(node, BoolNode):
        return "true" if node.value else "false"
    if isinstance(node, NumberNode):
        from bot.templates import gofmt

        text = node.text
        if node.is_complex:
            return gofmt.sprint([node.complex128])
        if node.is_float and any(c in text for c in ".eEpP") and not text.lower().startswith("0x"):
            return gofmt.sprint([node.float64])
        return str(node.int64)
    return str(node)


def _literal_type(node: Node, dot: GoType | None) -> GoType | None:
    if isinstance(node, StringNode):
        return T_STRING
    if isinstance(node, BoolNode):
        return T_BOOL
    if isinstance(node, DotNode):
        return dot
    if isinstance(node, NumberNode):
        if node.is_complex:
            return T_COMPLEX128
        text = node.text
        if node.is_float and any(c in text for c in ".eEpP") and not text.lower().startswith("0x"):
            return T_FLOAT64
        if node.is_int:
            return T_INT
    return None


def check_trees(
    tree: Tree,
    lookup: Lookup,
    funcs: Mapping[str, GoFunc],
    *,
    dot_known: bool = True,
) -> None:
    """Check `tree` (and everything it calls) executed on a `*template.Data` dot.

    With `dot_known=False` (a template file whose callers are not known) the dot's type is
    not assumed. Raises TemplateError (phase "check").
    """
    checker = _Checker(lookup, funcs)
    try:
        checker.check_tree(tree.name, tree, T_DATA_PTR if dot_known else None)
        checker.check_recursion()
    except RecursionError:
        return  # too deep to analyse statically; rendering stays bounded

