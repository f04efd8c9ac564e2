"""Parser for Go's text/template: tokens to trees, with Go's grammar, checks and error messages.

`parse(name, text, funcs)` returns every template the text defines, keyed by name
(the text's own top level under `name`), like Go's `parse.Parse`.
"""

from __future__ import annotations

from collections.abc import Container

from bot.templates import gostrconv
from bot.templates import lexer as lx
from bot.templates.errors import TemplateError, line_column
from bot.templates.lexer import Token
from bot.templates.nodes import (
    ActionNode,
    BoolNode,
    BreakNode,
    ChainNode,
    CommandNode,
    CommentNode,
    ContinueNode,
    DotNode,
    ElseNode,
    EndNode,
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
    is_empty_tree,
)


class Tree:
    """One parsed template: its name, the name of the text it came from, and its root list."""

    __slots__ = ("name", "parse_name", "root", "text")

    def __init__(self, name: str, parse_name: str, text: str) -> None:
        self.name = name
        self.parse_name = parse_name
        self.text = text
        self.root: ListNode | None = None

    def __repr__(self) -> str:
        return f"Tree({self.name!r} from {self.parse_name!r})"


class _ParseFailure(Exception):
    pass


class _Parser:
    """Parsing state for one text; `define`/`block` bodies get their own Tree but share the token stream."""

    def __init__(self, name: str, text: str, funcs: Container[str], tree_set: dict[str, Tree]) -> None:
        self.text = text
        self.parse_name = name
        self.funcs = funcs
        self.tree_set = tree_set
        self.tokens = lx.lex(text, break_ok="break" not in funcs, continue_ok="continue" not in funcs)
        self.index = 0
        self.token: list[Token] = [Token(lx.EOF, 0, "", 1)] * 3
        self.peek_count = 0
        self.vars: list[str] = ["$"]
        self.action_line = 0
        self.range_depth = 0
        self.tree = Tree(name, name, text)

    # -- token plumbing (Go's three-token lookahead) --------------------------
    def _lex_next(self) -> Token:
        tok = self.tokens[self.index]
        if self.index < len(self.tokens) - 1:
            self.index += 1
        return tok

    def next(self) -> Token:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self._lex_next()
        return self.token[self.peek_count]

    def backup(self) -> None:
        self.peek_count += 1

    def backup2(self, t1: Token) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def backup3(self, t2: Token, t1: Token) -> None:
        self.token[1] = t1
        self.token[2] = t2
        self.peek_count = 3

    def peek(self) -> Token:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self._lex_next()
        return self.token[0]

    def next_non_space(self) -> Token:
        while True:
            tok = self.next()
            if tok.typ != lx.SPACE:
                return tok

    def peek_non_space(self) -> Token:
        tok = self.next_non_space()
        self.backup()
        return tok

    # -- errors ----------------------------------------------------------------
    def errorf(self, message: str) -> None:
        tok = self.token[0]
        line = tok.line
        _, column = line_column(self.text, tok.pos)
        go = f"template: {self.parse_name}:{line}: {message}"
        raise TemplateError(go, name=self.parse_name, line=line, column=column, message=message, phase="parse")

    def expect(self, expected: int, context: str) -> Token:
        tok = self.next_non_space()
        if tok.typ != expected:
            self.unexpected(tok, context)
        return tok

    def expect_one_of(self, expected1: int, expected2: int, context: str) -> Token:
        tok = self.next_non_space()
        if tok.typ != expected1 and tok.typ != expected2:
            self.unexpected(tok, context)
        return tok

    def unexpected(self, tok: Token, context: str) -> None:
        if tok.typ == lx.ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != tok.line:
                extra = f" in action started at {self.parse_name}:{self.action_line}"
                if tok.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            self.errorf(f"{tok.describe()}{extra}")
        self.errorf(f"unexpected {tok.describe()} in {context}")

    # -- grammar -------------------------------------------------------------
    def parse(self) -> dict[str, Tree]:
        tree = self.tree
        tree.root = ListNode(self.peek().pos, tree)
        while self.peek().typ != lx.EOF:
            if self.peek().typ == lx.LEFT_DELIM:
                delim = self.next()
                if self.next_non_space().typ == lx.DEFINE:
                    self.parse_definition()
                    continue
                self.backup2(delim)
            node = self.text_or_action()
            if isinstance(node, (EndNode, ElseNode)):
                self.errorf(f"unexpected {node}")
            tree.root.nodes.append(node)
        self.add(tree)
        return self.tree_set

    def add(self, tree: Tree) -> None:
        existing = self.tree_set.get(tree.name)
        if existing is None or is_empty_tree(existing.root):
            self.tree_set[tree.name] = tree
            return
        if not is_empty_tree(tree.root):
            self.errorf(f"template: multiple definition of template {gostrconv.quote(tree.name)}")

    def _enter(self, tree: Tree) -> tuple[Tree, list[str], int, int]:
        """Start parsing a define/block body: Go gives it a fresh Tree with its own parsing state."""
        saved = (self.tree, self.vars, self.action_line, self.range_depth)
        self.tree = tree
        self.vars = ["$"]
        self.action_line = 0
        self.range_depth = 0
        return saved

    def _leave(self, saved: tuple[Tree, list[str], int, int]) -> None:
        self.tree, self.vars, self.action_line, self.range_depth = saved

    def parse_definition(self) -> None:
        context = "define clause"
        name_tok = self.expect_one_of(lx.STRING, lx.RAW_STRING, context)
        try:
            name = gostrconv.unquote(name_tok.val)
        except gostrconv.StrconvError as exc:
            self.errorf(str(exc))
        tree = Tree(name, self.parse_name, self.text)
        saved = self._enter(tree)
        self.expect(lx.RIGHT_DELIM, context)
        tree.root, end = self.item_list()
        if not isinstance(end, EndNode):
            self.errorf(f"unexpected {end} in {context}")
        self.add(tree)
        self._leave(saved)

    def item_list(self) -> tuple[ListNode, Node]:
        lst = ListNode(self.peek_non_space().pos, self.tree)
        while self.peek_non_space().typ != lx.EOF:
            node = self.text_or_action()
            if isinstance(node, (EndNode, ElseNode)):
                return lst, node
            lst.nodes.append(node)
        self.errorf("unexpected EOF")
        raise AssertionError("unreachable")

    def text_or_action(self) -> Node:
        tok = self.next_non_space()
        if tok.typ == lx.TEXT:
            return TextNode(tok.pos, self.tree, tok.val)
        if tok.typ == lx.LEFT_DELIM:
            self.action_line = tok.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        if tok.typ == lx.COMMENT:
            return CommentNode(tok.pos, self.tree, tok.val)
        self.unexpected(tok, "input")
        raise AssertionError("unreachable")

    def action(self) -> Node:
        tok = self.next_non_space()
        typ = tok.typ
        if typ == lx.BLOCK:
            return self.block_control()
        if typ == lx.BREAK:
            return self.break_control(tok.pos, tok.line)
        if typ == lx.CONTINUE:
            return self.continue_control(tok.pos, tok.line)
        if typ == lx.ELSE:
            return self.else_control()
        if typ == lx.END:
            return self.end_control()
        if typ == lx.IF:
            return IfNode(*self.parse_control(True, "if"))
        if typ == lx.RANGE:
            return RangeNode(*self.parse_control(False, "range"))
        if typ == lx.TEMPLATE:
            return self.template_control()
        if typ == lx.WITH:
            return WithNode(*self.parse_control(False, "with"))
        self.backup()
        tok = self.peek()
        return ActionNode(tok.pos, self.tree, tok.line, self.pipeline("command", lx.RIGHT_DELIM))

    def break_control(self, pos: int, line: int) -> Node:
        tok = self.next_non_space()
        if tok.typ != lx.RIGHT_DELIM:
            self.unexpected(tok, "{{break}}")
        if self.range_depth == 0:
            self.errorf("{{break}} outside {{range}}")
        return BreakNode(pos, self.tree, line)

    def continue_control(self, pos: int, line: int) -> Node:
        tok = self.next_non_space()
        if tok.typ != lx.RIGHT_DELIM:
            self.unexpected(tok, "{{continue}}")
        if self.range_depth == 0:
            self.errorf("{{continue}} outside {{range}}")
        return ContinueNode(pos, self.tree, line)

    def pipeline(self, context: str, end: int) -> PipeNode:
        tok = self.peek_non_space()
        pipe = PipeNode(tok.pos, self.tree, tok.line)
        while True:  # declarations
            v = self.peek_non_space()
            if v.typ != lx.VARIABLE:
                break
            self.next()
            token_after_variable = self.peek()
            nxt = self.peek_non_space()
            if nxt.typ in (lx.ASSIGN, lx.DECLARE):
                pipe.is_assign = nxt.typ == lx.ASSIGN
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, self.tree, v.val))
                self.vars.append(v.val)
            elif nxt.typ == lx.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, self.tree, v.val))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (lx.VARIABLE, lx.RIGHT_DELIM, lx.RIGHT_PAREN):
                        continue  # second initialized variable in a range pipeline
                    self.errorf("range can only initialize variables")
                self.errorf(f"too many declarations in {context}")
            elif token_after_variable.typ == lx.SPACE:
                self.backup3(v, token_after_variable)
            else:
                self.backup2(v)
            break
        while True:
            tok = self.next_non_space()
            if tok.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if tok.typ in _OPERAND_START:
                self.backup()
                pipe.cmds.append(self.command())
            else:
                self.unexpected(tok, context)

    def check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            self.errorf(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], (BoolNode, DotNode, NilNode, NumberNode, StringNode)):
                self.errorf(f"non executable command in pipeline stage {i + 2}")

    def parse_control(self, allow_else_if: bool, context: str):
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, lx.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            lst, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list = None
            if isinstance(nxt, ElseNode):
                if allow_else_if and self.peek().typ == lx.IF:
                    # {{else if x}} is {{else}}{{if x}}…{{end}} sharing the outer {{end}}.
                    self.next()
                    else_list = ListNode(nxt.pos, self.tree)
                    else_list.nodes.append(IfNode(*self.parse_control(True, "if")))
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, EndNode):
                        self.errorf(f"expected end; found {nxt}")
            return pipe.pos, self.tree, pipe.line, pipe, lst, else_list
        finally:
            del self.vars[mark:]

    def end_control(self) -> Node:
        return EndNode(self.expect(lx.RIGHT_DELIM, "end").pos, self.tree)

    def else_control(self) -> Node:
        peek = self.peek_non_space()
        if peek.typ == lx.IF:
            return ElseNode(peek.pos, self.tree, peek.line)
        tok = self.expect(lx.RIGHT_DELIM, "else")
        return ElseNode(tok.pos, self.tree, tok.line)

    def block_control(self) -> Node:
        context = "block clause"
        tok = self.next_non_space()
        name = self.parse_template_name(tok, context)
        pipe = self.pipeline(context, lx.RIGHT_DELIM)
        block = Tree(name, self.parse_name, self.text)
        saved = self._enter(block)
        block.root, end = self.item_list()
        if not isinstance(end, EndNode):
            self.errorf(f"unexpected {end} in {context}")
        self.add(block)
        self._leave(saved)
        return TemplateNode(tok.pos, self.tree, tok.line, name, pipe)

    def template_control(self) -> Node:
        context = "template clause"
        tok = self.next_non_space()
        name = self.parse_template_name(tok, context)
        pipe = None
        if self.next_non_space().typ != lx.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, lx.RIGHT_DELIM)
        return TemplateNode(tok.pos, self.tree, tok.line, name, pipe)

    def parse_template_name(self, tok: Token, context: str) -> str:
        if tok.typ in (lx.STRING, lx.RAW_STRING):
            try:
                return gostrconv.unquote(tok.val)
            except gostrconv.StrconvError as exc:
                self.errorf(str(exc))
        self.unexpected(tok, context)
        raise AssertionError("unreachable")

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos, self.tree)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.typ == lx.SPACE:
                continue
            if tok.typ in (lx.RIGHT_DELIM, lx.RIGHT_PAREN):
                self.backup()
            elif tok.typ == lx.PIPE:
                pass
            else:
                self.unexpected(tok, "operand")
            break
        if not cmd.args:
            self.errorf("empty command")
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == lx.FIELD:
            chain = ChainNode(self.peek().pos, self.tree, node)
            while self.peek().typ == lx.FIELD:
                chain.add(self.next().val)
            if isinstance(node, FieldNode):
                node = FieldNode(chain.pos, self.tree, str(chain))
            elif isinstance(node, VariableNode):
                node = VariableNode(chain.pos, self.tree, str(chain))
            elif isinstance(node, (BoolNode, StringNode, NumberNode, NilNode, DotNode)):
                self.errorf(f"unexpected . after term {gostrconv.quote(str(node))}")
            else:
                node = chain
        return node

    def term(self) -> Node | None:
        tok = self.next_non_space()
        typ = tok.typ
        if typ == lx.IDENTIFIER:
            if tok.val not in self.funcs:
                self.errorf(f"function {gostrconv.quote(tok.val)} not defined")
            return IdentifierNode(tok.pos, self.tree, tok.val)
        if typ == lx.DOT:
            return DotNode(tok.pos, self.tree)
        if typ == lx.NIL:
            return NilNode(tok.pos, self.tree)
        if typ == lx.VARIABLE:
            return self.use_var(tok.pos, tok.val)
        if typ == lx.FIELD:
            return FieldNode(tok.pos, self.tree, tok.val)
        if typ == lx.BOOL:
            return BoolNode(tok.pos, self.tree, tok.val == "true")
        if typ in (lx.CHAR_CONSTANT, lx.COMPLEX, lx.NUMBER):
            try:
                return new_number(tok.pos, self.tree, tok.val, typ)
            except gostrconv.StrconvError as exc:
                self.errorf(str(exc))
        if typ == lx.LEFT_PAREN:
            return self.pipeline("parenthesized pipeline", lx.RIGHT_PAREN)
        if typ in (lx.STRING, lx.RAW_STRING):
            try:
                text = gostrconv.unquote(tok.val)
            except gostrconv.StrconvError as exc:
                self.errorf(str(exc))
            return StringNode(tok.pos, self.tree, tok.val, text)
        self.backup()
        return None

    def use_var(self, pos: int, name: str) -> Node:
        v = VariableNode(pos, self.tree, name)
        if v.ident[0] not in self.vars:
            self.errorf(f"undefined variable {gostrconv.quote(v.ident[0])}")
        return v


