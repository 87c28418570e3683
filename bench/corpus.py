"""Generate a deterministic corpus of realistic Elixir for the benchmarks.

The corpus mixes what real Phoenix apps contain: contexts with specs and docs, schemas,
controllers,
GenServers, tests and migrations, with a sprinkling of the defects the rules look for, so every
reviewer does real work. The same seed always gives the same bytes, so figures are comparable.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

WORDS = [
    "account",
    "user",
    "order",
    "invoice",
    "payment",
    "product",
    "cart",
    "item",
    "price",
    "stock",
    "shipment",
    "address",
    "session",
    "token",
    "report",
    "metric",
    "event",
    "audit",
    "team",
    "member",
    "role",
    "plan",
    "coupon",
    "refund",
    "review",
]


def _name(rng: random.Random) -> str:
    return rng.choice(WORDS)


def _camel(word: str) -> str:
    return "".join(part.capitalize() for part in word.split("_"))


def _function(rng: random.Random, module: str, i: int) -> str:
    thing = _name(rng)
    fname = f"{rng.choice(['get', 'list', 'create', 'update', 'delete', 'fetch'])}_{thing}_{i}"
    lines: list[str] = []
    documented = rng.random() < 0.8
    if documented:
        lines += [
            '  @doc """',
            f"  Returns the {thing} for the given id.",
            "",
            "  ## Examples",
            "",
            f"      iex> {module}.{fname}(1)",
            "      {:ok, %{id: 1}}",
            '  """',
        ]
    if rng.random() < 0.85:
        lines.append(f"  @spec {fname}(integer()) :: {{:ok, map()}} | {{:error, :not_found}}")
    shape = rng.randrange(5)
    if shape == 0:
        lines += [
            f"  def {fname}(id) when is_integer(id) and id > 0 do",
            f"    case Repo.get({_camel(thing)}, id) do",
            "      nil -> {:error, :not_found}",
            f"      %{_camel(thing)}{{}} = record -> {{:ok, record}}",
            "    end",
            "  end",
            "",
            f"  def {fname}(_id), do: {{:error, :not_found}}",
        ]
    elif shape == 1:
        lines += [
            f"  def {fname}(id) do",
            f"    with {{:ok, {thing}}} <- fetch(id),",
            f"         {{:ok, result}} <- transform({thing}, id) do",
            "      {:ok, result}",
            "    end",
            "  end",
        ]
    elif shape == 2:
        lines += [
            f"  def {fname}(params) do",
            "    params",
            '    |> Map.get("items", [])',
            "    |> Enum.map(fn item -> item * 2 end)",
            "    |> Enum.filter(&(&1 > 10))",
            "    |> then(&{:ok, &1})",
            "  end",
        ]
    elif shape == 3:
        lines += [
            f"  def {fname}(id) do",
            "    start = System.monotonic_time()",
            f'    Logger.info("loading {thing}", id: id)',
            "    result = load(id)",
            "    duration = System.monotonic_time() - start",
            "    :telemetry.execute([:shop, :load, :stop], %{duration: duration})",
            "    if result do",
            "      {:ok, result}",
            "    else",
            "      {:error, :not_found}",
            "    end",
            "  end",
        ]
    else:
        lines += [
            f"  def {fname}(id, opts \\\\ []) do",
            "    limit = Keyword.get(opts, :limit, 10)",
            "    unused = limit * 2",
            '    query = "SELECT * FROM items WHERE id = #{id}"',
            "    Repo.query!(query)",
            "    |> Map.get(:rows)",
            "    |> Enum.take(limit)",
            "    |> then(&{:ok, &1})",
            "  end",
        ]
    return "\n".join(lines)


def module_source(rng: random.Random, index: int) -> str:
    thing = _name(rng)
    module = f"Shop.{_camel(thing)}s{index}"
    parts = [f"defmodule {module} do"]
    if rng.random() < 0.9:
        parts += ['  @moduledoc """', f"  Context for {thing}s.", '  """', ""]
    parts += ["  alias Shop.Repo", f"  alias Shop.{_camel(thing)}", "  require Logger", ""]
    if rng.random() < 0.3:
        parts += [
            f"  defstruct [:id, :{thing}, :inserted_at]",
            "",
            f"  @type t :: %__MODULE__{{id: integer(), {thing}: String.t()}}",
            "",
        ]
    for i in range(rng.randrange(6, 16)):
        parts.append(_function(rng, module, i))
        parts.append("")
    parts += [
        "  defp fetch(id), do: {:ok, id}",
        "",
        "  defp transform(value, id), do: {:ok, {value, id}}",
        "",
        "  defp load(id) do",
        "    try do",
        "      Repo.get!(Item, id)",
        "    rescue",
        "      e in Ecto.NoResultsError -> reraise e, __STACKTRACE__",
        "    end",
        "  end",
        "end",
        "",
    ]
    return "\n".join(parts)


def test_source(rng: random.Random, index: int) -> str:
    thing = _name(rng)
    module = f"Shop.{_camel(thing)}s{index}"
    lines = [
        f"defmodule {module}Test do",
        "  use Shop.DataCase, async: true",
        "",
        f"  alias {module}",
        "",
    ]
    for i in range(rng.randrange(3, 9)):
        lines += [
            f'  describe "get_{thing}_{i}/1" do',
            f'    test "returns the {thing} when it exists" do',
            f"      assert {{:ok, _}} = {_camel(thing)}s{index}.get_{thing}_{i}(1)",
            "    end",
            "",
            f'    test "returns an error when the {thing} is missing" do',
            f"      assert {{:error, :not_found}} = {_camel(thing)}s{index}.get_{thing}_{i}(-1)",
            "    end",
            "  end",
            "",
        ]
    lines += ["end", ""]
    return "\n".join(lines)


def migration_source(rng: random.Random, index: int) -> str:
    thing = _name(rng)
    return "\n".join(
        [
            f"defmodule Shop.Repo.Migrations.Add{_camel(thing)}{index} do",
            "  use Ecto.Migration",
            "",
            "  def change do",
            f"    alter table(:{thing}s) do",
            '      add :status, :string, default: "new"',
            "      modify :name, :text, null: false",
            "    end",
            "",
            f"    create index(:{thing}s, [:status])",
            "  end",
            "end",
            "",
        ]
    )


def generate(root: Path, megabytes: float, seed: int = 7) -> int:
    """Write the corpus under `root`; return its size in bytes."""
    rng = random.Random(seed)
    total = 0
    index = 0
    target = int(megabytes * 1_000_000)
    while total < target:
        kind = rng.random()
        if kind < 0.7:
            path = root / "lib" / "shop" / f"context_{index}.ex"
            text = module_source(rng, index)
        elif kind < 0.93:
            path = root / "test" / "shop" / f"context_{index}_test.exs"
            text = test_source(rng, index)
        else:
            path = (
                root / "priv" / "repo" / "migrations" / f"2024010100{index:04d}_add_{index}.exs"
            )
            text = migration_source(rng, index)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        path.write_bytes(data)
        total += len(data)
        index += 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--megabytes", type=float, default=5.0)
    args = parser.parse_args()
    size = generate(args.root, args.megabytes)
    print(f"wrote {size:,} bytes of Elixir under {args.root}")


if __name__ == "__main__":
    main()
