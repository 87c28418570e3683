"""Generate a deterministic corpus of realistic Elixir for the benchmarks.

The corpus mixes what a Phoenix application holds: contexts with specs and docs, Ecto schemas,
controllers, GenServers, LiveViews with ~H templates, tests and migrations. Most code is clean,
as in a maintained project; a few percent of functions carry the defects the rules look for
(missing specs and docs, interpolated SQL, unused variables, swallowed errors, IO.inspect, long
pipelines into Enum), so every reviewer does real work and reports real findings. The same seed
always gives the same bytes, so figures are comparable between runs.
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

# Share of functions with a planted defect (a maintained code base still has some).
DEFECT_RATE = 0.06


def _name(rng: random.Random) -> str:
    return rng.choice(WORDS)


def _camel(word: str) -> str:
    return "".join(part.capitalize() for part in word.split("_"))


def _doc(thing: str, module: str, fname: str) -> list[str]:
    return [
        '  @doc """',
        f"  Returns the {thing} for the given id, or an error when there is none.",
        "",
        "  ## Examples",
        "",
        f"      iex> {module}.{fname}(-1)",
        "      {:error, :not_found}",
        '  """',
    ]


def _function(rng: random.Random, module: str, i: int) -> list[str]:
    thing = _name(rng)
    schema = _camel(thing)
    fname = f"{rng.choice(['get', 'list', 'create', 'update', 'delete', 'fetch'])}_{thing}_{i}"
    defect = rng.random() < DEFECT_RATE
    lines = [] if defect and rng.random() < 0.5 else _doc(thing, module, fname)
    if not (defect and rng.random() < 0.5):
        lines.append(
            f"  @spec {fname}(integer()) :: {{:ok, {schema}.t()}} | {{:error, :not_found}}"
        )
    shape = rng.randrange(6)
    if shape == 0:
        lines += [
            f"  def {fname}(id) when is_integer(id) and id > 0 do",
            f"    case Repo.get({schema}, id) do",
            "      nil -> {:error, :not_found}",
            f"      %{schema}{{}} = record -> {{:ok, record}}",
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
            f"  def {fname}(id) do",
            f"    {schema}",
            "    |> where([r], r.owner_id == ^id)",
            "    |> order_by([r], desc: r.inserted_at)",
            "    |> Repo.all()",
            "    |> Enum.map(&decorate/1)",
            "    |> then(&{:ok, &1})",
            "  end",
        ]
    elif shape == 3:
        lines += [
            f"  def {fname}(id) do",
            "    start = System.monotonic_time()",
            f"    result = Repo.get({schema}, id)",
            "    duration = System.monotonic_time() - start",
            f"    :telemetry.execute([:shop, :{thing}, :load], %{{duration: duration}})",
            "",
            "    if result do",
            "      {:ok, result}",
            "    else",
            f'      Logger.warning("{thing} not found", id: id)',
            "      {:error, :not_found}",
            "    end",
            "  end",
        ]
    elif shape == 4:
        lines += [
            f"  def {fname}(id) do",
            "    Multi.new()",
            f"    |> Multi.run(:{thing}, fn repo, _changes -> fetch_in(repo, id) end)",
            f"    |> Multi.update(:touch, fn %{{{thing}: record}} -> touch(record) end)",
            "    |> Repo.transaction()",
            "    |> case do",
            f"      {{:ok, %{{{thing}: record}}}} -> {{:ok, record}}",
            "      {:error, _step, :not_found, _changes} -> {:error, :not_found}",
            "    end",
            "  end",
        ]
    else:
        lines += [
            f"  def {fname}(id) do",
            f"    :{thing}",
            "    |> Cache.lookup(id)",
            "    |> case do",
            "      {:ok, cached} -> {:ok, cached}",
            f"      :miss -> load_and_cache(:{thing}, id)",
            "    end",
            "  end",
        ]
    if defect:
        lines += _defect(rng, fname, thing, schema)
    return lines


