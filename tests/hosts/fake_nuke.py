"""A recording fake of Nuke's ``nuke`` Python module (Nuke cannot run here).

It implements the small part of the API the SingleHDR gizmo uses, with
Nuke's behaviour where it matters, and records every call:

- nodes: ``nuke.createNode`` (a ``<Class>.gizmo`` on the plugin path is
  parsed from its .nk text into a Gizmo with its user knobs and internal
  nodes, wired by the .nk stack rules), ``nuke.nodes.<Class>(**knobs)``,
  ``nuke.toNode``, ``nuke.delete``, groups with begin()/end()/``with``;
- knobs: Int, Double, Boolean, String, File, Enumeration, PyScript, Text,
  Tab (values, defaults, visibility, enabled state, flags);
- ``nuke.thisNode()/thisKnob()`` (set while a knob script runs),
  ``nuke.execute`` (recorded, then ``render_hook(node, first, last)``),
  ``nuke.message``, ``nuke.ProgressTask``, ``nuke.menu(...).addMenu/
  addCommand``, ``nuke.pluginAddPath`` (also extends sys.path as Nuke does),
  ``nuke.getFilename``, ``nuke.frame``, ``nuke.root``.

Use :func:`make_fake_nuke` for a fresh module and ``start_nuke(folder)`` to
run a plugin folder's init.py and menu.py as Nuke does at start-up.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any, Callable, Dict, List, Optional, Tuple

# ----------------------------------------------------------------- .nk text


def tcl_tokens(text: str) -> List[Tuple[str, str]]:
    """Split .nk/TCL text into (kind, text) tokens: 'word', 'quoted', 'brace'.

    Quoted strings get their backslash escapes resolved; brace groups are
    returned raw (without the outer braces).  '#' lines are comments.
    """
    tokens: List[Tuple[str, str]] = []
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if c == "\n":
            at_line_start = True
            i += 1
            continue
        if c in " \t\r":
            i += 1
            continue
        if c == "#" and at_line_start:
            while i < n and text[i] != "\n":
                i += 1
            continue
        at_line_start = False
        if c == "{":
            depth, j = 1, i + 1
            while j < n and depth:
                if text[j] == "\\":
                    j += 2
                    continue
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            if depth:
                raise ValueError("unbalanced braces in .nk text")
            tokens.append(("brace", text[i + 1 : j - 1]))
            i = j
        elif c == '"':
            out, j = [], i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    nxt = text[j + 1]
                    out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
                    j += 2
                else:
                    out.append(text[j])
                    j += 1
            if j >= n:
                raise ValueError("unterminated quoted string in .nk text")
            tokens.append(("quoted", "".join(out)))
            i = j + 1
        else:
            j = i
            while j < n and text[j] not in " \t\r\n":
                j += 1
            tokens.append(("word", text[i:j]))
            i = j
    return tokens


def parse_user_knob(spec: str) -> Dict[str, Any]:
    """Parse the body of ``addUserKnob {...}``: type, name, l, t, M, T, R, flags."""
    toks = tcl_tokens(spec)
    if len(toks) < 2:
        raise ValueError(f"bad addUserKnob spec {spec!r}")
    out: Dict[str, Any] = {"type": int(toks[0][1]), "name": toks[1][1], "flags": []}
    i = 2
    while i < len(toks):
        key = toks[i][1]
        if key in ("l", "t", "T"):
            out[{"l": "label", "t": "tooltip", "T": "text"}[key]] = toks[i + 1][1]
            i += 2
        elif key == "M":
            out["items"] = [t[1] for t in tcl_tokens(toks[i + 1][1])]
            i += 2
        elif key == "R":
            out["range"] = (float(toks[i + 1][1]), float(toks[i + 2][1]))
            i += 3
        elif key[:1] in "+-":
            out["flags"].append(key)
            i += 1
        else:
            raise ValueError(f"unknown addUserKnob option {key!r} in {spec!r}")
    return out


def parse_nk(text: str) -> List[Tuple[str, List[Tuple[str, Any]]]]:
    """Parse .nk text into [(node class, [(knob, value), ...]), ...].

    ``addUserKnob`` entries come back as ("addUserKnob", parsed spec dict);
    ``version`` and ``end_group`` lines are kept as ("version"/"end_group", []).
    """
    toks = tcl_tokens(text)
    nodes: List[Tuple[str, List[Tuple[str, Any]]]] = []
    i = 0
    while i < len(toks):
        word = toks[i][1]
        if word == "version":
            nodes.append(("version", [("version", toks[i + 1][1])]))
            i += 3
        elif word == "end_group":
            nodes.append(("end_group", []))
            i += 1
        else:
            if i + 1 >= len(toks) or toks[i + 1][0] != "brace":
                raise ValueError(f"expected a node body after {word!r}")
            body = tcl_tokens(toks[i + 1][1])
            if len(body) % 2:
                raise ValueError(f"odd number of words in the body of {word}: {body}")
            pairs: List[Tuple[str, Any]] = []
            for k in range(0, len(body), 2):
                name, (kind, value) = body[k][1], body[k + 1]
                pairs.append((name, parse_user_knob(value) if name == "addUserKnob" else value))
            nodes.append((word, pairs))
            i += 2
    return nodes


# -------------------------------------------------------------------- knobs


class Knob:
    default: Any = ""

    def __init__(self, name: str, label: Optional[str] = None, *args: Any, **kwargs: Any):
        self._name = name
        self._label = name if label is None else label
        self._value = self.default
        self._visible = True
        self._enabled = True
        self._tooltip = ""
        self._flags: List[str] = []
        self._node: Optional["Node"] = None

    def Class(self) -> str:
        return type(self).__name__

    def name(self) -> str:
        return self._name

    def label(self) -> str:
        return self._label

    def node(self) -> Optional["Node"]:
        return self._node

    def value(self, *args: Any) -> Any:
        return self._value

    def getValue(self, *args: Any) -> Any:
        return self._value

    def evaluate(self, *args: Any) -> Any:
        return self._value

    def setValue(self, value: Any, *args: Any) -> bool:
        self._value = self.convert(value)
        if self._node is not None:
            self._node._fake.record("Knob.setValue", self._node.name(), self._name, self._value)
        return True

    def convert(self, value: Any) -> Any:
        return value

    def setVisible(self, visible: bool) -> None:
        self._visible = bool(visible)

    def visible(self) -> bool:
        return self._visible

    def setEnabled(self, enabled: bool) -> None:
        self._enabled = bool(enabled)

    def enabled(self) -> bool:
        return self._enabled

    def setTooltip(self, tip: str) -> None:
        self._tooltip = tip

    def tooltip(self) -> str:
        return self._tooltip

    def setFlag(self, flag: Any) -> None:
        self._flags.append(str(flag))

    def clearFlag(self, flag: Any) -> None:
        self._flags = [f for f in self._flags if f != str(flag)]


class String_Knob(Knob):
    default = ""

    def convert(self, value: Any) -> Any:
        return str(value)


class EvalString_Knob(String_Knob):
    pass


class File_Knob(EvalString_Knob):
    pass


class Text_Knob(Knob):
    def __init__(self, name: str, label: Optional[str] = None, text: str = "", *a: Any, **kw: Any):
        super().__init__(name, label)
        self._value = text


class Tab_Knob(Knob):
    pass


class Int_Knob(Knob):
    default = 0

    def convert(self, value: Any) -> Any:
        return int(float(value))


class Double_Knob(Knob):
    default = 0.0

    def convert(self, value: Any) -> Any:
        return float(value)


class Boolean_Knob(Knob):
    default = False

    def convert(self, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes", "on")
        return bool(value)


class Enumeration_Knob(Knob):
    """value() is the item's text, as in Nuke; setValue takes text or index."""

    def __init__(self, name: str, label: Optional[str] = None, values: Optional[List[str]] = None, *a: Any, **kw: Any):
        super().__init__(name, label)
        self._values = list(values or [])
        self._value = self._values[0] if self._values else ""

    def values(self) -> List[str]:
        return list(self._values)

    def numValues(self) -> int:
        return len(self._values)

    def convert(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return self._values[value]
        if str(value) not in self._values:
            raise ValueError(f"{self._name}: {value!r} is not one of {self._values}")  # Nuke raises too
        return str(value)


class Pulldown_Knob(Enumeration_Knob):
    pass


class Script_Knob(String_Knob):
    """A button; execute() runs its Python with nuke.thisNode() set."""

    def __init__(self, name: str, label: Optional[str] = None, command: str = "", *a: Any, **kw: Any):
        super().__init__(name, label)
        self._value = command

    def command(self) -> str:
        return str(self._value)

    def setCommand(self, cmd: str) -> None:
        self._value = cmd

    def execute(self) -> None:
        assert self._node is not None, "knob is not on a node"
        fake = self._node._fake
        fake.record("Knob.execute", self._node.name(), self._name)
        if self._value:
            fake.run_script(str(self._value), self._node, self)


class PyScript_Knob(Script_Knob):
    pass


class _ReloadKnob(Script_Knob):
    """Read.reload: records the reload (and the file it reloads)."""

    def execute(self) -> None:
        assert self._node is not None
        self._node._fake.reloads.append((self._node.name(), self._node["file"].value()))
        self._node._fake.record("Knob.execute", self._node.name(), self._name)


USER_KNOB_TYPES: Dict[int, type] = {
    1: String_Knob,
    2: File_Knob,
    3: Int_Knob,
    4: Pulldown_Knob,
    6: Boolean_Knob,
    7: Double_Knob,
    20: Tab_Knob,
    22: PyScript_Knob,
    26: Text_Knob,
}

# --------------------------------------------------------------------- nodes


class Node:
    def __init__(self, fake: "FakeNuke", cls: str, name: str):
        self._fake = fake
        self._class = cls
        self._knobs: Dict[str, Knob] = {}
        self._inputs: Dict[int, Optional[Node]] = {}
        self._parent: Optional[Group] = None
        self.addKnob(String_Knob("name"))
        self._knobs["name"]._value = name

    def Class(self) -> str:
        return self._class

    def name(self) -> str:
        return str(self._knobs["name"].value())

    def setName(self, name: str, *a: Any, **kw: Any) -> None:
        self._knobs["name"]._value = name

    def fullName(self) -> str:
        if self._parent is None or self._parent is self._fake._root:
            return self.name()
        return f"{self._parent.fullName()}.{self.name()}"

    def addKnob(self, knob: Knob) -> None:
        knob._node = self
        self._knobs[knob.name()] = knob

    def knob(self, name: Any) -> Optional[Knob]:
        return self._knobs.get(name)

    def knobs(self) -> Dict[str, Knob]:
        return dict(self._knobs)

    def __getitem__(self, name: str) -> Knob:
        try:
            return self._knobs[name]
        except KeyError:
            raise NameError(f"knob {name} does not exist") from None  # what Nuke raises

    def setInput(self, i: int, node: Optional["Node"]) -> bool:
        self._fake.record("Node.setInput", self.name(), i, node.name() if node else None)
        self._inputs[i] = node
        return True

    def input(self, i: int) -> Optional["Node"]:
        return self._inputs.get(i)

    def inputs(self) -> int:
        return max((i + 1 for i, n in self._inputs.items() if n is not None), default=0)

    def parent(self) -> "Group":
        return self._parent or self._fake._root

    def __repr__(self) -> str:
        return f"<fake {self._class} {self.name()}>"


class Group(Node):
    def __init__(self, fake: "FakeNuke", cls: str, name: str):
        super().__init__(fake, cls, name)
        self._children: List[Node] = []

    def begin(self) -> "Group":
        self._fake._context.append(self)
        self._fake.record("Group.begin", self.name())
        return self

    def end(self) -> None:
        assert self._fake._context and self._fake._context[-1] is self, "end() without matching begin()"
        self._fake._context.pop()
        self._fake.record("Group.end", self.name())

    def __enter__(self) -> "Group":
        return self.begin()

    def __exit__(self, *exc: Any) -> None:
        self.end()

    def node(self, name: str) -> Optional[Node]:
        for child in self._children:
            if child.name() == name:
                return child
        return None

    def nodes(self) -> List[Node]:
        return list(self._children)


class Gizmo(Group):
    pass


class Root(Group):
    pass


def _read_knobs(node: Node) -> None:
    for k in (File_Knob("file"), Boolean_Knob("raw"), Int_Knob("first"), Int_Knob("last"), Int_Knob("origfirst"),
              Int_Knob("origlast"), String_Knob("label"), _ReloadKnob("reload", "Reload")):
        node.addKnob(k)
    node.addKnob(Enumeration_Knob("before", None, ["hold", "loop", "bounce", "black"]))
    node.addKnob(Enumeration_Knob("after", None, ["hold", "loop", "bounce", "black"]))
    node.addKnob(Enumeration_Knob("on_error", None, ["error", "black", "checkerboard", "nearest frame"]))
    node["first"]._value = node["last"]._value = node["origfirst"]._value = node["origlast"]._value = 1


# What Nuke's default (nuke-default) config lists in a Write's colorspace menu.
NUKE_DEFAULT_COLORSPACES = ["default", "linear", "sRGB", "rec709", "Cineon", "Gamma1.8", "Gamma2.2", "Panalog",
                            "REDLog", "ViperLog", "AlexaV3LogC", "PLogLin", "SLog", "raw"]


class Nodes:
    """``nuke.nodes.<Class>(**knobs)``: creates without selection/panel."""

    def __init__(self, fake: "FakeNuke"):
        self._fake = fake

    def __getattr__(self, cls: str) -> Callable[..., Node]:
        if cls.startswith("_"):
            raise AttributeError(cls)

        def make(**knobs: Any) -> Node:
            self._fake.record("nodes." + cls, **knobs)
            return self._fake.new_node(cls, knobs)

        return make


class MenuItem:
    def __init__(self, path: str, command: Any = None):
        self._path = path
        self._command = command

    def name(self) -> str:
        return self._path.split("/")[-1]

    def script(self) -> str:
        return str(self._command)


class Menu(MenuItem):
    def __init__(self, fake: "FakeNuke", path: str):
        super().__init__(path)
        self._fake = fake

    def addMenu(self, name: str, *args: Any, **kwargs: Any) -> "Menu":
        path = f"{self._path}/{name}"
        self._fake.record("Menu.addMenu", path, **kwargs)
        self._fake.menu_entries.append({"path": path, "command": None, "kind": "menu", **kwargs})
        return self._fake.menu(path, _record=False)

    def addCommand(self, name: str, command: Any = None, shortcut: str = "", *args: Any, **kwargs: Any) -> MenuItem:
        path = f"{self._path}/{name}"
        self._fake.record("Menu.addCommand", path, command, shortcut, **kwargs)
        self._fake.menu_entries.append({"path": path, "command": command, "shortcut": shortcut, "kind": "command", **kwargs})
        return MenuItem(path, command)

    def addSeparator(self, *args: Any, **kwargs: Any) -> None:
        self._fake.record("Menu.addSeparator", self._path)


class ProgressTask:
    def __init__(self, fake: "FakeNuke", title: str):
        self._fake = fake
        self.title = title
        fake.progress.append(("ProgressTask", title))

    def setMessage(self, message: str) -> None:
        self._fake.progress.append(("setMessage", message))

    def setProgress(self, percent: int) -> None:
        if not isinstance(percent, int) or not 0 <= percent <= 100:
            raise ValueError(f"ProgressTask.setProgress takes an int 0..100, got {percent!r}")
        self._fake.progress.append(("setProgress", percent))

    def isCancelled(self) -> bool:
        self._fake.progress.append(("isCancelled",))
        return self._fake.cancel_requested


# -------------------------------------------------------------------- module


class FakeNuke(types.ModuleType):
    """The fake ``nuke`` module (see the module docstring)."""

    GUI = True
    INTERACTIVE = True
    REPLACE = 1
    NUKE_VERSION_MAJOR = 15
    NUKE_VERSION_STRING = "15.1v1-fake"

    # knob classes, as attributes of the module
    Knob = Knob
    String_Knob = String_Knob
    EvalString_Knob = EvalString_Knob
    File_Knob = File_Knob
    Text_Knob = Text_Knob
    Tab_Knob = Tab_Knob
    Int_Knob = Int_Knob
    Double_Knob = Double_Knob
    Boolean_Knob = Boolean_Knob
    Enumeration_Knob = Enumeration_Knob
    Pulldown_Knob = Pulldown_Knob
    Script_Knob = Script_Knob
    PyScript_Knob = PyScript_Knob
    Node = Node
    Group = Group
    Gizmo = Gizmo
    Root = Root
    Menu = Menu
    MenuItem = MenuItem

    def __init__(self) -> None:
        super().__init__("nuke", "recording fake of Nuke's nuke module (tests/hosts/fake_nuke.py)")
        self.calls: List[Tuple[str, tuple, dict]] = []
        self.menu_entries: List[Dict[str, Any]] = []
        self.plugin_paths: List[str] = []
        self.messages: List[str] = []
        self.executed: List[Tuple[str, int, int]] = []
        self.progress: List[tuple] = []
        self.reloads: List[Tuple[str, str]] = []
        self.deleted: List[str] = []
        self.cancel_requested = False
        self.current_frame = 1
        self.filename_answer: Optional[str] = None
        self.render_hook: Optional[Callable[[Node, int, int], None]] = None
        self.write_colorspaces = list(NUKE_DEFAULT_COLORSPACES)
        self._counters: Dict[str, int] = {}
        self._root = Root(self, "Root", "root")
        self._root.addKnob(Int_Knob("first_frame"))
        self._root.addKnob(Int_Knob("last_frame"))
        self._root["first_frame"]._value, self._root["last_frame"]._value = 1, 100
        self._context: List[Group] = []
        self._this: List[Tuple[Node, Optional[Knob]]] = []
        self._plugin_dir: Optional[str] = None
        self._startup_queue = None
        self.nodes = Nodes(self)
        self.env: Dict[str, Any] = {"gui": True, "NukeVersionMajor": 15}

    # ------------------------------------------------------------ recording
    def record(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))

    def called(self, name: str) -> List[Tuple[tuple, dict]]:
        return [(a, k) for n, a, k in self.calls if n == name]

    # ------------------------------------------------------------- context
    def _group(self) -> Group:
        return self._context[-1] if self._context else self._root

    def _unique(self, base: str) -> str:
        self._counters[base] = self._counters.get(base, 0) + 1
        return f"{base}{self._counters[base]}"

    def new_node(self, cls: str, knobs: Optional[Dict[str, Any]] = None, name: Optional[str] = None) -> Node:
        node_cls = Group if cls in ("Group", "LiveGroup") else Node
        node = node_cls(self, cls, name or self._unique(cls))
        if cls == "Read":
            _read_knobs(node)
        elif cls == "Write":
            for k in (File_Knob("file"), String_Knob("channels"), Boolean_Knob("raw")):
                node.addKnob(k)
            node.addKnob(Enumeration_Knob("file_type", None, ["", "exr", "png", "tiff", "jpeg", "dpx"]))
            node.addKnob(Enumeration_Knob("datatype", None, ["8 bit", "16 bit"]))
            node.addKnob(Enumeration_Knob("colorspace", None, list(self.write_colorspaces)))
        self._attach(node)
        for key, value in (knobs or {}).items():
            if key == "name":
                node.setName(str(value))
                continue
            knob = node.knob(key) or node._knobs.setdefault(key, String_Knob(key))
            knob._node = node
            knob.setValue(value)
        return node

    def _attach(self, node: Node) -> None:
        group = self._group()
        node._parent = group
        group._children.append(node)

    # ----------------------------------------------------------- node API
    def createNode(self, cls: str, knobs: str = "", inpanel: bool = True) -> Node:
        self.record("createNode", cls, knobs, inpanel)
        gizmo = self.find_plugin(f"{cls}.gizmo")
        if gizmo:
            node: Node = self.load_gizmo(gizmo, cls)
        else:
            node = self.new_node(cls)
        toks = [t[1] for t in tcl_tokens(knobs)] if knobs else []
        for k in range(0, len(toks) - 1, 2):
            node[toks[k]].setValue(toks[k + 1])
        on_create = node.knob("onCreate")
        if on_create is not None and on_create.value():
            self.run_script(str(on_create.value()), node, None)
        return node

    def load_gizmo(self, path: str, cls: str) -> Gizmo:
        """Build a Gizmo from its .nk text, as Nuke does for createNode."""
        with open(path, encoding="utf-8") as f:
            entries = parse_nk(f.read())
        body = [e for e in entries if e[0] not in ("version", "end_group")]
        if not body or body[0][0] != "Gizmo":
            raise ValueError(f"{path}: the first node must be 'Gizmo'")
        gizmo = Gizmo(self, cls, self._unique(cls))
        self._attach(gizmo)
        self._apply_knobs(gizmo, body[0][1])
        stack: List[Node] = []
        gizmo.begin()
        try:
            for node_cls, pairs in body[1:]:
                values = dict(p for p in pairs if p[0] != "addUserKnob")
                n_inputs = int(values.get("inputs", 0 if node_cls in ("Input", "Read", "Constant") else 1))
                node = self.new_node(node_cls, name=values.get("name"))
                self._apply_knobs(node, [p for p in pairs if p[0] not in ("name", "inputs")])
                for i in range(n_inputs):
                    node._inputs[n_inputs - 1 - i] = stack.pop()
                stack.append(node)
        finally:
            gizmo.end()
        gizmo._inputs = {}
        return gizmo

    def _apply_knobs(self, node: Node, pairs: List[Tuple[str, Any]]) -> None:
        for name, value in pairs:
            if name == "addUserKnob":
                cls = USER_KNOB_TYPES.get(value["type"])
                if cls is None:
                    raise ValueError(f"{node.name()}: user knob type {value['type']} is not known to the fake")
                if issubclass(cls, Enumeration_Knob):
                    knob: Knob = cls(value["name"], value.get("label"), value.get("items", []))
                elif issubclass(cls, (Script_Knob, Text_Knob)):
                    knob = cls(value["name"], value.get("label"), value.get("text", ""))
                else:
                    knob = cls(value["name"], value.get("label"))
                knob._tooltip = value.get("tooltip", "")
                knob._flags = list(value["flags"])
                knob._visible = "+HIDDEN" not in knob._flags
                node.addKnob(knob)
            elif name == "inputs":
                continue
            elif node.knob(name) is not None:
                node[name].setValue(value)
            else:
                node.addKnob(String_Knob(name))
                node[name]._value = value

    def toNode(self, name: str) -> Optional[Node]:
        group: Group = self._group()
        parts = name.split(".")
        node: Optional[Node] = None
        for part in parts:
            node = group.node(part)
            if node is None:
                return None
            if isinstance(node, Group):
                group = node
        return node

    def delete(self, node: Node) -> None:
        self.record("delete", node.name())
        self.deleted.append(node.name())
        node.parent()._children.remove(node)

    def root(self) -> Root:
        return self._root  # type: ignore[return-value]

    def allNodes(self, *args: Any, **kwargs: Any) -> List[Node]:
        return self._group().nodes()

    def thisNode(self) -> Node:
        if not self._this:
            raise ValueError("nuke.thisNode() called outside a knob callback")
        return self._this[-1][0]

    def thisKnob(self) -> Optional[Knob]:
        return self._this[-1][1] if self._this else None

    def thisGroup(self) -> Group:
        return self._group()

    def run_script(self, code: str, node: Node, knob: Optional[Knob]) -> None:
        """Run knob Python as Nuke does: 'nuke' imported, thisNode() set."""
        self._this.append((node, knob))
        try:
            exec(compile(code, f"<{node.name()}.{knob.name() if knob else 'callback'}>", "exec"), {"nuke": self})
        finally:
            self._this.pop()

    def user_sets(self, node: Node, knob_name: str, value: Any) -> None:
        """An artist changes a knob in the panel: set it, run knobChanged."""
        knob = node[knob_name]
        knob.setValue(value)
        changed = node.knob("knobChanged")
        if changed is not None and changed.value():
            self.run_script(str(changed.value()), node, knob)

    # ----------------------------------------------------------- execution
    def execute(self, node: Any, start: int, end: int, incr: int = 1, *args: Any, **kwargs: Any) -> None:
        name = node if isinstance(node, str) else node.name()
        self.record("execute", name, start, end, incr)
        self.executed.append((name, int(start), int(end)))
        target = self.toNode(node) if isinstance(node, str) else node
        if self.render_hook is not None and target is not None:
            self.render_hook(target, int(start), int(end))

    render = execute

    def frame(self, f: Optional[int] = None) -> int:
        if f is not None:
            self.current_frame = int(f)
        return self.current_frame

    def message(self, prompt: str) -> None:
        self.record("message", prompt)
        self.messages.append(prompt)

    def getFilename(self, message: str, pattern: str = "", *args: Any, **kwargs: Any) -> Optional[str]:
        self.record("getFilename", message, pattern)
        return self.filename_answer

    def ProgressTask(self, title: str) -> ProgressTask:  # noqa: N802 (Nuke's name)
        self.record("ProgressTask", title)
        return ProgressTask(self, title)

    def tprint(self, *args: Any, **kwargs: Any) -> None:
        self.record("tprint", *args)

    def warning(self, message: str) -> None:
        self.record("warning", message)

    def error(self, message: str) -> None:
        self.record("error", message)

    # ------------------------------------------------------- menus, paths
    def menu(self, name: str, _record: bool = True) -> Menu:
        if _record:
            self.record("menu", name)
        return Menu(self, name)

    def pluginAddPath(self, path: str, addToSysPath: bool = True) -> None:  # noqa: N802
        if not os.path.isabs(path) and self._plugin_dir is not None:
            path = os.path.normpath(os.path.join(self._plugin_dir, path))
        self.record("pluginAddPath", path)
        if path not in self.plugin_paths:
            self.plugin_paths.insert(0, path)
        queue = getattr(self, "_startup_queue", None)
        if queue is not None and os.path.isdir(path):
            queue.append(path)
        if addToSysPath and path not in sys.path:
            sys.path.insert(0, path)

    def pluginPath(self) -> List[str]:
        return list(self.plugin_paths)

    def find_plugin(self, filename: str) -> Optional[str]:
        for folder in self.plugin_paths:
            candidate = os.path.join(folder, filename)
            if os.path.isfile(candidate):
                return candidate
        return None

    def start_nuke(self, plugin_dir: str, gui: bool = True) -> None:
        """Nuke start-up: put ``plugin_dir`` on the plugin path, run the
        init.py of every plugin folder (including folders that an init.py
        adds with pluginAddPath), then, with a GUI, their menu.py files."""
        self.GUI = gui
        self._startup_queue: Optional[List[str]] = []
        self.pluginAddPath(os.path.abspath(plugin_dir))
        done: List[str] = []
        try:
            while self._startup_queue:
                folder = self._startup_queue.pop(0)
                if folder not in done:
                    done.append(folder)
                    self._run_plugin_file(folder, "init.py")
        finally:
            self._startup_queue = None
        if gui:
            for folder in done:
                self._run_plugin_file(folder, "menu.py")

    def _run_plugin_file(self, folder: str, name: str) -> None:
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            return
        self.record("run_plugin_file", path)
        self._plugin_dir = folder
        try:
            with open(path, encoding="utf-8") as f:
                code = compile(f.read(), path, "exec")
            exec(code, {"__file__": path, "__name__": "__main__"})
        finally:
            self._plugin_dir = None


def make_fake_nuke() -> FakeNuke:
    """A fresh fake ``nuke`` module (install it in sys.modules['nuke'])."""
    return FakeNuke()
