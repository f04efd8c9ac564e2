"""The evaluator: Go's text/template exec.go semantics over our Go value model.

Error messages, the node they point at, truthiness, variable scoping, range over
slices and maps (sorted keys), `and`/`or` short-circuiting and argument conversion
all follow Go 1.19. Two things are ours: execution is bounded (output size, wall
time, template call depth) and every failure is a `TemplateError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.templates import gofmt
from bot.templates.errors import TemplateError, go_byte_column, line_column
from bot.templates.funcs import indirect, indirect_interface, is_true, truth
from bot.templates.gostrconv import quote
from bot.templates.gotypes import (
    FLOAT_KINDS,
    INT_KINDS,
    NIL_INTERFACE,
    T_EMPTY_INTERFACE,
    T_REFLECT_VALUE,
    UINT_KINDS,
    COMPLEX_KINDS,
    GoCallError,
    GoFunc,
    GoType,
    Kind,
    Ptr,
    Struct,
    assignable,
    convert_scalar,
    type_of,
    zero_value,
)
from bot.templates.nodes import (
    ActionNode,
    BoolNode,
    BreakNode,
    ChainNode,
    CommandNode,
    CommentNode,
    ContinueNode,
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
    TextNode,
    VariableNode,
    WithNode,
)
from bot.templates.parser import Tree
from bot.templates.data import KV, T_KV, Alert, Data, Pair

_KV_METHODS = T_KV.methods


def _plain_fields(cls: type) -> frozenset[str]:
    """Exported fields of a struct type that no method shadows."""
    t = cls.gotype  # type: ignore[attr-defined]
    return frozenset(n for n, _ in t.fields if n[0].isupper() and n not in t.methods)


_PLAIN_STRUCTS = {cls: _plain_fields(cls) for cls in (Alert, Data, Pair)}

MISSING = object()  # "no value from a previous pipeline stage" (Go's missingVal)
NO_RECEIVER = object()  # eval_call's receiver for plain functions
_NO_RECEIVER = NO_RECEIVER
_ABSENT = object()
_NILLABLE = frozenset({Kind.CHAN, Kind.FUNC, Kind.INTERFACE, Kind.MAP, Kind.POINTER, Kind.SLICE})

DEFAULT_MAX_OUTPUT = 1 << 20  # characters
DEFAULT_TIME_LIMIT = 1.0  # seconds
DEFAULT_MAX_DEPTH = 100  # nested {{template}} calls (Go allows 100000; Python's stack does not)


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def _can_be_nil(t: GoType) -> bool:
    if t.kind in _NILLABLE:
        return True
    return t is T_REFLECT_VALUE


def _is_hex_int(s: str) -> bool:
    return len(s) > 2 and s[0] == "0" and s[1] in "xX" and not any(c in s for c in "pP")


class Executor:
    """One execution of a template: Go's `state`."""

    __slots__ = (
        "lookup",
        "funcs",
        "name",
        "node",
        "vars",
        "depth",
        "out",
        "size",
        "max_output",
        "max_depth",
        "deadline",
        "time_limit",
        "steps",
        "missing_key",
    )

    def __init__(
        self,
        lookup: Callable[[str], Tree | None],
        funcs: Mapping[str, GoFunc],
        *,
        max_output: int = DEFAULT_MAX_OUTPUT,
        time_limit: float = DEFAULT_TIME_LIMIT,
        max_depth: int = DEFAULT_MAX_DEPTH,
        missing_key: str = "zero",
    ) -> None:
        self.lookup = lookup
        self.funcs = funcs
        self.name = ""
        self.node: Node | None = None
        self.vars: list[list[Any]] = []
        self.depth = 0
        self.out: list[str] = []
        self.size = 0
        self.max_output = max_output
        self.max_depth = max_depth
        self.time_limit = time_limit
        self.deadline = 0.0
        self.steps = 0
        self.missing_key = missing_key

    # -- entry -----------------------------------------------------------------
    def execute(self, name: str, tree: Tree, data: Any) -> str:
        self.name = name
        self.vars = [["$", data]]
        self.deadline = time.monotonic() + self.time_limit
        if tree.root is None:
            self.errorf(f"{quote(name)} is an incomplete or empty template")
        try:
            self.walk(data, tree.root)
        except RecursionError:
            self.errorf("template nesting too deep to execute")
        return "".join(self.out)

    # -- errors ----------------------------------------------------------------
    def errorf(self, message: str) -> None:
        node = self.node
        if node is None or node.tree is None:
            go = f"template: {self.name}: {message}"
            raise TemplateError(go, name=self.name, line=0, column=0, message=message, phase="exec")
        tree = node.tree
        line, column = line_column(tree.text, node.pos)
        location = f"{tree.parse_name}:{line}:{go_byte_column(tree.text, node.pos)}"
        go = f"template: {location}: executing {quote(self.name)} at <{node}>: {message}"
        raise TemplateError(go, name=tree.parse_name, line=line, column=column, message=message, phase="exec")

    def _tick(self) -> None:
        self.steps += 1
        if self.steps & 63 == 0 and time.monotonic() > self.deadline:
            self.errorf(f"rendering took longer than {self.time_limit:g}s")

    def write(self, text: str) -> None:
        self.out.append(text)
        self.size += len(text)
        if self.size > self.max_output:
            self.errorf(f"output is larger than {self.max_output} characters")

    # -- walking ---------------------------------------------------------------
    def walk(self, dot: Any, node: Node) -> None:
        self.node = node
        cls = node.__class__
        if cls is ListNode:
            for n in node.nodes:  # type: ignore[attr-defined]
                ncls = n.__class__
                if ncls is TextNode:
                    self.node = n
                    self.write(n.text)  # type: ignore[attr-defined]
                elif ncls is ActionNode and n.simple_field is not None:  # type: ignore[attr-defined]
                    field = n.simple_field  # type: ignore[attr-defined]
                    val = self.eval_field_chain(dot, dot, field, field.ident, n.pipe.cmds[0].args, MISSING)  # type: ignore[attr-defined]
                    self.node = n
                    if val.__class__ is str:
                        self.out.append(val)
                        self.size += len(val)
                        if self.size > self.max_output:
                            self.errorf(f"output is larger than {self.max_output} characters")
                    else:
                        self.print_value(n, val)
                else:
                    self.walk(dot, n)
        elif cls is TextNode:
            self.write(node.text)  # type: ignore[attr-defined]
        elif cls is ActionNode:
            field = node.simple_field  # type: ignore[attr-defined]
            if field is not None:
                val = self.eval_field_chain(dot, dot, field, field.ident, node.pipe.cmds[0].args, MISSING)  # type: ignore[attr-defined]
                if val.__class__ is str:
                    self.node = node
                    self.write(val)
                else:
                    self.print_value(node, val)
                return
            pipe = node.pipe  # type: ignore[attr-defined]
            val = self.eval_pipeline(dot, pipe)
            if not pipe.decl:
                self.print_value(node, val)
        elif cls is IfNode:
            self.walk_if_or_with(False, dot, node)  # type: ignore[arg-type]
        elif cls is RangeNode:
            self.walk_range(dot, node)  # type: ignore[arg-type]
        elif cls is WithNode:
            self.walk_if_or_with(True, dot, node)  # type: ignore[arg-type]
        elif cls is TemplateNode:
            self.walk_template(dot, node)  # type: ignore[arg-type]
        elif cls is BreakNode:
            raise _Break
        elif cls is ContinueNode:
            raise _Continue
        elif cls is CommentNode:
            pass
        else:
            self.errorf(f"unknown node: {node}")

    def walk_if_or_with(self, is_with: bool, dot: Any, node: IfNode | WithNode) -> None:
        mark = len(self.vars)
        try:
            val = self.eval_pipeline(dot, node.pipe)
            truth_value, ok = is_true(indirect_interface(val))
            if not ok:
                self.errorf(f"if/with can't use {gofmt.sprint([val])}")
            if truth_value:
                self.walk(val if is_with else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: Any, node: RangeNode) -> None:
        self.node = node
        mark = len(self.vars)
        try:
            val, _ = indirect(self.eval_pipeline(dot, node.pipe))
            inner_mark = len(self.vars)
            ndecl = len(node.pipe.decl)
            body = node.list
            items: Any = ()
            if val is not None:
                kind = type_of(val).kind
                if kind == Kind.SLICE or kind == Kind.ARRAY:
                    items = enumerate(val) if ndecl > 1 else val
                elif kind == Kind.MAP:
                    items = [(k, val[k]) for k in gofmt.sort_map_keys(val)]
                    if ndecl < 2:
                        items = [v for _, v in items]
                else:
                    self.errorf(f"range can't iterate over {gofmt.sprint([val])}")
            if len(val or ()):
                vars_ = self.vars
                walk = self.walk
                try:
                    for item in items:
                        self._tick()
                        if ndecl > 1:
                            index, elem = item
                            vars_[-1][1] = elem
                            vars_[-2][1] = index
                        else:
                            elem = item
                            if ndecl:
                                vars_[-1][1] = elem
                        try:
                            walk(elem, body)
                        except _Continue:
                            pass
                        if len(vars_) > inner_mark:
                            del vars_[inner_mark:]
                except _Break:
                    pass
                return
            if node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def walk_template(self, dot: Any, node: TemplateNode) -> None:
        self.node = node
        self._tick()
        tree = self.lookup(node.name)
        if tree is None:
            self.errorf(f"template {quote(node.name)} not defined")
        if self.depth >= self.max_depth:
            self.errorf(f"exceeded maximum template depth ({self.max_depth})")
        dot = self.eval_pipeline(dot, node.pipe)
        saved = (self.name, self.vars, self.node)
        self.depth += 1
        self.name = node.name
        self.vars = [["$", dot]]
        try:
            self.walk(dot, tree.root)  # type: ignore[union-attr, arg-type]
        finally:
            self.depth -= 1
            self.name, self.vars, self.node = saved

    # -- evaluation ----------------------------------------------------------
    def eval_pipeline(self, dot: Any, pipe: PipeNode | None) -> Any:
        if pipe is None:
            return None
        self.node = pipe
        value: Any = MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
            if value is NIL_INTERFACE:
                value = None
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.ident[0], value)
            else:
                self.vars.append([var.ident[0], value])
        return value

    def set_var(self, name: str, value: Any) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i][1] = value
                return
        self.errorf(f"undefined variable: {name}")

    def var_value(self, name: str) -> Any:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                return self.vars[i][1]
        self.errorf(f"undefined variable: {name}")

    def not_a_function(self, args: list[Node], final: Any) -> None:
        if len(args) > 1 or final is not MISSING:
            self.errorf(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Any, cmd: CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        cls = first.__class__
        if cls is FieldNode:
            return self.eval_field_chain(dot, dot, first, first.ident, cmd.args, final)  # type: ignore[attr-defined]
        if cls is IdentifierNode:
            return self.eval_function(dot, first, cmd, cmd.args, final)  # type: ignore[arg-type]
        if cls is VariableNode:
            return self.eval_variable_node(dot, first, cmd.args, final)  # type: ignore[arg-type]
        if cls is ChainNode:
            return self.eval_chain_node(dot, first, cmd.args, final)  # type: ignore[arg-type]
        if cls is PipeNode:
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)  # type: ignore[arg-type]
        self.node = first
        self.not_a_function(cmd.args, final)
        if cls is StringNode:
            return first.text  # type: ignore[attr-defined]
        if cls is DotNode:
            return dot
        if cls is BoolNode:
            return first.value  # type: ignore[attr-defined]
        if cls is NumberNode:
            return self.ideal_constant(first)  # type: ignore[arg-type]
        if cls is NilNode:
            self.errorf("nil is not a command")
        self.errorf(f"can't evaluate command {quote(str(first))}")

    def ideal_constant(self, n: NumberNode) -> Any:
        self.node = n
        if n.is_complex:
            return n.complex128
        text = n.text
        if n.is_float and not _is_hex_int(text) and not text.startswith("'") and any(c in text for c in ".eEpP"):
            return n.float64
        if n.is_int:
            return n.int64
        if n.is_uint:
            self.errorf(f"{text} overflows int")
        return None

    def eval_field_node(self, dot: Any, field: FieldNode, args: list[Node] | None, final: Any) -> Any:
        self.node = field
        return self.eval_field_chain(dot, dot, field, field.ident, args, final)

    def eval_chain_node(self, dot: Any, chain: ChainNode, args: list[Node] | None, final: Any) -> Any:
        self.node = chain
        if not chain.field:
            self.errorf("internal error: no fields in evalChainNode")
        if isinstance(chain.node, NilNode):
            self.errorf(f"indirection through explicit nil in {chain}")
        pipe = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, pipe, chain, chain.field, args, final)

    def eval_variable_node(self, dot: Any, variable: VariableNode, args: list[Node] | None, final: Any) -> Any:
        self.node = variable
        value = self.var_value(variable.ident[0])
        if len(variable.ident) == 1:
            self.not_a_function(args or [variable], final)
            return value
        return self.eval_field_chain(dot, value, variable, variable.ident[1:], args, final)

    def eval_field_chain(
        self, dot: Any, receiver: Any, node: Node, ident: list[str], args: list[Node] | None, final: Any
    ) -> Any:
        if node.__class__ is FieldNode:
            self.node = node
        last = len(ident) - 1
        for i in range(last):
            name = ident[i]
            cls = receiver.__class__
            # Inline the two commonest steps: a label map's key and a struct's plain field.
            if cls is KV and name not in _KV_METHODS and self.missing_key == "zero":
                receiver = receiver.get(name, "")
            elif cls in _PLAIN_STRUCTS and name in _PLAIN_STRUCTS[cls]:
                receiver = getattr(receiver, name)
            else:
                receiver = self.eval_field(dot, name, node, None, MISSING, receiver)
        return self.eval_field(dot, ident[last], node, args, final, receiver)

    def eval_field(
        self, dot: Any, field_name: str, node: Node, args: list[Node] | None, final: Any, receiver: Any
    ) -> Any:
        if receiver is None or receiver is NIL_INTERFACE:
            if self.missing_key == "error":
                self.errorf(f"nil data; no entry for key {quote(field_name)}")
            return None
        cls = receiver.__class__
        # Fast path: a label/annotation map (the commonest access in Alertmanager templates).
        if cls is KV and field_name not in _KV_METHODS:
            if (args is not None and len(args) > 1) or final is not MISSING:
                self.errorf(f"{field_name} is not a method but has arguments")
            value = receiver.get(field_name, _ABSENT)
            if value is _ABSENT:
                return self._missing_key(field_name, receiver.gotype)
            return value
        if isinstance(receiver, Struct):
            # Fast path: an exported field of a struct value without a method of that name.
            rtype = receiver.gotype
            if field_name in rtype.field_index and field_name not in rtype.methods and field_name[0].isupper():
                if (args is not None and len(args) > 1) or final is not MISSING:
                    self.errorf(f"{field_name} has arguments but cannot be invoked as function")
                return getattr(receiver, field_name)
        typ = type_of(receiver)
        ptr_methods = typ.methods if cls is Ptr or isinstance(receiver, Ptr) else None
        receiver, nil = indirect(receiver)
        rtype = type_of(receiver)
        if nil and rtype.kind == Kind.INTERFACE:
            self.errorf(f"nil pointer evaluating {typ}.{field_name}")
        method = rtype.methods.get(field_name)
        if method is None and ptr_methods:
            method = ptr_methods.get(field_name)
        if method is not None:
            return self.eval_call(dot, method, receiver, False, node, field_name, args, final)
        has_args = (args is not None and len(args) > 1) or final is not MISSING
        kind = rtype.kind
        if kind == Kind.STRUCT:
            if field_name in rtype.field_index:
                if not field_name[0].isupper():
                    self.errorf(f"{field_name} is an unexported field of struct type {typ}")
                if has_args:
                    self.errorf(f"{field_name} has arguments but cannot be invoked as function")
                return getattr(receiver, field_name)
        elif kind == Kind.MAP:
            if rtype.key is not None and rtype.key.kind == Kind.STRING and rtype.key.name in (None, "string"):
                if has_args:
                    self.errorf(f"{field_name} is not a method but has arguments")
                value = receiver.get(field_name, _ABSENT)
                if value is _ABSENT:
                    return self._missing_key(field_name, rtype)
                return value
        elif kind == Kind.POINTER:
            etyp = rtype.elem
            if not (etyp is not None and etyp.kind == Kind.STRUCT and field_name not in etyp.field_index):
                if nil:
                    self.errorf(f"nil pointer evaluating {typ}.{field_name}")
        self.errorf(f"can't evaluate field {field_name} in type {typ}")

    def _missing_key(self, field_name: str, map_type: GoType) -> Any:
        if self.missing_key == "zero":
            return zero_value(map_type.elem)  # type: ignore[arg-type]
        if self.missing_key == "error":
            self.errorf(f"map has no entry for key {quote(field_name)}")
        return None

    def eval_function(
        self, dot: Any, node: IdentifierNode, cmd: Node, args: list[Node] | None, final: Any
    ) -> Any:
        self.node = node
        name = node.ident
        fn = self.funcs.get(name)
        if fn is None:
            self.errorf(f"{quote(name)} is not a defined function")
        return self.eval_call(dot, fn, _NO_RECEIVER, fn.builtin, cmd, name, args, final)  # type: ignore[union-attr]

    def eval_call(
        self,
        dot: Any,
        fn: GoFunc,
        receiver: Any,
        is_builtin: bool,
        node: Node,
        name: str,
        args: list[Node] | None,
        final: Any,
    ) -> Any:
        call_args = args[1:] if args is not None else []
        params = fn.params
        num_in = len(call_args) + (0 if final is MISSING else 1)
        num_fixed = len(call_args)
        if fn.variadic:
            num_fixed = len(params) - 1
            if num_in < num_fixed:
                self.errorf(f"wrong number of args for {name}: want at least {len(params) - 1} got {len(call_args)}")
        elif num_in != len(params):
            self.errorf(f"wrong number of args for {name}: want {len(params)} got {num_in}")
        if not fn.good:
            self.errorf(f"can't call method/function {quote(name)} with {fn.num_out} results")
        if is_builtin and (name == "and" or name == "or"):
            want = name == "or"
            v: Any = None
            for arg in call_args:
                v = self.eval_arg(dot, T_REFLECT_VALUE, arg)
                if truth(v) == want:
                    return v
            if final is not MISSING:
                v = self.validate_type(final, T_REFLECT_VALUE)
            return v
        argv = []
        i = 0
        while i < num_fixed and i < len(call_args):
            argv.append(self.eval_arg(dot, params[i], call_args[i]))
            i += 1
        if fn.variadic:
            elem = params[-1]
            while i < len(call_args):
                argv.append(self.eval_arg(dot, elem, call_args[i]))
                i += 1
        if final is not MISSING:
            t = params[-1]
            if fn.variadic and num_in - 1 < num_fixed:
                t = params[num_in - 1]
            argv.append(self.validate_type(final, t))
        try:
            if receiver is _NO_RECEIVER:
                return fn.impl(*argv)
            return fn.impl(receiver, *argv)
        except GoCallError as exc:
            self.node = node
            self.errorf(f"error calling {name}: {exc}")

    def validate_type(self, value: Any, typ: GoType | None) -> Any:
        if value is None or value is NIL_INTERFACE:
            if typ is None or typ is T_REFLECT_VALUE:
                return None
            if _can_be_nil(typ):
                return zero_value(typ)
            self.errorf(f"invalid value; expected {typ}")
        if typ is None or typ is T_REFLECT_VALUE or typ is T_EMPTY_INTERFACE:
            return value
        vt = type_of(value)
        if vt is typ or assignable(vt, typ):
            return value
        if isinstance(value, Ptr) and assignable(type_of(value.elem), typ):
            return value.elem
        self.errorf(f"wrong type for value; expected {typ}; got {vt}")

    def eval_arg(self, dot: Any, typ: GoType | None, n: Node) -> Any:
        self.node = n
        cls = n.__class__
        if cls is DotNode:
            return self.validate_type(dot, typ)
        if cls is FieldNode:
            return self.validate_type(self.eval_field_node(dot, n, [n], MISSING), typ)  # type: ignore[arg-type]
        if cls is VariableNode:
            return self.validate_type(self.eval_variable_node(dot, n, None, MISSING), typ)  # type: ignore[arg-type]
        if cls is PipeNode:
            return self.validate_type(self.eval_pipeline(dot, n), typ)  # type: ignore[arg-type]
        if cls is IdentifierNode:
            return self.validate_type(self.eval_function(dot, n, n, None, MISSING), typ)  # type: ignore[arg-type]
        if cls is ChainNode:
            return self.validate_type(self.eval_chain_node(dot, n, None, MISSING), typ)  # type: ignore[arg-type]
        if cls is NilNode:
            if typ is not None and _can_be_nil(typ):
                return None if typ is T_REFLECT_VALUE else zero_value(typ)
            self.errorf(f"cannot assign nil to {typ}")
        assert typ is not None
        kind = typ.kind
        if kind == Kind.STRING:
            if cls is StringNode:
                return convert_scalar(typ, n.text)  # type: ignore[attr-defined]
            self.errorf(f"expected string; found {n}")
        if typ is T_EMPTY_INTERFACE or typ is T_REFLECT_VALUE:
            return self.eval_empty_interface(dot, n)
        if kind in INT_KINDS:
            if cls is NumberNode and n.is_int:  # type: ignore[attr-defined]
                return convert_scalar(typ, n.int64)  # type: ignore[attr-defined]
            self.errorf(f"expected integer; found {n}")
        if kind == Kind.BOOL:
            if cls is BoolNode:
                return n.value  # type: ignore[attr-defined]
            self.errorf(f"expected bool; found {n}")
        if kind in FLOAT_KINDS:
            if cls is NumberNode and n.is_float:  # type: ignore[attr-defined]
                return convert_scalar(typ, n.float64)  # type: ignore[attr-defined]
            self.errorf(f"expected float; found {n}")
        if kind in UINT_KINDS:
            if cls is NumberNode and n.is_uint:  # type: ignore[attr-defined]
                return convert_scalar(typ, n.uint64)  # type: ignore[attr-defined]
            self.errorf(f"expected unsigned integer; found {n}")
        if kind in COMPLEX_KINDS:
            if cls is NumberNode and n.is_complex:  # type: ignore[attr-defined]
                return n.complex128  # type: ignore[attr-defined]
            self.errorf(f"expected complex; found {n}")
        self.errorf(f"can't handle {n} for arg of type {typ}")

    def eval_empty_interface(self, dot: Any, n: Node) -> Any:
        self.node = n
        cls = n.__class__
        if cls is BoolNode:
            return n.value  # type: ignore[attr-defined]
        if cls is NumberNode:
            return self.ideal_constant(n)  # type: ignore[arg-type]
        if cls is StringNode:
            return n.text  # type: ignore[attr-defined]
        self.errorf(f"can't handle assignment of {n} to empty interface argument")

    def print_value(self, node: Node, value: Any) -> None:
        self.node = node
        if isinstance(value, Ptr):
            value, _ = indirect(value)
        if value is None or value is NIL_INTERFACE:
            self.write("<no value>")
            return
        cls = value.__class__
        if cls is str:
            self.write(value)
            return
        kind = type_of(value).kind
        if kind == Kind.FUNC or kind == Kind.CHAN:
            self.errorf(f"can't print {node} of type {type_of(value)}")
        self.write(gofmt.sprint_value(value))


def execute(
    tree: Tree,
    data: Any,
    *,
    lookup: Callable[[str], Tree | None],
    funcs: Mapping[str, GoFunc],
    name: str | None = None,
    max_output: int = DEFAULT_MAX_OUTPUT,
    time_limit: float = DEFAULT_TIME_LIMIT,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> str:
    """Run one parsed template on `data` and return its output."""
    executor = Executor(lookup, funcs, max_output=max_output, time_limit=time_limit, max_depth=max_depth)
    return executor.execute(tree.name if name is None else name, tree, data)
