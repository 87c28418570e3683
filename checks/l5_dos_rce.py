"""L5 secure: denial of service and remote code execution through dangerous standard functions.

* Atoms are never garbage-collected and the table is capped (about a million): creating atoms
  from input (`String.to_atom`, `List.to_atom`, `:"#{x}"`) lets a client crash the node.
* `:erlang.binary_to_term/1` on untrusted bytes can create atoms and executable funs.
* `Code.eval_*` / `EEx.eval_*` run their argument as code.
* `System.cmd/3` and `:os.cmd/1` with a command from data run whatever the data says.
* `File.*`, `send_file` and `send_download` with a path from the request read or write any
  file the VM can reach (`../../etc/passwd`).

Each finding carries sobelow's confidence (checks/security_support.py): variables from the
controller action's params are high (error), other variables medium (warning). Path traversal
is only reported for paths traced to the request: every program opens files from variables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tree_sitter import Node

from checks import elixir
from checks import security_support as sec
from checks.context import FileContext
from checks.model import FileKind, Finding, Rule, Severity

CODE: frozenset[FileKind] = frozenset({"lib"})


def _sink(
    ctx: FileContext, rule: Rule, call: Node, arg: Node | None, what: str, fix: str
) -> Iterator[Finding]:
    if arg is None or elixir.is_literal(arg):
        return
    origin = sec.origin(ctx, arg)
    if origin is None:
        return
    yield ctx.finding(
        rule, call, f"{what} ({origin.describe()})", severity=origin.severity, fix=fix
    )


# --- atoms --------------------------------------------------------------------------------

ATOM_FUNCTIONS = {
    ("String", "to_atom"): "String.to_existing_atom/1",
    ("List", "to_atom"): "List.to_existing_atom/1",
    (":erlang", "binary_to_atom"): ":erlang.binary_to_existing_atom/2",
    (":erlang", "list_to_atom"): ":erlang.list_to_existing_atom/1",
}


_ATOM_MODULES = frozenset(module for module, _fun in ATOM_FUNCTIONS)


def _atoms(ctx: FileContext) -> Iterable[Finding]:
    interpolations = ctx.index.nodes("interpolation")
    calls = (
        sec.remote_calls_of(ctx, ATOM_FUNCTIONS) if sec.calls_module(ctx, *_ATOM_MODULES) else []
    )
    if calls or interpolations:
        return _atoms_found(ctx, calls, interpolations)
    return ()  # the common case, without starting a generator


def _atoms_found(
    ctx: FileContext, calls: list[tuple[tuple[str, str], Node]], interpolations: list[Node]
) -> Iterator[Finding]:
    for (module, fun), call in calls:
        safe = ATOM_FUNCTIONS[(module, fun)]
        yield from _sink(
            ctx,
            ATOM_EXHAUSTION,
            call,
            sec.argument(call, 0),
            f"`{module}.{fun}` creates atoms from data; atoms are never freed",
            f"use `{safe}` or map known strings to atoms explicitly",
        )
    for interp in interpolations:
        atom = interp.parent
        if atom is None or atom.type != "quoted_atom":
            continue
        if atom.start_byte != interp.start_byte and _first_interpolation(atom) != interp:
            continue
        yield from _sink(
            ctx,
            ATOM_EXHAUSTION,
            atom,
            atom,
            f"`{_short(atom)}` builds an atom by interpolation; atoms are never freed",
            "match known values to atoms explicitly, or keep the value a string",
        )


def _first_interpolation(node: Node) -> Node | None:
    return next((c for c in node.named_children if c.type == "interpolation"), None)


def _short(node: Node) -> str:
    raw = elixir.text(node).replace("\n", " ")
    return raw if len(raw) <= 40 else raw[:37] + "..."


# --- binary_to_term -------------------------------------------------------------------------


def _binary_to_term(ctx: FileContext) -> Iterable[Finding]:
    return _binary_to_term_found(ctx) if sec.calls_module(ctx, ":erlang") else ()


def _binary_to_term_found(ctx: FileContext) -> Iterator[Finding]:
    for call in ctx.index.remote_calls(":erlang", "binary_to_term"):
        data = sec.argument(call, 0)
        if data is None or elixir.is_literal(data):
            continue
        opts = sec.argument(call, 1)
        if opts is not None and ":safe" in {elixir.text(n) for n in elixir.walk(opts)}:
            continue
        yield ctx.finding(
            BINARY_TO_TERM,
            call,
            f"`:erlang.binary_to_term` on `{_short(data)}` without `[:safe]` can create atoms "
            "and executable funs from the bytes (high confidence: always exploitable with "
            "untrusted input)",
            fix="use `Plug.Crypto.non_executable_binary_to_term(data, [:safe])`",
        )


# --- eval -------------------------------------------------------------------------------------

EVAL_FUNCTIONS = {
    "Code": (
        "eval_string",
        "eval_file",
        "eval_quoted",
        "compile_string",
        "compile_quoted",
        "require_file",
        "eval_quoted_with_env",
    ),
    "EEx": ("eval_string", "eval_file"),
}


def _eval(ctx: FileContext) -> Iterable[Finding]:
    return _eval_found(ctx) if sec.calls_module(ctx, *EVAL_FUNCTIONS) else ()


def _eval_found(ctx: FileContext) -> Iterator[Finding]:
    for module, funs in EVAL_FUNCTIONS.items():
        if not sec.calls_module(ctx, module):
            continue
        for call in ctx.index.remote_calls(module, *funs):
            fun = elixir.remote_name(call)
            label = f"{module}.{fun[1] if fun else 'eval'}"
            yield from _sink(
                ctx,
                CODE_EVAL,
                call,
                sec.argument(call, 0),
                f"`{label}` runs its argument as Elixir code",
                "never evaluate data; parse it (Jason, NimbleParsec) or dispatch on known "
                "values; for templates, compile them at build time with `EEx.function_from_file`",
            )


# --- command injection ----------------------------------------------------------------------

SHELLS = frozenset({"sh", "bash", "zsh", "/bin/sh", "/bin/bash", "/usr/bin/env"})


def _commands(ctx: FileContext) -> Iterable[Finding]:
    return _commands_found(ctx) if sec.calls_module(ctx, "System", ":os") else ()


def _commands_found(ctx: FileContext) -> Iterator[Finding]:
    fix = (
        'run a fixed executable with `System.cmd("convert", [arg1, arg2])`: arguments are '
        "passed without a shell"
    )
    for call in ctx.index.remote_calls("System", "cmd"):
        command = sec.argument(call, 0)
        yield from _sink(
            ctx, COMMAND_INJECTION, call, command, "`System.cmd` runs a command from data", fix
        )
        if elixir.string_literal(command) in SHELLS:
            yield from _shell_script(ctx, call, fix)
    for call in ctx.index.remote_calls("System", "shell"):
        yield from _sink(
            ctx,
            COMMAND_INJECTION,
            call,
            sec.argument(call, 0),
            "`System.shell` runs a shell command line built from data",
            fix,
        )
    for call in ctx.index.remote_calls(":os", "cmd"):
        yield from _sink(
            ctx,
            COMMAND_INJECTION,
            call,
            sec.argument(call, 0),
            "`:os.cmd` runs a shell command line built from data",
            fix,
        )


def _shell_script(ctx: FileContext, call: Node, fix: str) -> Iterator[Finding]:
    """`System.cmd("sh", ["-c", script])`: the script is shell code."""
    args = sec.argument(call, 1)
    if args is None or args.type != "list":
        return
    items = [c for c in args.named_children if c.type != "comment"]
    for i, item in enumerate(items[:-1]):
        if elixir.string_literal(item) == "-c":
            yield from _sink(
                ctx,
                COMMAND_INJECTION,
                call,
                items[i + 1],
                "a shell (`-c`) runs a script built from data",
                fix,
            )
            return


# --- path traversal -------------------------------------------------------------------------

FILE_ONE_PATH = (
    "read",
    "read!",
    "write",
    "write!",
    "rm",
    "rm!",
    "rm_rf",
    "rm_rf!",
    "open",
    "open!",
    "chmod",
    "chmod!",
    "chown",
    "chown!",
    "mkdir",
    "mkdir!",
    "mkdir_p",
    "mkdir_p!",
    "stream",
    "stream!",
    "ls",
    "ls!",
    "touch",
    "touch!",
    "stat",
    "stat!",
    "lstat",
    "lstat!",
    "read_link",
    "read_link!",
    "write_stat",
    "write_stat!",
    "exists?",
    "regular?",
    "dir?",
    "rmdir",
    "rmdir!",
)
FILE_TWO_PATHS = (
    "cp",
    "cp!",
    "cp_r",
    "cp_r!",
    "copy",
    "copy!",
    "ln",
    "ln!",
    "ln_s",
    "ln_s!",
    "rename",
    "rename!",
)


def _traversal(ctx: FileContext) -> Iterable[Finding]:
    index = ctx.index
    if (
        sec.calls_module(ctx, "File")
        or index.calls_named("send_file")
        or index.calls_named("send_download")
    ):
        return _traversal_found(ctx)
    return ()


def _traversal_found(ctx: FileContext) -> Iterator[Finding]:
    index = ctx.index
    file_calls = sec.calls_module(ctx, "File")
    fix = (
        "never build a path from request data; look the file up by id, or keep only "
        "`Path.basename/1` and check the result with `Path.safe_relative/2`"
    )
    files = index.remote_calls("File", *FILE_ONE_PATH, *FILE_TWO_PATHS) if file_calls else []
    for call in files:
        name = elixir.remote_name(call)
        fun = name[1] if name else "?"
        positions = (0, 1) if fun in FILE_TWO_PATHS else (0,)
        for position in positions:
            yield from _traced_path(ctx, call, sec.argument(call, position), f"`File.{fun}`", fix)
    for call in ctx.index.calls_named("send_file"):
        yield from _traced_path(ctx, call, sec.argument(call, 2), "`send_file`", fix)
    for call in ctx.index.calls_named("send_download"):
        download = sec.argument(call, 1)
        if download is not None and elixir.is_tagged_tuple(download, ":file"):
            items = [c for c in download.named_children if c.type != "comment"]
            if len(items) > 1:
                yield from _traced_path(ctx, call, items[1], "`send_download`", fix)


def _traced_path(
    ctx: FileContext, call: Node, path: Node | None, label: str, fix: str
) -> Iterator[Finding]:
    if path is None or elixir.is_literal(path):
        return
    origin = sec.high_origin(ctx, path)
    if origin is None:
        return
    yield ctx.finding(
        PATH_TRAVERSAL,
        call,
        f"{label} uses a path built from request data; `../` reaches any file "
        f"({origin.describe()})",
        severity=origin.severity,
        fix=fix,
    )


ATOM_EXHAUSTION = Rule(
    id="L5.atom-exhaustion",
    severity=Severity.ERROR,
    title="Atoms created from data",
    explanation=(
        "The BEAM never garbage-collects atoms and caps their number (1,048,576 by default); "
        "when the table is full the whole node crashes. `String.to_atom/1`, `List.to_atom/1` "
        'and `:"#{x}"` on request data let any client exhaust it. Use '
        "`String.to_existing_atom/1`, or map the known strings to atoms explicitly."
    ),
    bad_example=(
        "defmodule ShopWeb.SortController do\n"
        '  @moduledoc "Sorting."\n'
        "  use ShopWeb, :controller\n"
        '  def index(conn, %{"sort" => sort}) do\n'
        "    render(conn, :index, sort: String.to_atom(sort))\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule ShopWeb.SortController do\n"
        '  @moduledoc "Sorting."\n'
        "  use ShopWeb, :controller\n"
        '  def index(conn, %{"sort" => sort}) do\n'
        "    render(conn, :index, sort: String.to_existing_atom(sort))\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE,
    sobelow=("DOS.StringToAtom", "DOS.ListToAtom", "DOS.BinToAtom"),
    credo=("Warning.UnsafeToAtom",),
    check=_atoms,
)

BINARY_TO_TERM = Rule(
    id="L5.unsafe-binary-to-term",
    severity=Severity.ERROR,
    title="Untrusted bytes decoded with :erlang.binary_to_term",
    explanation=(
        "`:erlang.binary_to_term/1` decodes whatever the bytes describe, including new atoms "
        "(node crash by atom exhaustion) and funs that run code when called. On bytes from a "
        "cookie, a request or a shared cache that is remote code execution. Pass `[:safe]`, or "
        "better `Plug.Crypto.non_executable_binary_to_term(data, [:safe])`, which also "
        "refuses executable terms."
    ),
    bad_example=(
        "defmodule Shop.Cache do\n"
        '  @moduledoc "Cache."\n'
        "  def decode(blob), do: :erlang.binary_to_term(blob)\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Cache do\n"
        '  @moduledoc "Cache."\n'
        "  def decode(blob), do: Plug.Crypto.non_executable_binary_to_term(blob, [:safe])\n"
        "end\n"
    ),
    applies_to=CODE,
    sobelow=("Misc.BinToTerm",),
    check=_binary_to_term,
)

CODE_EVAL = Rule(
    id="L5.code-eval",
    severity=Severity.ERROR,
    title="Code evaluated from data",
    explanation=(
        "`Code.eval_string/eval_file/eval_quoted` and `EEx.eval_string/eval_file` compile and "
        "run their input with the full power of the VM: file system, network, `System.cmd`. "
        "Any path from user data to them is remote code execution. Parse data instead of "
        "evaluating it, and compile templates at build time (`EEx.function_from_file`)."
    ),
    bad_example=(
        "defmodule Shop.Rules do\n"
        '  @moduledoc "Pricing rules."\n'
        "  def apply_rule(rule_source, order) do\n"
        "    {result, _} = Code.eval_string(rule_source, order: order)\n"
        "    result\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Rules do\n"
        '  @moduledoc "Pricing rules."\n'
        '  def apply_rule("half_price", order), do: %{order | total: order.total / 2}\n'
        "  def apply_rule(_other, order), do: order\n"
        "end\n"
    ),
    applies_to=CODE,
    sobelow=("RCE.CodeModule", "RCE.EEx"),
    check=_eval,
)

COMMAND_INJECTION = Rule(
    id="L5.command-injection",
    severity=Severity.ERROR,
    title="Operating-system command built from data",
    explanation=(
        "`:os.cmd/1` and `System.shell/1` hand a whole command line to the shell, and "
        "`System.cmd/3` runs whatever executable its first argument names: if data reaches "
        "them, `; rm -rf /` does too. Run a fixed executable with `System.cmd/3` and pass data "
        'only in the argument list (no shell parses it); `System.cmd("sh", ["-c", script])` '
        "with a built script is reported as well."
    ),
    bad_example=(
        "defmodule Shop.Thumbnails do\n"
        '  @moduledoc "Thumbnails."\n'
        "  def make(path) do\n"
        '    :os.cmd(String.to_charlist("convert #{path} -resize 100x100 thumb.png"))\n'
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Thumbnails do\n"
        '  @moduledoc "Thumbnails."\n'
        "  def make(path) do\n"
        '    System.cmd("convert", [path, "-resize", "100x100", "thumb.png"])\n'
        "  end\n"
        "end\n"
    ),
    applies_to=CODE,
    sobelow=("CI.System", "CI.OS"),
    check=_commands,
)

PATH_TRAVERSAL = Rule(
    id="L5.path-traversal",
    severity=Severity.ERROR,
    title="File path built from request data",
    explanation=(
        'A path taken from request params (`File.read!(Path.join(dir, params["name"]))`, '
        "`send_file(conn, 200, path)`, `send_download(conn, {:file, path})`) can contain "
        "`../` and reach any file the VM can read or write: configuration, secrets, other "
        "users' uploads. Look files up by an id, or reduce the name with `Path.basename/1` and "
        "verify it with `Path.safe_relative/2`. Only paths traced to the request are reported "
        "(programs open files from variables all the time)."
    ),
    bad_example=(
        "defmodule ShopWeb.DownloadController do\n"
        '  @moduledoc "Downloads."\n'
        "  use ShopWeb, :controller\n"
        '  def show(conn, %{"name" => name}) do\n'
        '    send_file(conn, 200, Path.join("priv/exports", name))\n'
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule ShopWeb.DownloadController do\n"
        '  @moduledoc "Downloads."\n'
        "  use ShopWeb, :controller\n"
        '  def show(conn, %{"id" => id}) do\n'
        "    export = Shop.Exports.get!(id)\n"
        "    send_file(conn, 200, export.path)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE,
    sobelow=("Traversal.FileModule", "Traversal.SendFile", "Traversal.SendDownload"),
    check=_traversal,
)

RULES = (ATOM_EXHAUSTION, BINARY_TO_TERM, CODE_EVAL, COMMAND_INJECTION, PATH_TRAVERSAL)