def _defect(rng: random.Random, fname: str, thing: str, schema: str) -> list[str]:
    kind = rng.randrange(5)
    if kind == 0:
        return [
            "",
            f"  def search_{fname}(term) do",
            f"    Repo.query!(\"SELECT * FROM {thing}s WHERE name LIKE '%#{{term}}%'\")",
            "  end",
        ]
    if kind == 1:
        return [
            "",
            f"  def count_{fname}(opts) do",
            "    limit = Keyword.get(opts, :limit, 10)",
            f"    Repo.aggregate({schema}, :count)",
            "  end",
        ]
    if kind == 2:
        return [
            "",
            f"  def safe_{fname}(id) do",
            f"    case Repo.delete({schema}, id) do",
            "      {:ok, record} -> record",
            "      {:error, _} -> nil",
            "    end",
            "  end",
        ]
    if kind == 3:
        return [
            "",
            f"  def debug_{fname}(items) do",
            "    IO.inspect(items)",
            '    items |> Enum.map(&to_string/1) |> Enum.join(", ")',
            "  end",
        ]
    return [
        "",
        f"  def timed_{fname}(id) do",
        "    started = DateTime.utc_now()",
        f"    result = Repo.get({schema}, id)",
        '    Logger.info("took #{DateTime.diff(DateTime.utc_now(), started)}")',
        "    result",
        "  end",
    ]


def context_source(rng: random.Random, index: int) -> tuple[str, str, int]:
    """A context module, its subject and its number of public functions (for its test)."""
    thing = _name(rng)
    module = f"Shop.{_camel(thing)}s{index}"
    count = rng.randrange(6, 14)
    parts = [
        f"defmodule {module} do",
        '  @moduledoc """',
        f"  The {thing}s context: the only module that reads and writes {thing}s.",
        '  """',
        "",
        "  import Ecto.Query",
        "",
        "  alias Ecto.Multi",
        "  alias Shop.Cache",
        "  alias Shop.Repo",
        "",
        "  require Logger",
        "",
    ]
    for i in range(count):
        parts += _function(rng, module, i)
        parts.append("")
    parts += [
        "  defp fetch(id), do: {:ok, id}",
        "",
        "  defp transform(value, id), do: {:ok, {value, id}}",
        "",
        "  defp decorate(record), do: Map.put(record, :decorated, true)",
        "",
        "  defp fetch_in(repo, id) do",
        "    case repo.get(Item, id) do",
        "      nil -> {:error, :not_found}",
        "      record -> {:ok, record}",
        "    end",
        "  end",
        "",
        "  defp touch(record), do: Ecto.Changeset.change(record, touched_at: DateTime.utc_now())",
        "",
        "  defp touch_all(ids) do",
        "    Multi.new()",
        "    |> Multi.update_all(:touch, where(Item, [i], i.id in ^ids), set: [touched: true])",
        "    |> Repo.transaction()",
        "  end",
        "",
        "  defp load_and_cache(kind, id) do",
        "    with {:ok, record} <- fetch(id) do",
        "      Cache.put(kind, id, record)",
        "      touch_all([id])",
        "      {:ok, record}",
        "    end",
        "  end",
        "end",
        "",
    ]
    return "\n".join(parts), thing, count


def schema_source(rng: random.Random, index: int) -> str:
    thing = _name(rng)
    module = f"Shop.{_camel(thing)}{index}"
    return "\n".join(
        [
            f"defmodule {module} do",
            '  @moduledoc """',
            f"  A {thing} as stored in the `{thing}s` table.",
            '  """',
            "  use Ecto.Schema",
            "  import Ecto.Changeset",
            "",
            "  @type t :: %__MODULE__{",
            "          id: integer() | nil,",
            "          name: String.t() | nil,",
            "          status: String.t() | nil,",
            "          amount: Decimal.t() | nil",
            "        }",
            "",
            f'  schema "{thing}s" do',
            "    field :name, :string",
            '    field :status, :string, default: "new"',
            "    field :amount, :decimal",
            "    belongs_to :team, Shop.Team",
            "",
            "    timestamps()",
            "  end",
            "",
            '  @doc """',
            f"  Validates a {thing} change.",
            "",
            "      iex> changeset(%__MODULE__{}, %{}).valid?",
            "      false",
            '  """',
            "  @spec changeset(t(), map()) :: Ecto.Changeset.t()",
            f"  def changeset({thing}, attrs) do",
            f"    {thing}",
            "    |> cast(attrs, [:name, :status, :amount, :team_id])",
            "    |> validate_required([:name, :amount])",
            "    |> validate_number(:amount, greater_than: 0)",
            "    |> foreign_key_constraint(:team_id)",
            "  end",
            "end",
            "",
        ]
    )