_OPERAND_START = frozenset(
    {
        lx.BOOL,
        lx.CHAR_CONSTANT,
        lx.COMPLEX,
        lx.DOT,
        lx.FIELD,
        lx.IDENTIFIER,
        lx.NUMBER,
        lx.NIL,
        lx.RAW_STRING,
        lx.STRING,
        lx.VARIABLE,
        lx.LEFT_PAREN,
    }
)


def new_number(pos: int, tree: Tree | None, text: str, typ: int) -> NumberNode:
    """Go's parse.newNumber: a literal stored under every Go type that can hold it."""
    n = NumberNode(pos, tree, text)
    if typ == lx.CHAR_CONSTANT:
        decoded, nxt = gostrconv.unquote_char(text, 1, "'")
        if text[nxt:] != "'":
            raise gostrconv.StrconvError(f"malformed character constant: {text}")
        code = ord(decoded) if not (0xDC80 <= ord(decoded) <= 0xDCFF) else ord(decoded) - 0xDC00
        n.int64 = n.uint64 = code
        n.float64 = float(code)
        n.is_int = n.is_uint = n.is_float = True
        return n
    if typ == lx.COMPLEX:
        n.complex128 = _parse_complex(text)
        n.is_complex = True
        _simplify_complex(n)
        return n
    if text.endswith("i"):
        try:
            f = gostrconv.parse_float(text[:-1])
        except gostrconv.StrconvError:
            pass
        else:
            n.is_complex = True
            n.complex128 = complex(0, f)
            _simplify_complex(n)
            return n
    u = None
    try:
        u = gostrconv.parse_uint(text)
        n.is_uint = True
        n.uint64 = u
    except gostrconv.StrconvError:
        pass
    try:
        i = gostrconv.parse_int(text)
        n.is_int = True
        n.int64 = i
        if i == 0:
            n.is_uint = True
            n.uint64 = u if u is not None else 0
    except gostrconv.StrconvError:
        pass
    if n.is_int:
        n.is_float = True
        n.float64 = float(n.int64)
    elif n.is_uint:
        n.is_float = True
        n.float64 = float(n.uint64)
    else:
        try:
            f = gostrconv.parse_float(text)
        except gostrconv.StrconvError:
            pass
        else:
            if not any(c in text for c in ".eEpP"):
                raise gostrconv.StrconvError(f"integer overflow: {gostrconv.quote(text)}")
            n.is_float = True
            n.float64 = f
            if f == int(f) and -(1 << 63) <= int(f) < (1 << 63):
                n.is_int = True
                n.int64 = int(f)
            if f == int(f) and 0 <= int(f) < (1 << 64):
                n.is_uint = True
                n.uint64 = int(f)
    if not (n.is_int or n.is_uint or n.is_float):
        raise gostrconv.StrconvError(f"illegal number syntax: {gostrconv.quote(text)}")
    return n


