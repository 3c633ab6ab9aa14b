"""A recording fake of Nuke's ``nuke`` Python module (Nuke cannot run here).

It implements the part of the API the SingleHDR gizmo uses with Nuke's
behaviour where it matters, is strict where Nuke is, and records every call:

- nodes: ``nuke.createNode`` (a ``<Class>.gizmo`` on the plugin path is
  parsed from its .nk text into a Gizmo with its user knobs and internal
  nodes, wired by the .nk stack rules), ``nuke.nodes.<Class>(**knobs)``,
  ``nuke.toNode``, ``nuke.delete``, ``nuke.allNodes``, groups with
  begin()/end()/``with``.  Every class has a fixed set of knobs (Read,
  Write, Root, Input have theirs, every node the common ones): an unknown
  knob name raises NameError, as in Nuke.
- knobs: Int, Double, Boolean, String, EvalString, File, Enumeration,
  PyScript, Text, Tab; expressions (``{{parent.knob}}``); File knobs
  return ``####`` as ``%04d`` from value() and expand TCL only in
  evaluate()/getEvaluatedValue(OutputContext) (a small TCL: value, file
  dirname/tail/join, frame, getenv, python), with %V/%v views.
- colour: OCIO configs whose colour-space menus list 'Family/Name' items
  (nuke-default, ACES 1.2, the ACES 1.3 CG config); Root's
  workingSpaceLUT.
- ``nuke.execute``: beforeRender callbacks, then every frame of every view
  (``views=``), refusing nested renders and raising RuntimeError for render
  errors (``execute_error``) as Nuke does; without a ``render_hook`` a Write
  really writes what its input shows (Reads read their files with
  OpenImageIO), honouring proxy mode (Root 'proxy' halves the images).
- ``nuke.scriptSaveAs``/``scriptOpen``/``scriptClear``: a save keeps only
  what Nuke keeps (for a Gizmo its own non-default knobs, nothing changed
  inside it; no +DO_NOT_WRITE knob); opening rebuilds gizmos from their
  .gizmo file and runs onCreate.
- threads: ``executeInMainThread(WithResult)`` queue calls for the main
  thread, which :meth:`FakeNuke.process_events` (Nuke's event loop) runs;
  ``nuke.message`` asserts it runs on the main thread.
- ``nuke.thisNode()/thisKnob()/thisParent()``, ``nuke.message``,
  ``nuke.ProgressTask`` (Cancel via ``cancel_requested`` or
  ``cancel_at_progress``), ``nuke.menu(...).addMenu/addCommand``,
  ``nuke.pluginAddPath`` (also extends sys.path as Nuke does),
  ``nuke.getFilename``, ``nuke.frame``, ``nuke.root``, ``nuke.views``.

Use :func:`make_fake_nuke` for a fresh module and ``start_nuke(folder)`` to
run a plugin folder's init.py and menu.py as Nuke does at start-up.
"""

from __future__ import annotations

import os
import queue
import re
import sys
import threading
import time
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




class Expr(str):
    """A knob value written as ``{{expression}}`` in .nk text (an expression, not a value)."""


