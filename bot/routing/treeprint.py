"""ASCII trees printed exactly as the `treeprint` Go library prints them for amtool."""

from __future__ import annotations


class TreeNode:
    __slots__ = ("value", "children")

    def __init__(self, value: str) -> None:
        self.value = value
        self.children: list[TreeNode] = []

    def add(self, value: str) -> TreeNode:
        node = TreeNode(value)
        self.children.append(node)
        return node

    def render(self) -> str:
        """The tree as text, ending with a newline (amtool adds one more with Println)."""
        lines = [self.value]
        self._render_children(lines, 0, [])
        return "\n".join(lines) + "\n"

    def _render_children(self, lines: list[str], level: int, ended: list[int]) -> None:
        for i, child in enumerate(self.children):
            last = i == len(self.children) - 1
            levels = ended + [level] if last else ended
            # The Go library writes the link as "│" + two no-break spaces + a space.
            prefix = "".join("    " if lvl in levels else "│\u00a0\u00a0 " for lvl in range(level))
            lines.append(f"{prefix}{'└──' if last else '├──'} {child.value}")
            child._render_children(lines, level + 1, levels)