def _parse_complex(text: str) -> complex:
    body = text[:-1]  # drop the trailing 'i'
    # Split at the sign that starts the imaginary part (not one after an exponent marker).
    for k in range(len(body) - 1, 0, -1):
        if body[k] in "+-" and body[k - 1] not in "eEpP":
            real = gostrconv.parse_float(body[:k])
            imag = gostrconv.parse_float(body[k:])
            return complex(real, imag)
    raise gostrconv.StrconvError("invalid syntax")


def _simplify_complex(n: NumberNode) -> None:
    n.is_float = n.complex128.imag == 0
    if n.is_float:
        f = n.complex128.real
        n.float64 = f
        n.is_int = f == int(f) and -(1 << 63) <= int(f) < (1 << 63)
        if n.is_int:
            n.int64 = int(f)
        n.is_uint = f == int(f) and 0 <= int(f) < (1 << 64)
        if n.is_uint:
            n.uint64 = int(f)


def parse(name: str, text: str, funcs: Container[str], tree_set: dict[str, Tree] | None = None) -> dict[str, Tree]:
    """Parse `text` as template `name`; returns all templates it defines, `name` included.

    `funcs` is the set of function names the text may call (Go checks them at parse time).
    Raises TemplateError (phase "parse") with Go's message.
    """
    result: dict[str, Tree] = {} if tree_set is None else tree_set
    parser = _Parser(name, text, funcs, result)
    try:
        return parser.parse()
    except RecursionError:
        tok = parser.token[0]
        message = "actions nested too deeply to parse"
        raise TemplateError(f"template: {name}:{tok.line}: {message}", name=name, line=tok.line,
                            column=line_column(text, tok.pos)[1], message=message, phase="parse") from None