def parse_nk(text: str) -> List[Tuple[str, List[Tuple[str, Any]]]]:
    """Parse .nk text into [(node class, [(knob, value), ...]), ...].

    ``addUserKnob`` entries come back as ("addUserKnob", parsed spec dict);
    ``version``/``end_group`` as ("version"/"end_group", ...); the stack
    commands ``set VAR [stack 0]`` / ``push $VAR`` / ``push 0`` as
    ("set", [("var", VAR)]) / ("push", [("var", VAR or "0")]).  A value in
    double braces (``first {{parent.range_first}}``) comes back as an
    :class:`Expr`.
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
        elif word == "set":
            if toks[i + 2][1] != "[stack" or toks[i + 3][1] != "0]":
                raise ValueError(f"unsupported set command near {toks[i:i + 4]}")
            nodes.append(("set", [("var", toks[i + 1][1])]))
            i += 4
        elif word == "push":
            nodes.append(("push", [("var", toks[i + 1][1].lstrip("$"))]))
            i += 2
        else:
            if i + 1 >= len(toks) or toks[i + 1][0] != "brace":
                raise ValueError(f"expected a node body after {word!r}")
            body = tcl_tokens(toks[i + 1][1])
            if len(body) % 2:
                raise ValueError(f"odd number of words in the body of {word}: {body}")
            pairs: List[Tuple[str, Any]] = []
            for k in range(0, len(body), 2):
                name, (kind, value) = body[k][1], body[k + 1]
                if name == "addUserKnob":
                    pairs.append((name, parse_user_knob(value)))
                elif kind == "brace" and value.startswith("{") and value.endswith("}"):
                    pairs.append((name, Expr(value[1:-1])))
                else:
                    pairs.append((name, value))
            nodes.append((word, pairs))
            i += 2
    return nodes


def nk_quote(value: str) -> str:
    """A value as .nk text: bare when safe, else double-quoted with escapes."""
    if value and all(c.isalnum() or c in "._-/:" for c in value):
        return value
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("[", "\\[")
    return '"' + out + '"'


# ---------------------------------------------------------------------- TCL


def _split_bracket(text: str, start: int) -> int:
    """Index just after the ']' matching the '[' at ``start`` (braces respected)."""
    depth, brace, j = 0, 0, start
    while j < len(text):
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "{":
            brace += 1
        elif c == "}":
            brace -= 1
        elif brace == 0 and c == "[":
            depth += 1
        elif brace == 0 and c == "]":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise ValueError(f"unbalanced [ in TCL text {text!r}")


def _tcl_words(text: str) -> List[str]:
    """Split a TCL command into words: braces literal, [..] kept whole, quotes joined."""
    words: List[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "{":
            depth, j = 1, i + 1
            while j < n and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            words.append("\x00" + text[i + 1 : j - 1])  # \x00 marks a literal (braced) word
            i = j
            continue
        j = i
        while j < n and not text[j].isspace():
            if text[j] == "[":
                j = _split_bracket(text, j)
            else:
                j += 1
        words.append(text[i:j].strip('"'))
        i = j
    return words


# --------------------------------------------------------------------- knobs


class Knob:
    default: Any = ""

    def __init__(self, name: str, label: Optional[str] = None, *args: Any, **kwargs: Any):
        self._name = name
        self._label = name if label is None else label
        self._value = self.default
        self._default = self.default
        self._expression: Optional[str] = None
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

    def _fake(self) -> "FakeNuke":
        assert self._node is not None, f"knob {self._name} is not on a node"
        return self._node._fake

    def value(self, *args: Any) -> Any:
        if self._expression is not None:
            return self.convert(self._fake().eval_expression(self._expression, self._node))
        return self._value

    def getValue(self, *args: Any) -> Any:
        return self.value()

    def setValue(self, value: Any, *args: Any) -> bool:
        self._value = self.convert(value)
        self._expression = None
        if self._node is not None:
            self._node._fake.record("Knob.setValue", self._node.name(), self._name, self._value)
        return True

    def setExpression(self, expression: str, *args: Any) -> bool:
        self._expression = str(expression)
        return True

    def hasExpression(self, *args: Any) -> bool:
        return self._expression is not None

    def convert(self, value: Any) -> Any:
        return value

    # .nk text (what a saved script holds for this knob)
    def toScript(self) -> str:
        if self._expression is not None:
            return "{{" + self._expression + "}}"
        v = self._value
        if isinstance(v, bool):
            return "true" if v else "false"
        return nk_quote(str(v))

    def fromScript(self, text: Any) -> None:
        if isinstance(text, Expr):
            self._expression = str(text)
            return
        self._expression = None
        self._value = self.convert(text)

    def isDefault(self) -> bool:
        return self._expression is None and self._value == self._default

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

    def getFlag(self, flag: Any) -> bool:
        return str(flag) in self._flags


class String_Knob(Knob):
    default = ""

    def convert(self, value: Any) -> Any:
        return str(value)

    def getText(self) -> str:
        return str(self._value)


class EvalString_Knob(String_Knob):
    """value() is the text as typed; evaluate() expands its TCL ([...])."""

    def evaluate(self, *args: Any) -> str:
        return self._fake().tcl_subst(str(self._value), self._node)


class File_Knob(EvalString_Knob):
    """Nuke's File knob.

    value()/getValue(): the text with frame patterns normalised to printf
    style (``####`` -> ``%04d``), TCL *not* expanded.  evaluate(): TCL
    expanded and the current frame and view substituted;
    getEvaluatedValue(oc): the same for an OutputContext's frame and view.
    """

    def value(self, *args: Any) -> Any:
        return re.sub(r"#+", lambda m: f"%0{len(m.group(0))}d", str(self._value))

    def evaluate(self, *args: Any) -> str:
        fake = self._fake()
        return self.getEvaluatedValue(fake.OutputContext(frame=fake.current_frame, view=fake.current_view))

    def getEvaluatedValue(self, oc: Optional["OutputContext"] = None) -> str:
        fake = self._fake()
        if oc is None:
            oc = fake.OutputContext(frame=fake.current_frame, view=fake.current_view)
        text = fake.tcl_subst(str(self._value), self._node, frame=int(oc.frame()), view=oc.viewname(oc.view()))
        return substitute_frame_view(text, int(oc.frame()), oc.viewname(oc.view()))


def substitute_frame_view(path: str, frame: int, view: str) -> str:
    """Nuke's filename substitutions: ####/%04d -> frame, %V -> view, %v -> its first letter."""
    path = re.sub(r"#+", lambda m: f"{frame:0{len(m.group(0))}d}" if len(m.group(0)) > 1 else str(frame), path)
    path = re.sub(r"%(0?)(\d*)d", lambda m: f"{frame:0{int(m.group(2))}d}" if m.group(2) else str(frame), path)
    return path.replace("%V", view).replace("%v", view[:1])


class Text_Knob(Knob):
    def __init__(self, name: str, label: Optional[str] = None, text: str = "", *a: Any, **kw: Any):
        super().__init__(name, label)
        self._value = self._default = text


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
    """value() is the item's text, as in Nuke; setValue takes text or index.

    OCIO colour-space menus list items as 'Family/Name'; value() then is
    the Name and setValue accepts the Name or the full 'Family/Name'.
    """

    def __init__(self, name: str, label: Optional[str] = None, values: Optional[List[str]] = None, *a: Any, **kw: Any):
        super().__init__(name, label)
        self._values = list(values or [])
        self._value = self._default = self._leaf(self._values[0]) if self._values else ""

    @staticmethod
    def _leaf(item: str) -> str:
        return item.split("/")[-1]

    def values(self) -> List[str]:
        return list(self._values)

    def setValues(self, values: List[str]) -> None:
        self._values = list(values)

    def numValues(self) -> int:
        return len(self._values)

    def convert(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return self._leaf(self._values[value])
        leaves = [self._leaf(v) for v in self._values]
        text = str(value)
        if text in self._values:
            return self._leaf(text)
        if text in leaves:
            return text
        raise ValueError(f"{self._name}: {value!r} is not one of {self._values}")  # Nuke raises too


class Pulldown_Knob(Enumeration_Knob):
    pass


class Script_Knob(String_Knob):
    """A button; execute() runs its Python with nuke.thisNode() set."""

    def __init__(self, name: str, label: Optional[str] = None, command: str = "", *a: Any, **kw: Any):
        super().__init__(name, label)
        self._value = self._default = command

    def command(self) -> str:
        return str(self._value)

    def setCommand(self, cmd: str) -> None:
        self._value = cmd

    def execute(self) -> None:
        fake = self._fake()
        assert self._node is not None
        fake.record("Knob.execute", self._node.name(), self._name)
        if self._value:
            fake.run_script(str(self._value), self._node, self)


class PyScript_Knob(Script_Knob):
    pass


class _ReloadKnob(Script_Knob):
    """Read.reload: records the reload (and the file it reloads)."""

    def execute(self) -> None:
        assert self._node is not None
        self._node._fake.reloads.append((self._node.name(), self._node["file"].evaluate()))
        self._node._fake.record("Knob.execute", self._node.name(), self._name)


USER_KNOB_TYPES: Dict[int, type] = {
    1: String_Knob,
    2: File_Knob,
    3: Int_Knob,
    4: Enumeration_Knob,
    6: Boolean_Knob,
    7: Double_Knob,
    20: Tab_Knob,
    22: PyScript_Knob,
    26: Text_Knob,
}

# Knobs every node has (the ones .nk files and the gizmo use).
COMMON_KNOBS = ("label", "xpos", "ypos", "disable", "tile_color", "note_font", "selected", "hide_input", "help",
                "onCreate", "knobChanged", "icon")

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
        for k in COMMON_KNOBS:
            knob: Knob = Boolean_Knob(k) if k in ("disable", "selected", "hide_input") else String_Knob(k)
            self.addKnob(knob)

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


class OutputContext:
    """nuke.OutputContext: a frame and a view number (0 = 'default', 1.. = nuke.views())."""

    def __init__(self, fake: Optional["FakeNuke"] = None, frame: int = 1, view: Optional[str] = None):
        self._fake = fake
        self._frame = frame
        names = self._names()
        self._view = names.index(view) if view in names else (1 if len(names) > 1 else 0)

    def _names(self) -> List[str]:
        return ["default"] + (self._fake.views() if self._fake is not None else ["main"])

    def frame(self) -> float:
        return float(self._frame)

    def setFrame(self, frame: Any) -> None:
        self._frame = int(frame)

    def view(self) -> int:
        return self._view

    def setView(self, n: int) -> None:
        if not 0 <= int(n) < self.viewcount():
            raise ValueError(f"view number {n} out of range")
        self._view = int(n)

    def viewcount(self) -> int:
        return len(self._names())

    def viewname(self, n: int) -> str:
        return self._names()[int(n)]

    def viewFromName(self, name: str) -> int:
        return self._names().index(name)


# OCIO configurations: what colour-space menus (Read/Write 'colorspace',
# Root 'workingSpaceLUT') list, in families as Nuke shows them.
OCIO_CONFIGS: Dict[str, Dict[str, Any]] = {
    "nuke-default": {
        "spaces": ["linear", "sRGB", "rec709", "Cineon", "Gamma1.8", "Gamma2.2", "Panalog", "REDLog", "ViperLog",
                   "AlexaV3LogC", "PLogLin", "SLog", "raw"],
        "working": "linear",
    },
    "aces_1.2": {
        "spaces": ["ACES/ACES - ACES2065-1", "ACES/ACES - ACEScg", "ACES/ACES - ACEScct",
                   "Utility/Utility - Linear - sRGB", "Utility/Utility - Linear - Rec.2020",
                   "Utility/Utility - sRGB - Texture", "Utility/Utility - Raw", "Output/Output - sRGB",
                   "Output/Output - Rec.709"],
        "working": "ACES - ACEScg",
    },
    "cg-config-v2.1.0_aces-v1.3_ocio-v2.3": {
        "spaces": ["ACES/ACES2065-1", "ACES/ACEScc", "ACES/ACEScct", "ACES/ACEScg", "Utility/Linear Rec.709 (sRGB)",
                   "Utility/Linear Rec.2020", "Utility/sRGB Encoded Rec.709 (sRGB)", "Utility/Raw",
                   "Display/sRGB - Display"],
        "working": "ACEScg",
    },
}


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
        fake = self._fake
        fake.progress.append(("isCancelled",))
        if fake.cancel_at_progress is not None and any(
            p[0] == "setProgress" and p[1] >= fake.cancel_at_progress for p in list(fake.progress)
        ):
            fake.cancel_requested = True
        return fake.cancel_requested




def _srgb_to_linear(v: Any) -> Any:
    import numpy as np

    v = np.clip(v, 0.0, 1.0)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _linear_to_srgb(v: Any) -> Any:
    import numpy as np

    v = np.clip(v, 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055).astype(np.float32)


def _is_srgb_encoded(space: str) -> bool:
    leaf = space.split("/")[-1].lower()
    return leaf in ("srgb", "utility - srgb - texture", "srgb encoded rec.709 (srgb)", "output - srgb")


NODE_KNOBS: Dict[str, Callable[[], List[Knob]]] = {}


def _colorspace_knob(fake: "FakeNuke") -> Enumeration_Knob:
    return Enumeration_Knob("colorspace", None, ["default"] + fake.colorspaces())


def _node_knobs(fake: "FakeNuke", cls: str) -> List[Knob]:
    if cls == "Read":
        knobs: List[Knob] = [File_Knob("file"), File_Knob("proxy"), Boolean_Knob("raw"), Int_Knob("first"),
                             Int_Knob("last"), Int_Knob("origfirst"), Int_Knob("origlast"), _ReloadKnob("reload", "Reload"),
                             Enumeration_Knob("before", None, ["hold", "loop", "bounce", "black"]),
                             Enumeration_Knob("after", None, ["hold", "loop", "bounce", "black"]),
                             Enumeration_Knob("on_error", None, ["error", "black", "checkerboard", "nearest frame"]),
                             _colorspace_knob(fake)]
        for k in knobs[3:7]:
            k._value = k._default = 1
        return knobs
    if cls == "Write":
        return [File_Knob("file"), File_Knob("proxy"), String_Knob("channels"), Boolean_Knob("raw"),
                Enumeration_Knob("file_type", None, ["", "exr", "png", "tiff", "jpeg", "dpx"]),
                Enumeration_Knob("datatype", None, ["8 bit", "16 bit", "16 bit half", "32 bit float"]),
                String_Knob("views"), Boolean_Knob("create_directories"), String_Knob("beforeRender"),
                String_Knob("afterRender"), _colorspace_knob(fake)]
    if cls == "Input":
        return [Int_Knob("number")]
    if cls == "Root":
        return [Int_Knob("first_frame"), Int_Knob("last_frame"), Boolean_Knob("proxy"), Double_Knob("proxy_scale"),
                String_Knob("views"), Enumeration_Knob("colorManagement", None, ["Nuke", "OCIO"]),
                Enumeration_Knob("OCIO_config", None, list(OCIO_CONFIGS)),
                Enumeration_Knob("workingSpaceLUT", None, fake.colorspaces())]
    return []


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
        self.rendered: List[Tuple[str, int, str, bool]] = []  # (node, frame, view, proxy) per written image
        self.progress: List[tuple] = []
        self.reloads: List[Tuple[str, str]] = []
        self.deleted: List[str] = []
        self.cancel_requested = False
        self.cancel_at_progress: Optional[int] = None  # the artist presses Cancel once progress reaches this
        self.execute_error: Optional[str] = None  # nuke.execute raises RuntimeError(this)
        self.current_frame = 1
        self.current_view = "main"
        self.filename_answer: Optional[str] = None
        self.render_hook: Optional[Callable[[Node, int, str], None]] = None
        self._views = ["main"]
        self._ocio = "nuke-default"
        self._counters: Dict[str, int] = {}
        self._context: List[Group] = []
        self._this: List[Tuple[Node, Optional[Knob]]] = []
        self._plugin_dir: Optional[str] = None
        self._startup_queue: Optional[List[str]] = None
        self._rendering = 0
        self._main_queue: "queue.Queue[Tuple[Callable[..., Any], tuple, dict, Optional[list], Optional[threading.Event]]]" = queue.Queue()
        self._main_thread = threading.get_ident()
        self.before_render: List[Tuple[Callable[..., Any], tuple, dict, str]] = []
        self._root = self._new_root()
        self.nodes = Nodes(self)
        self.env: Dict[str, Any] = {"gui": True, "NukeVersionMajor": 15}

    def _new_root(self) -> Root:
        root = Root(self, "Root", "")
        for k in _node_knobs(self, "Root"):
            root.addKnob(k)
        root["first_frame"]._value, root["last_frame"]._value = 1, 100
        root["proxy_scale"]._value = root["proxy_scale"]._default = 0.5
        root["views"]._value = root["views"]._default = "main"
        root["workingSpaceLUT"]._value = root["workingSpaceLUT"]._default = OCIO_CONFIGS[self._ocio]["working"]
        return root

    # ------------------------------------------------------------ recording
    def record(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))

    def called(self, name: str) -> List[Tuple[tuple, dict]]:
        return [(a, k) for n, a, k in self.calls if n == name]

    # --------------------------------------------------- colour, views
    def colorspaces(self) -> List[str]:
        return list(OCIO_CONFIGS[self._ocio]["spaces"])

    def use_ocio_config(self, name: str) -> None:
        """The script switches to an OCIO config (Project Settings > Color)."""
        self._ocio = name
        root = self._root
        root["colorManagement"].setValue("OCIO" if name != "nuke-default" else "Nuke")
        root["OCIO_config"].setValue(name)
        wk = root["workingSpaceLUT"]
        assert isinstance(wk, Enumeration_Knob)
        wk.setValues(self.colorspaces())
        wk._value = wk._default = OCIO_CONFIGS[name]["working"]
        for node in self.allNodes(group=self._root, recurseGroups=True):  # every colour-space menu follows the config
            cs = node.knob("colorspace")
            if isinstance(cs, Enumeration_Knob):
                cs.setValues(["default"] + self.colorspaces())
                if cs._value not in [Enumeration_Knob._leaf(v) for v in cs._values]:
                    cs._value = "default"

    def set_views(self, names: List[str]) -> None:
        self._views = list(names)
        self._root["views"]._value = " ".join(names)
        self.current_view = names[0]

    def views(self) -> List[str]:
        return list(self._views)

    def OutputContext(self, frame: Optional[int] = None, view: Optional[str] = None) -> OutputContext:  # noqa: N802
        return OutputContext(self, self.current_frame if frame is None else frame, view or self.current_view)

    # ------------------------------------------------------------- context
    def _group(self) -> Group:
        return self._context[-1] if self._context else self._root

    def _unique(self, base: str) -> str:
        while True:
            self._counters[base] = self._counters.get(base, 0) + 1
            name = f"{base}{self._counters[base]}"
            if self._group().node(name) is None:
                return name

    def new_node(self, cls: str, knobs: Optional[Dict[str, Any]] = None, name: Optional[str] = None) -> Node:
        node_cls = Group if cls in ("Group", "LiveGroup") else Node
        node = node_cls(self, cls, name or self._unique(cls))
        for k in _node_knobs(self, cls):
            node.addKnob(k)
        self._attach(node)
        for key, value in (knobs or {}).items():
            if key == "name":
                node.setName(str(value))
            elif key == "inputs" and isinstance(value, (list, tuple)):
                for i, n in enumerate(value):
                    node.setInput(i, n)
            else:
                node[key].setValue(value)  # unknown knob names raise, as in Nuke
        return node

    def _attach(self, node: Node) -> None:
        group = self._group()
        node._parent = group
        group._children.append(node)

    # ----------------------------------------------------------- node API
    def createNode(self, cls: str, knobs: str = "", inpanel: bool = True) -> Node:
        self.record("createNode", cls, knobs, inpanel)
        gizmo = self.find_plugin(f"{cls}.gizmo")
        node: Node = self.load_gizmo(gizmo, cls) if gizmo else self.new_node(cls)
        toks = [t[1] for t in tcl_tokens(knobs)] if knobs else []
        for k in range(0, len(toks) - 1, 2):
            node[toks[k]].setValue(toks[k + 1])
        self._run_on_create(node)
        return node

    def _run_on_create(self, node: Node) -> None:
        on_create = node.knob("onCreate")
        if on_create is not None and on_create.value():
            self.run_script(str(on_create.value()), node, None)

    def load_gizmo(self, path: str, cls: str, name: Optional[str] = None) -> Gizmo:
        """Build a Gizmo from its .nk text, as Nuke does for createNode."""
        with open(path, encoding="utf-8") as f:
            entries = parse_nk(f.read())
        body = [e for e in entries if e[0] not in ("version", "end_group")]
        if not body or body[0][0] != "Gizmo":
            raise ValueError(f"{path}: the first node must be 'Gizmo'")
        gizmo = Gizmo(self, cls, name or self._unique(cls))
        self._attach(gizmo)
        self._apply_knobs(gizmo, body[0][1], define=True)
        for knob in gizmo._knobs.values():  # what the .gizmo says is the default (not saved in scripts)
            knob._default = knob._value
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

    def _apply_knobs(self, node: Node, pairs: List[Tuple[str, Any]], define: bool = False) -> None:
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
                knob._visible = "+HIDDEN" not in knob._flags and "+INVISIBLE" not in knob._flags
                node.addKnob(knob)
            elif name == "inputs":
                continue
            else:
                node[name].fromScript(value)  # unknown knob names raise, as in Nuke

    def toNode(self, name: str) -> Optional[Node]:
        group: Group = self._group()
        node: Optional[Node] = None
        for part in name.split("."):
            if part == "root":
                node = group = self._root
                continue
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
        return self._root

    def allNodes(self, filter: Optional[str] = None, group: Optional[Group] = None, recurseGroups: bool = False) -> List[Node]:  # noqa: A002
        out: List[Node] = []

        def walk(g: Group) -> None:
            for n in g.nodes():
                if filter is None or n.Class() == filter:
                    out.append(n)
                if recurseGroups and isinstance(n, Group):
                    walk(n)

        walk(group or self._group())
        return out

    def thisNode(self) -> Node:
        if not self._this:
            raise ValueError("nuke.thisNode() called outside a knob callback")
        return self._this[-1][0]

    def thisKnob(self) -> Optional[Knob]:
        return self._this[-1][1] if self._this else None

    def thisParent(self) -> Optional[Group]:
        return self._this[-1][0].parent() if self._this else None

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

    # --------------------------------------------------------- TCL, exprs
    def _knob_ref(self, ref: str, node: Optional[Node]) -> Knob:
        """'knob', 'this.knob', 'parent.knob', 'root.knob', 'Node.knob' relative to ``node``."""
        owner: Optional[Node]
        if "." not in ref:
            owner, kname = node, ref
        else:
            head, kname = ref.rsplit(".", 1)
            if head == "this":
                owner = node
            elif head == "parent":
                owner = node.parent() if node is not None else None
            elif head == "root":
                owner = self._root
            else:
                base = node.parent() if node is not None else self._group()
                owner = base.node(head) if isinstance(base, Group) else None
                if owner is None:
                    owner = self.toNode(head)
        if owner is None:
            raise ValueError(f"TCL: no node for {ref!r}")
        return owner[kname]

    def tcl_subst(self, text: str, node: Optional[Node], frame: Optional[int] = None, view: Optional[str] = None) -> str:
        """TCL command substitution ([...]) of knob text, as Nuke evaluates
        string knobs.  Results are not substituted again (TCL semantics)."""
        out: List[str] = []
        i = 0
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
            elif c == "[":
                j = _split_bracket(text, i)
                out.append(self._tcl_command(text[i + 1 : j - 1], node, frame, view))
                i = j
            else:
                out.append(c)
                i += 1
        return "".join(out)

    def _tcl_command(self, cmd: str, node: Optional[Node], frame: Optional[int], view: Optional[str]) -> str:
        words = [w[1:] if w.startswith("\x00") else self.tcl_subst(w, node, frame, view) for w in _tcl_words(cmd)]
        if not words:
            return ""
        name, args = words[0], words[1:]
        if name == "value":
            knob = self._knob_ref(args[0], node)
            v = knob.getText() if isinstance(knob, String_Knob) else knob.value()
            return "true" if v is True else "false" if v is False else str(v)
        if name == "file" and args and args[0] == "dirname":
            return os.path.dirname(args[1]) or "."
        if name == "file" and args and args[0] == "tail":
            return os.path.basename(args[1])
        if name == "file" and args and args[0] == "join":
            return os.path.join(*args[1:])
        if name == "frame":
            return str(self.current_frame if frame is None else frame)
        if name == "getenv":
            return os.environ.get(args[0], args[1] if len(args) > 1 else "")
        if name == "python":
            code = args[-1]
            saved = (self.current_frame, self.current_view)
            self.current_frame = saved[0] if frame is None else frame  # evaluated in the knob's output context
            self.current_view = saved[1] if view is None else view
            if node is not None:
                self._this.append((node, None))
            try:
                return str(eval(code, {"nuke": self, "__import__": __import__}))
            finally:
                self.current_frame, self.current_view = saved
                if node is not None:
                    self._this.pop()
        raise ValueError(f"TCL command {name!r} is not known to the fake")

    def eval_expression(self, expr: str, node: Optional[Node]) -> Any:
        """A Nuke (animation) expression: numbers, 'frame', knob references, + - * /."""
        def ref(m: "re.Match[str]") -> str:
            word = m.group(0)
            if word in ("frame", "t", "x"):
                return str(self.current_frame)
            return repr(self._knob_ref(word, node).value())

        py = re.sub(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", ref, expr)
        return eval(py, {"__builtins__": {}})

    # ----------------------------------------------------------- execution
    def execute(self, node: Any, start: int, end: int, incr: int = 1, views: Optional[List[str]] = None,
                continueOnError: bool = False) -> None:
        """Render a Write: beforeRender callbacks, then each frame of each view
        (``views`` or all of the script's), in proxy mode when Root 'proxy' is on.
        Raises RuntimeError like Nuke: a nested execute, a render error
        (``execute_error``), a Read that cannot read its file."""
        target = self.toNode(node) if isinstance(node, str) else node
        name = target.name() if target is not None else str(node)
        self.record("execute", name, start, end, incr, views=views)
        if target is None:
            raise ValueError(f"no node named {node}")
        if self._rendering:
            raise RuntimeError("I'm already executing something else")  # Nuke refuses nested renders
        self.executed.append((name, int(start), int(end)))
        self._rendering += 1
        try:
            for fn, args, kwargs, cls in list(self.before_render):
                if cls in ("", target.Class()):
                    self._this.append((target, None))
                    try:
                        fn(*args, **kwargs)
                    finally:
                        self._this.pop()
            if self.execute_error:
                raise RuntimeError(self.execute_error)
            for view in views or self.views():
                for f in range(int(start), int(end) + 1, int(incr)):
                    if self.render_hook is not None:
                        self.render_hook(target, f, view)
                    else:
                        self.write_image(target, f, view)
                    self.rendered.append((name, f, view, bool(self._root["proxy"].value())))
        finally:
            self._rendering -= 1

    render = execute

    def pixels(self, node: Node, frame: int, view: str) -> Any:
        """The image a node outputs (float32 (H, W, 3), Nuke's working space) —
        Reads really read their files with OpenImageIO; groups follow their
        Output; other nodes pass their input through."""
        import numpy as np

        cls = node.Class()
        if cls == "Read":
            first, last = int(node["first"].value()), int(node["last"].value())
            f = min(max(frame, first), last)  # before/after: hold
            path = node["file"].getEvaluatedValue(self.OutputContext(frame=f, view=view))
            if not os.path.isfile(path):
                if node["on_error"].value() == "black":
                    return None
                raise RuntimeError(f"{node.name()}: Read error: No such file or directory ({path})")
            import OpenImageIO as oiio

            buf = oiio.ImageBuf(path)
            if buf.has_error:
                raise RuntimeError(f"{node.name()}: Read error: {buf.geterror()}")
            img = np.asarray(buf.get_pixels(oiio.FLOAT), dtype=np.float32)[..., :3]
            space = str(node["colorspace"].value())
            if space == "default":
                space = "linear" if path.lower().endswith((".exr", ".hdr")) else "sRGB"
            if not node["raw"].value() and _is_srgb_encoded(space):
                img = _srgb_to_linear(img)
        elif isinstance(node, Group):
            out = next((n for n in node.nodes() if n.Class() == "Output"), None)
            if out is None or out.input(0) is None:
                raise RuntimeError(f"{node.name()}: no Output")
            img = self.pixels(out.input(0), frame, view)  # type: ignore[arg-type]
        elif cls == "Input":
            group = node.parent()
            src = group.input(int(node["number"].value()))
            if src is None:
                raise RuntimeError(f"{group.name()}: input {int(node['number'].value())} is not connected")
            img = self.pixels(src, frame, view)
        else:
            src = node.input(0)
            if src is None:
                raise RuntimeError(f"{node.name()}: nothing connected")
            img = self.pixels(src, frame, view)
        if img is not None and self._root["proxy"].value() and cls == "Read":
            step = int(round(1.0 / float(self._root["proxy_scale"].value())))
            img = img[::step, ::step]
        return img

    def write_image(self, write: Node, frame: int, view: str) -> str:
        """What a Write writes for one frame and view (OpenImageIO)."""
        import numpy as np
        import OpenImageIO as oiio

        src = write.input(0)
        if src is None:
            raise RuntimeError(f"{write.name()}: nothing connected")
        img = self.pixels(src, frame, view)
        knob = "proxy" if self._root["proxy"].value() and write["proxy"].value() else "file"
        path = write[knob].getEvaluatedValue(self.OutputContext(frame=frame, view=view))
        ftype = str(write["file_type"].value()) or os.path.splitext(path)[1].lstrip(".")
        space = str(write["colorspace"].value())
        if space == "default":
            space = "linear" if ftype == "exr" else "sRGB"
        if not write["raw"].value() and _is_srgb_encoded(space):
            img = _linear_to_srgb(img)
        fmt = oiio.HALF if ftype == "exr" else (oiio.UINT16 if "16" in str(write["datatype"].value()) else oiio.UINT8)
        if write["create_directories"].value():
            os.makedirs(os.path.dirname(path), exist_ok=True)
        buf = oiio.ImageBuf(oiio.ImageSpec(img.shape[1], img.shape[0], 3, fmt))
        buf.set_pixels(oiio.ROI(), np.ascontiguousarray(img, dtype=np.float32))
        if not buf.write(path):
            raise RuntimeError(f"{write.name()}: cannot write {path}: {buf.geterror()}")
        return path

    def addBeforeRender(self, call: Callable[..., Any], args: tuple = (), kwargs: Optional[dict] = None,  # noqa: N802
                        nodeClass: str = "Write") -> None:
        self.before_render.append((call, tuple(args), dict(kwargs or {}), nodeClass))

    # ------------------------------------------------------------ threads
    def executeInMainThread(self, call: Callable[..., Any], args: Any = (), kwargs: Optional[dict] = None) -> None:  # noqa: N802
        if not isinstance(args, tuple):
            args = (args,)
        self._main_queue.put((call, args, dict(kwargs or {}), None, None))

    def executeInMainThreadWithResult(self, call: Callable[..., Any], args: Any = (), kwargs: Optional[dict] = None) -> Any:  # noqa: N802
        if not isinstance(args, tuple):
            args = (args,)
        if threading.get_ident() == self._main_thread:
            return call(*args, **(kwargs or {}))
        box: list = []
        done = threading.Event()
        self._main_queue.put((call, args, dict(kwargs or {}), box, done))
        done.wait()
        if box and isinstance(box[0], BaseException):
            raise box[0]
        return box[0] if box else None

    def process_events(self, timeout: float = 120.0) -> None:
        """Nuke's event loop: run what worker threads queued for the main
        thread until no SingleHDR worker is alive and the queue is empty."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                call, args, kwargs, box, done = self._main_queue.get(timeout=0.02)
            except queue.Empty:
                alive = [t for t in threading.enumerate() if t.name.startswith("SingleHDR")]
                if not alive and self._main_queue.empty():
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"workers still running: {alive}")
                continue
            try:
                result = call(*args, **kwargs)
                if box is not None:
                    box.append(result)
            except BaseException as exc:  # noqa: BLE001 (handed back to the waiting thread)
                if box is None:
                    raise
                box.append(exc)
            finally:
                if done is not None:
                    done.set()

    def frame(self, f: Optional[int] = None) -> int:
        if f is not None:
            self.current_frame = int(f)
        return self.current_frame

    def message(self, prompt: str) -> None:
        assert threading.get_ident() == self._main_thread, "nuke.message called from a worker thread"
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

    # ------------------------------------------------------- save, open
    def scriptName(self) -> str:  # noqa: N802
        name = str(self._root["name"].value())
        if not name:
            raise RuntimeError("no script name (the script has not been saved)")
        return name

    def scriptSaveAs(self, filename: str, overwrite: int = 1) -> None:  # noqa: N802
        """Save as Nuke does: each node's knobs that differ from their
        defaults; for a Gizmo only its own knobs (what was changed inside it
        is lost); knobs flagged +DO_NOT_WRITE are not saved."""
        self._root["name"]._value = filename
        lines = ["version 15.1 v1", "Root {", " inputs 0"]
        lines += self._knob_lines(self._root, always=("name",))
        lines.append("}")
        written: set = set()

        def emit(node: Node) -> None:
            if node.name() in written:
                return
            inputs = [node.input(i) for i in range(node.inputs())]
            for src in inputs:
                if src is not None:
                    emit(src)
            for src in inputs:
                lines.append(f"push $N_{src.name()}" if src is not None else "push 0")
            lines.append(f"{node.Class()} {{")
            lines.append(f" inputs {len(inputs)}")
            lines.extend(self._knob_lines(node, always=("name",)))
            lines.append("}")
            lines.append(f"set N_{node.name()} [stack 0]")
            written.add(node.name())

        for node in self._root.nodes():
            if not isinstance(node, Gizmo) and isinstance(node, Group):
                raise NotImplementedError("the fake saves no plain Groups")
            emit(node)
        with open(filename, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    def _knob_lines(self, node: Node, always: Tuple[str, ...] = ()) -> List[str]:
        out = []
        for name, knob in node._knobs.items():
            if isinstance(knob, (Tab_Knob, Script_Knob, Text_Knob)) or "+DO_NOT_WRITE" in knob._flags:
                continue
            if name in always or not knob.isDefault():
                out.append(f" {name} {knob.toScript()}")
        return out

    def scriptClear(self) -> None:  # noqa: N802
        self._root = self._new_root()
        self._counters = {}

    def scriptOpen(self, filename: str) -> None:  # noqa: N802
        """Open a saved script: gizmos are built from their .gizmo file, then
        the saved knobs are applied, then onCreate runs (as in Nuke)."""
        self.scriptClear()
        with open(filename, encoding="utf-8") as f:
            entries = parse_nk(f.read())
        stack: List[Optional[Node]] = []
        vars_: Dict[str, Optional[Node]] = {}
        created: List[Node] = []
        for cls, pairs in entries:
            if cls in ("version", "end_group"):
                continue
            if cls == "set":
                vars_[pairs[0][1]] = stack[-1]
                continue
            if cls == "push":
                stack.append(None if pairs[0][1] == "0" else vars_[pairs[0][1]])
                continue
            if cls == "Root":
                if "OCIO_config" in dict(pairs):
                    self.use_ocio_config(str(dict(pairs)["OCIO_config"]))
                for name, value in pairs:
                    if name != "inputs":
                        self._root[name].fromScript(value)
                continue
            values = dict(pairs)
            n_inputs = int(values.get("inputs", 0))
            gizmo = self.find_plugin(f"{cls}.gizmo")
            if gizmo:
                node: Node = self.load_gizmo(gizmo, cls, name=str(values.get("name")))
            else:
                node = self.new_node(cls, name=str(values.get("name")))
            for name, value in pairs:
                if name not in ("name", "inputs"):
                    node[name].fromScript(value)
            ins = [stack.pop() for _ in range(n_inputs)][::-1]
            for i, src in enumerate(ins):
                node._inputs[i] = src
            stack.append(node)
            created.append(node)
        self._root["name"]._value = filename
        for node in created:
            self._run_on_create(node)

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
        queue_ = self._startup_queue
        if queue_ is not None and os.path.isdir(path):
            queue_.append(path)
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
        self._startup_queue = []
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