def server_source(rng: random.Random, index: int) -> str:
    thing = _name(rng)
    module = f"Shop.{_camel(thing)}Server{index}"
    return "\n".join(
        [
            f"defmodule {module} do",
            '  @moduledoc """',
            f"  Keeps recent {thing}s in memory and flushes them every few seconds.",
            '  """',
            "  use GenServer",
            "",
            "  require Logger",
            "",
            "  @flush_every :timer.seconds(5)",
            "",
            '  @doc """',
            "  Starts the server under a supervisor.",
            "",
            f"      iex> {{:ok, pid}} = {module}.start_link(name: nil)",
            "      iex> is_pid(pid)",
            "      true",
            '  """',
            "  @spec start_link(keyword()) :: GenServer.on_start()",
            "  def start_link(opts) do",
            "    name = Keyword.get(opts, :name, __MODULE__)",
            "    GenServer.start_link(__MODULE__, opts, name: name)",
            "  end",
            "",
            "  @impl true",
            "  def init(opts) do",
            "    Process.send_after(self(), :flush, @flush_every)",
            "    {:ok, %{items: [], opts: opts}}",
            "  end",
            "",
            "  @impl true",
            "  def handle_cast({:push, item}, state) do",
            "    {:noreply, %{state | items: [item | state.items]}}",
            "  end",
            "",
            "  @impl true",
            "  def handle_info(:flush, %{items: items} = state) do",
            "    :telemetry.span([:shop, :flush], %{count: length(items)}, fn ->",
            "      {flush(items), %{count: length(items)}}",
            "    end)",
            "",
            "    Process.send_after(self(), :flush, @flush_every)",
            "    {:noreply, %{state | items: []}}",
            "  end",
            "",
            "  defp flush([]), do: :ok",
            "",
            "  defp flush(items) do",
            "    case Shop.Repo.insert_all(Shop.Event, items) do",
            "      {count, _} when count > 0 -> :ok",
            '      _ -> Logger.error("flush wrote nothing", count: length(items))',
            "    end",
            "  end",
            "end",
            "",
        ]
    )


def controller_source(rng: random.Random, index: int) -> str:
    thing = _name(rng)
    ctx = f"Shop.{_camel(thing)}s{index}"
    return "\n".join(
        [
            f"defmodule ShopWeb.{_camel(thing)}{index}Controller do",
            "  use ShopWeb, :controller",
            "",
            f"  alias {ctx}",
            "",
            "  action_fallback ShopWeb.FallbackController",
            "",
            "  @spec show(Plug.Conn.t(), map()) :: Plug.Conn.t() | {:error, :not_found}",
            '  def show(conn, %{"id" => id}) do',
            f"    with {{:ok, {thing}}} <- {_camel(thing)}s{index}.get_{thing}_0(id) do",
            f"      render(conn, :show, {thing}: {thing})",
            "    end",
            "  end",
            "",
            "  @spec index(Plug.Conn.t(), map()) :: Plug.Conn.t()",
            "  def index(conn, params) do",
            '    page = Map.get(params, "page", "1")',
            f"    render(conn, :index, {thing}s: [], page: page)",
            "  end",
            "end",
            "",
        ]
    )


