"""Parse-tree nodes. `str(node)` reproduces Go's Node.String(), which error messages quote as context."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.templates.parser import Tree


class Node:
    __slots__ = ("pos", "tree")

    def __init__(self, pos: int, tree: Tree | None) -> None:
        self.pos = pos
        self.tree = tree


class ListNode(Node):
    __slots__ = ("nodes",)

    def __init__(self, pos: int, tree: Tree | None) -> None:
        super().__init__(pos, tree)
        self.nodes: list[Node] = []

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


class TextNode(Node):
    __slots__ = ("text",)

    def __init__(self, pos: int, tree: Tree | None, text: str) -> None:
        super().__init__(pos, tree)
        self.text = text

    def __str__(self) -> str:
        return self.text


class CommentNode(Node):
    __slots__ = ("text",)

    def __init__(self, pos: int, tree: Tree | None, text: str) -> None:
        super().__init__(pos, tree)
        self.text = text

    def __str__(self) -> str:
        return "{{" + self.text + "}}"


class PipeNode(Node):
    __slots__ = ("line", "is_assign", "decl", "cmds")

    def __init__(self, pos: int, tree: Tree | None, line: int) -> None:
        super().__init__(pos, tree)
        self.line = line
        self.is_assign = False
        self.decl: list[VariableNode] = []
        self.cmds: list[CommandNode] = []

    def __str__(self) -> str:
        text = ""
        if self.decl:
            text = ", ".join(str(v) for v in self.decl) + " := "
        return text + " | ".join(str(c) for c in self.cmds)


class ActionNode(Node):
    __slots__ = ("line", "pipe", "simple_field")

    def __init__(self, pos: int, tree: Tree | None, line: int, pipe: PipeNode) -> None:
        super().__init__(pos, tree)
        self.line = line
        self.pipe = pipe
        # {{ .A.B }} — the commonest action — is evaluated without the general pipeline machinery.
        self.simple_field: FieldNode | None = None
        if not pipe.decl and len(pipe.cmds) == 1 and len(pipe.cmds[0].args) == 1:
            arg = pipe.cmds[0].args[0]
            if isinstance(arg, FieldNode):
                self.simple_field = arg

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


class CommandNode(Node):
    __slots__ = ("args",)

    def __init__(self, pos: int, tree: Tree | None) -> None:
        super().__init__(pos, tree)
        self.args: list[Node] = []

    def __str__(self) -> str:
        parts = []
        for arg in self.args:
            if isinstance(arg, PipeNode):
                parts.append("(" + str(arg) + ")")
            else:
                parts.append(str(arg))
        return " ".join(parts)


class IdentifierNode(Node):
    __slots__ = ("ident",)

    def __init__(self, pos: int, tree: Tree | None, ident: str) -> None:
        super().__init__(pos, tree)
        self.ident = ident

    def __str__(self) -> str:
        return self.ident


class VariableNode(Node):
    __slots__ = ("ident",)

    def __init__(self, pos: int, tree: Tree | None, ident: str) -> None:
        super().__init__(pos, tree)
        self.ident = ident.split(".")

    def __str__(self) -> str:
        return ".".join(self.ident)


class DotNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "."


class NilNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "nil"


class FieldNode(Node):
    __slots__ = ("ident",)

    def __init__(self, pos: int, tree: Tree | None, ident: str) -> None:
        super().__init__(pos, tree)
        self.ident = ident[1:].split(".")

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


class ChainNode(Node):
    __slots__ = ("node", "field")

    def __init__(self, pos: int, tree: Tree | None, node: Node) -> None:
        super().__init__(pos, tree)
        self.node = node
        self.field: list[str] = []

    def add(self, field_text: str) -> None:
        if not field_text or field_text[0] != ".":
            raise ValueError("no dot in field")
        self.field.append(field_text[1:])

    def __str__(self) -> str:
        if isinstance(self.node, PipeNode):
            text = "(" + str(self.node) + ")"
        else:
            text = str(self.node)
        return text + "".join("." + f for f in self.field)


class BoolNode(Node):
    __slots__ = ("value",)

    def __init__(self, pos: int, tree: Tree | None, value: bool) -> None:
        super().__init__(pos, tree)
        self.value = value

    def __str__(self) -> str:
        return "true" if self.value else "false"


class NumberNode(Node):
    __slots__ = (
        "text",
        "is_int",
        "is_uint",
        "is_float",
        "is_complex",
        "int64",
        "uint64",
        "float64",
        "complex128",
    )

    def __init__(self, pos: int, tree: Tree | None, text: str) -> None:
        super().__init__(pos, tree)
        self.text = text
        self.is_int = False
        self.is_uint = False
        self.is_float = False
        self.is_complex = False
        self.int64 = 0
        self.uint64 = 0
        self.float64 = 0.0
        self.complex128 = 0j

    def __str__(self) -> str:
        return self.text


class StringNode(Node):
    __slots__ = ("quoted", "text")

    def __init__(self, pos: int, tree: Tree | None, quoted: str, text: str) -> None:
        super().__init__(pos, tree)
        self.quoted = quoted
        self.text = text

    def __str__(self) -> str:
        return self.quoted


class EndNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{end}}"


class ElseNode(Node):
    __slots__ = ("line",)

    def __init__(self, pos: int, tree: Tree | None, line: int) -> None:
        super().__init__(pos, tree)
        self.line = line

    def __str__(self) -> str:
        return "{{else}}"


class BranchNode(Node):
    __slots__ = ("line", "pipe", "list", "else_list")
    keyword = ""

    def __init__(
        self, pos: int, tree: Tree | None, line: int, pipe: PipeNode, list_: ListNode, else_list: ListNode | None
    ) -> None:
        super().__init__(pos, tree)
        self.line = line
        self.pipe = pipe
        self.list = list_
        self.else_list = else_list

    def __str__(self) -> str:
        text = "{{" + self.keyword + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            text += "{{else}}" + str(self.else_list)
        return text + "{{end}}"


class IfNode(BranchNode):
    __slots__ = ()
    keyword = "if"


class RangeNode(BranchNode):
    __slots__ = ()
    keyword = "range"


class WithNode(BranchNode):
    __slots__ = ()
    keyword = "with"


class BreakNode(Node):
    __slots__ = ("line",)

    def __init__(self, pos: int, tree: Tree | None, line: int) -> None:
        super().__init__(pos, tree)
        self.line = line

    def __str__(self) -> str:
        return "{{break}}"


class ContinueNode(Node):
    __slots__ = ("line",)

    def __init__(self, pos: int, tree: Tree | None, line: int) -> None:
        super().__init__(pos, tree)
        self.line = line

    def __str__(self) -> str:
        return "{{continue}}"


class TemplateNode(Node):
    __slots__ = ("line", "name", "pipe")

    def __init__(self, pos: int, tree: Tree | None, line: int, name: str, pipe: PipeNode | None) -> None:
        super().__init__(pos, tree)
        self.line = line
        self.name = name
        self.pipe = pipe

    def __str__(self) -> str:
        from bot.templates.gostrconv import quote

        text = "{{template " + quote(self.name)
        if self.pipe is not None:
            text += " " + str(self.pipe)
        return text + "}}"


# unicode.IsSpace, which bytes.TrimSpace uses.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def is_empty_tree(node: Any) -> bool:
    """Go's parse.IsEmptyTree: nothing but space and comments."""
    if node is None:
        return True
    if isinstance(node, CommentNode):
        return True
    if isinstance(node, ListNode):
        return all(is_empty_tree(n) for n in node.nodes)
    if isinstance(node, TextNode):
        return node.text.strip(GO_SPACE) == ""
    return False