def live_source(rng: random.Random, index: int) -> str:
    thing = _name(rng)
    return "\n".join(
        [
            f"defmodule ShopWeb.{_camel(thing)}{index}Live do",
            "  use ShopWeb, :live_view",
            "",
            "  @impl true",
            "  def mount(_params, _session, socket) do",
            f'    {{:ok, assign(socket, {thing}s: [], query: "")}}',
            "  end",
            "",
            "  @impl true",
            '  def handle_event("search", %{"q" => query}, socket) do',
            f"    {{:noreply, assign(socket, query: query, {thing}s: search(query))}}",
            "  end",
            "",
            "  @impl true",
            "  def render(assigns) do",
            '    ~H"""',
            '    <form phx-submit="search">',
            '      <input name="q" value={@query} />',
            "    </form>",
            "    <ul>",
            f"      <li :for={{item <- @{thing}s}}>{{item.name}}</li>",
            "    </ul>",
            '    """',
            "  end",
            "",
            "  defp search(query), do: Enum.filter([], &String.contains?(&1.name, query))",
            "end",
            "",
        ]
    )


def test_source(index: int, thing: str, functions: int) -> str:
    module = f"Shop.{_camel(thing)}s{index}"
    lines = [
        f"defmodule {module}Test do",
        "  use Shop.DataCase, async: true",
        "",
        f"  alias {module}",
        "",
    ]
    for i in range(functions):
        lines += [
            f'  describe "function {i}" do',
            f'    test "returns the {thing} when it exists" do',
            f"      {thing} = insert(:{thing})",
            f"      assert {{:ok, found}} = {_camel(thing)}s{index}.call({i}, {thing}.id)",
            f"      assert found.id == {thing}.id",
            "    end",
            "",
            f'    test "returns an error when the {thing} is missing" do',
            f"      assert {{:error, :not_found}} = {_camel(thing)}s{index}.call({i}, -1)",
            "    end",
            "  end",
            "",
        ]
    lines += ["end", ""]
    return "\n".join(lines)


def migration_source(rng: random.Random, index: int) -> str:
    thing = _name(rng)
    if rng.random() < 0.6:
        body = [
            f"    create table(:{thing}s_{index}) do",
            "      add :name, :string, null: false",
            "      add :team_id, references(:teams, on_delete: :delete_all)",
            "",
            "      timestamps()",
            "    end",
            "",
            f"    create index(:{thing}s_{index}, [:team_id])",
        ]
    else:
        body = [
            f"    alter table(:{thing}s) do",
            '      add :status, :string, default: "new"',
            "    end",
            "",
            f"    create index(:{thing}s, [:status])",
        ]
    return "\n".join(
        [
            f"defmodule Shop.Repo.Migrations.Add{_camel(thing)}{index} do",
            "  use Ecto.Migration",
            "",
            "  def change do",
            *body,
            "  end",
            "end",
            "",
        ]
    )


KINDS = (
    (0.55, "lib/shop/contexts_{i}.ex", None),
    (0.14, "lib/shop/schemas/schema_{i}.ex", schema_source),
    (0.08, "lib/shop/servers/server_{i}.ex", server_source),
    (0.10, "lib/shop_web/controllers/controller_{i}.ex", controller_source),
    (0.08, "lib/shop_web/live/live_{i}.ex", live_source),
    (0.05, "priv/repo/migrations/2024{i:010d}_migration_{i}.exs", migration_source),
)
# Share of contexts that have a test file (test/shop/contexts_<i>_test.exs).
TESTED = 0.8


def generate(root: Path, megabytes: float, seed: int = 7) -> int:
    """Write the corpus under `root`; return its size in bytes."""
    rng = random.Random(seed)
    total = 0
    index = 0
    target = int(megabytes * 1_000_000)
    weights = [k[0] for k in KINDS]
    while total < target:
        _, pattern, make = rng.choices(KINDS, weights)[0]
        files: dict[str, str] = {}
        if make is None:
            text, thing, count = context_source(rng, index)
            files[pattern.format(i=index)] = text
            if rng.random() < TESTED:
                files[f"test/shop/contexts_{index}_test.exs"] = test_source(index, thing, count)
        else:
            files[pattern.format(i=index)] = make(rng, index)
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = text.encode()
            path.write_bytes(data)
            total += len(data)
        index += 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--megabytes", type=float, default=5.0)
    args = parser.parse_args()
    size = generate(args.root, args.megabytes)
    print(f"wrote {size:,} bytes of Elixir under {args.root}")


if __name__ == "__main__":
    main()
